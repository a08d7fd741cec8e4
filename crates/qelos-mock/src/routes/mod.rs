//! The Qelos API routes of the fake.

pub(crate) mod auth;
pub(crate) mod entities;
/// The plugin gateway, mounted as the fallback after every other `/api` route.
pub(crate) mod plugins;
pub(crate) mod verify;
pub(crate) mod workspaces;
