//! The plugin manifest Qelos reads (`GET /api/play-manifest`), typed as plugin-play writes it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod parts;

pub use parts::{
    CrudDisplay, CrudEntry, Injectable, MicroFrontend, MicroFrontendComponent, MicroFrontendKind,
    MicroFrontendModal, MicroFrontendRoute, NavBarGroup, NavBarPosition, SubscribedEvent,
};

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

/// The plugin manifest JSON, key for key as plugin-play serves it, and as Qelos reads it when
/// a plugin is created from a `manifestUrl`. Relative URLs resolve against `appUrl`.
///
/// The plugin serves its handshake at the paths named here (`registerUrl`, `callbackUrl`,
/// `authorizeUrl`, `unAuthorizeUrl`, `authAcquire.refreshTokenUrl`, `manifestUrl`; absolute
/// URLs are served at their path), so a manifest with `/auth/register` is served there.
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
/// assert_eq!(json["authorizeUrl"], "/api/authorize");
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
    /// Where a micro-frontend trades its callback token for the `token_<code>` cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    /// Where a micro-frontend drops its cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub un_authorize_url: Option<String>,
    /// Path prefix of the proxied endpoints on the plugin.
    pub proxy_path: String,
    /// Absolute URL the proxy forwards to (`appUrl + proxyPath`).
    pub proxy_url: String,
    /// Event hooks.
    #[serde(default)]
    pub subscribed_events: Vec<SubscribedEvent>,
    /// Nav-bar groups.
    #[serde(default)]
    pub nav_bar_groups: Vec<NavBarGroup>,
    /// Micro-frontends.
    #[serde(default)]
    pub micro_frontends: Vec<MicroFrontend>,
    /// Injectables.
    #[serde(default)]
    pub injectables: Vec<Injectable>,
    /// CRUDs.
    #[serde(default)]
    pub cruds: Vec<CrudEntry>,
    /// Token refresh settings (omitted with a static token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_acquire: Option<AuthAcquire>,
    /// Keys plugin-play does not know, kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
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
            authorize_url: Some(crate::AUTHORIZE_PATH.to_owned()),
            un_authorize_url: Some(crate::UN_AUTHORIZE_PATH.to_owned()),
            proxy_path: crate::PROXY_PATH.to_owned(),
            proxy_url: format!("{app_url}{}", crate::PROXY_PATH),
            auth_acquire: Some(AuthAcquire::default()),
            app_url,
            subscribed_events: Vec::new(),
            nav_bar_groups: Vec::new(),
            micro_frontends: Vec::new(),
            injectables: Vec::new(),
            cruds: Vec::new(),
            extra: serde_json::Map::new(),
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

    /// Sets the handshake URLs (relative to `appUrl`); the plugin serves them there.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = qelos_plugin::Manifest::new("todo", "https://p.example.com")
    ///     .handshake_urls("/auth/register", "/auth/refresh", "/auth/callback");
    /// assert_eq!(m.auth_acquire.map(|a| a.refresh_token_url).as_deref(), Some("/auth/refresh"));
    /// ```
    #[must_use]
    pub fn handshake_urls(mut self, register: &str, refresh: &str, callback: &str) -> Self {
        self.register_url = Some(register.to_owned());
        self.callback_url = Some(callback.to_owned());
        self.auth_acquire
            .get_or_insert_with(AuthAcquire::default)
            .refresh_token_url = refresh.to_owned();
        self
    }

    /// Sets the micro-frontend authorize and un-authorize URLs.
    #[must_use]
    pub fn frontend_auth_urls(mut self, authorize: &str, un_authorize: &str) -> Self {
        self.authorize_url = Some(authorize.to_owned());
        self.un_authorize_url = Some(un_authorize.to_owned());
        self
    }

    /// Adds a micro-frontend (plugin-play's `addMicroFrontend`).
    #[must_use]
    pub fn micro_frontend(mut self, mfe: MicroFrontend) -> Self {
        self.micro_frontends.push(mfe);
        self
    }

    /// Adds a nav-bar group and its micro-frontends, each routed into the group
    /// (plugin-play's `addGroupedMicroFrontends`).
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::{Manifest, MicroFrontend, NavBarGroup, NavBarPosition};
    /// let m = Manifest::new("todo", "https://p.example.com").grouped_micro_frontends(
    ///     NavBarGroup::new("todos", "Todos"),
    ///     [MicroFrontend::iframe("Board", "The board", "/board.html").route("Board", "board", NavBarPosition::Top)],
    /// );
    /// assert_eq!(m.micro_frontends[0].route.as_ref().and_then(|r| r.group.as_deref()), Some("todos"));
    /// ```
    #[must_use]
    pub fn grouped_micro_frontends(
        mut self,
        group: NavBarGroup,
        mfes: impl IntoIterator<Item = MicroFrontend>,
    ) -> Self {
        let key = group.key.clone();
        self.nav_bar_groups.push(group);
        for mut mfe in mfes {
            let route = mfe.route.get_or_insert_with(MicroFrontendRoute::default);
            route.group = Some(key.clone());
            self.micro_frontends.push(mfe);
        }
        self
    }

    /// Adds an injectable (HTML Qelos injects into its pages).
    #[must_use]
    pub fn injectable(mut self, injectable: Injectable) -> Self {
        self.injectables.push(injectable);
        self
    }
}
