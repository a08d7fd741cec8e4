//! An async client for the [Qelos](https://qelos.io) HTTP API.
//!
//! One [`QelosSdk`] per set of credentials, all sharing one pooled `reqwest::Client`:
//! cookie session, OAuth bearer pair (refreshed on 401, once, single-flight), or API token.
//!
//! # Example
//!
//! ```no_run
//! use qelos_sdk::{Auth, Credentials, EntityQuery, QelosSdk};
//!
//! # async fn run() -> Result<(), qelos_sdk::Error> {
//! let qelos = QelosSdk::builder("http://localhost:3000").build()?;
//! let session = qelos.oauth_signin(&Credentials::new("test@test.com", "admin")).await?;
//! let sdk = qelos.with_auth(Auth::OAuth(session.tokens), None);
//!
//! let me = sdk.get_logged_in_user().await?;
//! let workspaces = sdk.workspaces().list().await?;
//! let products = sdk.entities::<serde_json::Value>("products").list(&EntityQuery::new().limit(10)).await?;
//! println!("{} · {} workspaces · {} products", me.username, workspaces.len(), products.len());
//! # Ok(()) }
//! ```
//!
//! # Errors and secrets
//!
//! [`Error`] separates refusals ([`Error::Api`] with the server's status and message) from
//! outages ([`Error::is_unavailable`]: timeout, network, garbage, 5xx). Errors never contain a
//! token, a URL or response text; [`Secret`], [`TokenPair`] and [`QelosSdk`] redact `Debug`.
//!
//! # Feature flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `rustls` | yes | TLS for `https://` Qelos URLs |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
mod client;
pub mod entities;
mod error;
mod models;
mod secret;
pub mod workspaces;

pub use client::{Auth, AuthKind, DEFAULT_TIMEOUT, QelosSdk, QelosSdkBuilder, SessionHooks};
pub use entities::{Entities, Entity, EntityQuery};
pub use error::Error;
pub use models::{
    ApiTokenInfo, AuthCallback, CookieRefresh, CreatedApiToken, Credentials, Member, NewApiToken,
    NewWorkspace, OAuthSignin, SigninResponse, Signup, User, UserUpdate, Workspace,
};
pub use secret::{Secret, TokenPair};
pub use workspaces::Workspaces;
