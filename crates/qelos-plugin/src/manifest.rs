//! The plugin manifest Qelos reads (`GET /api/play-manifest`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `authAcquire` of a manifest: where Qelos refreshes the plugin token and under which keys the
/// plugin answers the pair.
///
/// # Examples
///
/// ```
/// let a = qelos_plugin::AuthAcquire::default();
/// assert_eq!((a.refresh_token_url.as_str(), a.access_token_key.as_str()), ("/api/token/refresh", "access_token"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthAcquire {
    /// Refresh endpoint (relative URLs resolve against `appUrl`).
    pub refresh_token_url: String,
    /// Key of the refresh token in register/refresh answers (default `refresh_token`).
    pub refresh_token_key: String,
    /// Key of the access token (default `access_token`).
    pub access_token_key: String,
}

impl Default for AuthAcquire {
    fn default() -> Self {
        Self {
            refresh_token_url: crate::REFRESH_PATH.to_owned(),
            refresh_token_key: "refresh_token".to_owned(),
            access_token_key: "access_token".to_owned(),
        }
    }
}

/// The plugin manifest JSON, as plugin-play serves it and Qelos reads it when a plugin is
/// created from a `manifestUrl`. Relative URLs resolve against `appUrl` on the Qelos side.
///
/// # Examples
///
/// ```
/// use qelos_plugin::Manifest;
/// let m = Manifest::new("todo", "https://plugin.example.com");
/// let json = serde_json::to_value(&m)?;
/// assert_eq!(json["apiPath"], "todo");
/// assert_eq!(json["proxyUrl"], "https://plugin.example.com/api/play");
/// assert_eq!(json["registerUrl"], "/api/register");
/// assert_eq!(json["authAcquire"]["refreshTokenKey"], "refresh_token");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Manifest {
    /// Plugin name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Where the plugin runs (origin, no trailing slash).
    pub app_url: String,
    /// The path segment Qelos proxies: `/api/on/<apiPath>/…` and `/api/<apiPath>/…`.
    pub api_path: String,
    /// Where this manifest is served.
    pub manifest_url: String,
    /// Qelos posts `{username,password,appUrl}` here (omitted with a static token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_url: Option<String>,
    /// The micro-frontend login callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Path prefix of the proxied endpoints on the plugin.
    pub proxy_path: String,
    /// Absolute URL the proxy forwards to (`appUrl + proxyPath`).
    pub proxy_url: String,
    /// Token refresh settings (omitted with a static token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_acquire: Option<AuthAcquire>,
    /// Event hooks (`{source,kind,eventName,hookUrl}`).
    #[serde(default)]
    pub subscribed_events: Vec<Value>,
    /// Nav-bar groups.
    #[serde(default)]
    pub nav_bar_groups: Vec<Value>,
    /// Micro-frontends.
    #[serde(default)]
    pub micro_frontends: Vec<Value>,
    /// Injectables.
    #[serde(default)]
    pub injectables: Vec<Value>,
    /// CRUDs.
    #[serde(default)]
    pub cruds: Vec<Value>,
}

impl Manifest {
    /// A manifest for `name` (also the `apiPath`) served from `app_url`, with plugin-play's
    /// default paths and the default [`AuthAcquire`].
    pub fn new(name: &str, app_url: &str) -> Self {
        let app_url = app_url.trim_end_matches('/').to_owned();
        Self {
            name: name.to_owned(),
            description: String::new(),
            api_path: name.replace(['/', '\\'], ":"),
            manifest_url: crate::MANIFEST_PATH.to_owned(),
            register_url: Some(crate::REGISTER_PATH.to_owned()),
            callback_url: Some(crate::CALLBACK_PATH.to_owned()),
            proxy_path: crate::PROXY_PATH.to_owned(),
            proxy_url: format!("{app_url}{}", crate::PROXY_PATH),
            auth_acquire: Some(AuthAcquire::default()),
            app_url,
            subscribed_events: Vec::new(),
            nav_bar_groups: Vec::new(),
            micro_frontends: Vec::new(),
            injectables: Vec::new(),
            cruds: Vec::new(),
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.to_owned();
        self
    }

    /// Sets the `apiPath` (`/` and `\` become `:`, as Qelos stores it).
    #[must_use]
    pub fn api_path(mut self, api_path: &str) -> Self {
        self.api_path = api_path.replace(['/', '\\'], ":");
        self
    }

    /// Sets the proxy path (and `proxyUrl = appUrl + path`).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = qelos_plugin::Manifest::new("todo", "https://p.example.com/")
    ///     .api_path("todo/v2")
    ///     .proxy_path("/proxy")
    ///     .description("Todo lists");
    /// assert_eq!(m.api_path, "todo:v2");
    /// assert_eq!(m.proxy_url, "https://p.example.com/proxy");
    /// ```
    #[must_use]
    pub fn proxy_path(mut self, path: &str) -> Self {
        self.proxy_path = path.to_owned();
        self.proxy_url = format!("{}{path}", self.app_url);
        self
    }
}
