#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod axum;
mod jwt;
mod manifest;
mod plugin;
mod store;
mod user;
mod verify;

pub use crate::axum::PluginRejection;
pub use manifest::{AuthAcquire, Manifest};
pub use plugin::{
    ACCESS_TTL, CALLBACK_TTL, ConfigError, HandshakeError, Plugin, PluginBuilder, REFRESH_TTL,
};
pub use qelos_sdk::{Secret, User};
pub use store::{MemoryStore, Registration, RegistrationStore, StoreError};
pub use user::{InvalidUser, parse_user};
pub use verify::{PluginRequest, VerifyError, X_Q_AUTH};

/// Where the manifest is served (plugin-play's path).
pub const MANIFEST_PATH: &str = "/api/play-manifest";
/// Where Qelos registers a tenant.
pub const REGISTER_PATH: &str = "/api/register";
/// Where Qelos refreshes the plugin token (`authAcquire.refreshTokenUrl`).
pub const REFRESH_PATH: &str = "/api/token/refresh";
/// The micro-frontend login callback.
pub const CALLBACK_PATH: &str = "/api/callback";
/// Prefix of the proxied endpoints (`proxyPath`).
pub const PROXY_PATH: &str = "/api/play";
