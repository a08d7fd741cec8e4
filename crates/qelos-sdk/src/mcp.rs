//! MCP authorisation (OAuth 2.1 authorisation code + PKCE against Qelos's auth service):
//! the authorize URL an MCP client opens, and the exchange of the code it gets back
//! (`authentication.getMcpAuthorizeUrl` / `exchangeMcpAuthorizationCode` in the official SDK).
//!
//! ```no_run
//! use qelos_sdk::mcp::{McpAuthorize, McpTokenExchange};
//! use qelos_sdk::{Auth, Secret};
//! # async fn run(qelos: qelos_sdk::QelosSdk, code: Secret, verifier: Secret) -> Result<(), qelos_sdk::Error> {
//! let url = qelos.mcp_authorize_url(
//!     &McpAuthorize::new("https://client.example/callback")
//!         .state("csrf-1")
//!         .code_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256"),
//! );
//! // ... the user signs in and consents; the client receives `?code=…&state=csrf-1` ...
//! let session = qelos
//!     .exchange_mcp_authorization_code(&McpTokenExchange::new(code, "https://client.example/callback", verifier))
//!     .await?;
//! let sdk = qelos.with_auth(Auth::OAuth(session.tokens), None);
//! # let _ = (url, sdk); Ok(()) }
//! ```

use std::fmt;

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde::Deserialize;

use crate::client::{Call, Payload, QelosSdk};
use crate::error::Error;
use crate::models::User;
use crate::secret::{Secret, TokenPair};

/// The query of `GET /api/auth/mcp/authorize` (`McpAuthorizeOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct McpAuthorize {
    /// Where Qelos sends the code (must be permitted by the tenant's MCP configuration or the
    /// registered client).
    pub redirect_uri: String,
    /// The client's CSRF state, returned with the code.
    pub state: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// `S256` or `plain`.
    pub code_challenge_method: Option<String>,
    /// A registered client's id.
    pub client_id: Option<String>,
}

impl McpAuthorize {
    /// An authorize request that returns to `redirect_uri`.
    pub fn new(redirect_uri: impl Into<String>) -> Self {
        Self {
            redirect_uri: redirect_uri.into(),
            ..Self::default()
        }
    }
    /// Sets the state.
    #[must_use]
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }
    /// Sets the PKCE challenge and its method (`S256` or `plain`).
    #[must_use]
    pub fn code_challenge(
        mut self,
        challenge: impl Into<String>,
        method: impl Into<String>,
    ) -> Self {
        self.code_challenge = Some(challenge.into());
        self.code_challenge_method = Some(method.into());
        self
    }
    /// Sets the client id.
    #[must_use]
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }
}

/// The code exchange of `POST /api/auth/mcp/token` (`McpTokenExchangeOptions`). `Debug`
/// redacts the code and the verifier.
#[derive(Clone)]
#[non_exhaustive]
pub struct McpTokenExchange {
    /// The authorisation code.
    pub code: Secret,
    /// The redirect URI of the authorize request.
    pub redirect_uri: String,
    /// The PKCE verifier.
    pub code_verifier: Secret,
}

impl McpTokenExchange {
    /// An exchange of `code` with its redirect URI and PKCE verifier.
    pub fn new(code: Secret, redirect_uri: impl Into<String>, code_verifier: Secret) -> Self {
        Self {
            code,
            redirect_uri: redirect_uri.into(),
            code_verifier,
        }
    }
}

impl fmt::Debug for McpTokenExchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpTokenExchange")
            .field("code", &"***")
            .field("redirect_uri", &self.redirect_uri)
            .field("code_verifier", &"***")
            .finish()
    }
}

/// The result of [`QelosSdk::exchange_mcp_authorization_code`] (`McpTokenExchangeResult`).
/// `Debug` redacts the tokens.
#[derive(Clone, Debug)]
pub struct McpSession {
    /// The access and refresh tokens (for [`Auth::OAuth`](crate::Auth::OAuth)).
    pub tokens: TokenPair,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The signed-in user (`GET /api/me` with the new access token).
    pub user: User,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: u64,
}

impl QelosSdk {
    /// The URL an MCP client opens to start authorisation:
    /// `<app>/api/auth/mcp/authorize?redirect_uri=…&state=…&code_challenge=…&code_challenge_method=…&client_id=…`.
    pub fn mcp_authorize_url(&self, request: &McpAuthorize) -> url::Url {
        let mut url = self.app_url().clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/api/auth/mcp/authorize"));
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("redirect_uri", &request.redirect_uri);
            for (k, v) in [
                ("state", &request.state),
                ("code_challenge", &request.code_challenge),
                ("code_challenge_method", &request.code_challenge_method),
                ("client_id", &request.client_id),
            ] {
                if let Some(v) = v {
                    q.append_pair(k, v);
                }
            }
        }
        url
    }

    /// `POST /api/auth/mcp/token` (form: `grant_type=authorization_code`, `code`,
    /// `redirect_uri`, `code_verifier`; without this instance's credentials), then `GET
    /// /api/me` with the new access token. This instance is not changed: build one for the
    /// session with [`with_auth`](Self::with_auth).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `invalid_grant` (unknown, used or mismatched code, wrong verifier),
    /// `invalid_request`, `unsupported_grant_type`; 503 when MCP is not enabled for the tenant;
    /// network, timeout and decode errors.
    pub async fn exchange_mcp_authorization_code(
        &self,
        exchange: &McpTokenExchange,
    ) -> Result<McpSession, Error> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", exchange.code.expose()),
            ("redirect_uri", exchange.redirect_uri.as_str()),
            ("code_verifier", exchange.code_verifier.expose()),
        ])
        .map_err(|e| Error::Encode(e.to_string()))?;
        let mut call = Call::new(Method::POST, "/api/auth/mcp/token");
        call.body = Payload::Bytes(
            form.into(),
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let answer: TokenAnswer = self.send_plain(call).await?.json()?;
        let access = Secret::from(answer.access_token);
        let mut me = Call::new(Method::GET, "/api/me");
        me.bearer = Some(&access);
        let mut user: User = self.send_plain(me).await?.json()?;
        user.decode_names();
        Ok(McpSession {
            tokens: TokenPair::new(Some(access), answer.refresh_token.map(Secret::from)),
            expires_in: answer.expires_in,
            user,
        })
    }
}
