//! The Qelos API routes of the fake.

/// The administrator API and the routes next to it.
pub(crate) mod admin;
pub(crate) mod auth;
pub(crate) mod entities;
/// The plugin gateway, mounted as the fallback after every other `/api` route.
pub(crate) mod plugins;
pub(crate) mod verify;
pub(crate) mod workspaces;
