//! The Qelos API routes of the fake.

pub(crate) mod auth;
pub(crate) mod entities;
pub(crate) mod verify;
pub(crate) mod workspaces;
// The plugin gateway (`/api/{apiPath}/*` proxying with the plugin token and the `user` header)
// belongs in a module of its own here, mounted as the catch-all after every other `/api` route.
