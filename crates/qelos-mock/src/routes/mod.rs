//! The Qelos API routes of the fake.

pub(crate) mod ai;
pub(crate) mod auth;
pub(crate) mod entities;
/// The plugin gateway, mounted as the fallback after every other `/api` route.
pub(crate) mod plugins;
pub(crate) mod verify;
pub(crate) mod workspaces;

/// The memory of the user-API areas beyond the protocol core, one field per route module.
#[derive(Default)]
pub(crate) struct UserApi {
    pub(crate) ai: ai::AiState,
}
