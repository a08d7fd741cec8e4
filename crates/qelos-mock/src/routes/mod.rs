//! The Qelos API routes of the fake.

/// The administrator API and the routes next to it.
pub(crate) mod admin;
pub(crate) mod agents;
pub(crate) mod ai;
pub(crate) mod auth;
pub(crate) mod charts;
pub(crate) mod content;
pub(crate) mod entities;
pub(crate) mod impersonation;
pub(crate) mod invites;
pub(crate) mod lambdas;
pub(crate) mod mcp;
/// The plugin gateway, mounted as the fallback after every other `/api` route.
pub(crate) mod plugins;
pub(crate) mod verify;
pub(crate) mod workspaces;

/// The memory of the user-API areas beyond the protocol core, one field per route module.
#[derive(Default)]
pub(crate) struct UserApi {
    pub(crate) ai: ai::AiState,
    pub(crate) content: content::ContentState,
    pub(crate) invites: invites::InviteState,
    pub(crate) mcp: mcp::McpState,
}
