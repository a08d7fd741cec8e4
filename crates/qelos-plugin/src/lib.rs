#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "actix")]
mod actix;
#[cfg(feature = "axum")]
mod axum;
mod crud;
mod crypto;
mod dispatch;
mod events;
mod frontend;
mod handshake;
mod jwt;
mod manifest;
mod plugin;
#[cfg(feature = "poem")]
mod poem;
#[cfg(feature = "redis")]
mod redis_store;
mod registrations;
mod rejection;
#[cfg(feature = "rocket")]
mod rocket;
mod store;
mod tenant_sdk;
mod user;
mod verify;
#[cfg(feature = "warp")]
mod warp;

#[cfg(feature = "warp")]
pub use crate::warp::{warp_recover, warp_request};
pub use crud::{Crud, CrudError, CrudStore, MemoryCrudStore};
pub use dispatch::PluginRoute;
pub use events::{EventFilter, EventHandler, QelosEvent};
pub use frontend::{COOKIE_PREFIX, FrontendAnswer};
pub use handshake::HandshakeError;
pub use manifest::{
    AuthAcquire, CrudDisplay, CrudEntry, Injectable, Manifest, MicroFrontend,
    MicroFrontendComponent, MicroFrontendKind, MicroFrontendModal, MicroFrontendRoute, NavBarGroup,
    NavBarPosition, SubscribedEvent,
};
pub use plugin::{ACCESS_TTL, CALLBACK_TTL, ConfigError, Plugin, PluginBuilder, REFRESH_TTL};
pub use qelos_sdk;
pub use qelos_sdk::{QelosSdk, Secret, User};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use rejection::PluginRejection;
pub use store::{MemoryStore, Registration, RegistrationStore, StoreError, StoredRegistration};
pub use tenant_sdk::TenantSdkError;
pub use user::{InvalidUser, parse_user};
pub use verify::{PluginRequest, VerifyError, X_Q_AUTH};

/// Where the manifest is served (plugin-play's path).
pub const MANIFEST_PATH: &str = "/api/play-manifest";
/// Where Qelos registers a tenant (default `registerUrl`).
pub const REGISTER_PATH: &str = "/api/register";
/// Where Qelos refreshes the plugin token (default `authAcquire.refreshTokenUrl`).
pub const REFRESH_PATH: &str = "/api/token/refresh";
/// The micro-frontend login callback (default `callbackUrl`).
pub const CALLBACK_PATH: &str = "/api/callback";
/// Where a micro-frontend gets its cookie (default `authorizeUrl`).
pub const AUTHORIZE_PATH: &str = "/api/authorize";
/// Where a micro-frontend drops its cookie (default `unAuthorizeUrl`).
pub const UN_AUTHORIZE_PATH: &str = "/api/un-authorize";
/// Prefix of the event hooks (`/api/hooks/<filter>`).
pub const HOOKS_PATH: &str = "/api/hooks";
/// Prefix of the proxied endpoints (`proxyPath`).
pub const PROXY_PATH: &str = "/api/play";
/// Largest request body the framework glue reads for [`Plugin::handle`] (1 MiB).
pub const MAX_BODY: usize = 1024 * 1024;
