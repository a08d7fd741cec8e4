//! The plugin gateway: the plugin registry, `/api/on/{apiPath}/*` and `/api/{apiPath}/*`
//! proxying with the plugin token and the `user` header, the register and refresh flows
//! (§7.3–7.4), and the micro-frontend callback (§7.5).

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::me_json;
use super::verify::verify_user;
use crate::MockInner;
use crate::state::{UserRec, sha256_hex};
use crate::util::{message, object_id, tenant};

/// Largest request body the gateway forwards.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// `authAcquire` of a plugin: how the gateway refreshes its token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginAuthAcquire {
    /// Refresh endpoint (relative: resolved against `appUrl`).
    pub refresh_token_url: String,
    /// Key of the refresh token in register/refresh answers (default `refresh_token`).
    #[serde(default)]
    pub refresh_token_key: Option<String>,
    /// Key of the access token (default `access_token`).
    #[serde(default)]
    pub access_token_key: Option<String>,
}

/// A plugin to register with the gateway: the plugin manifest JSON (as Qelos reads it) plus
/// the Qelos-side fields `token` (option A, a static token) and `tenant` (default `"0"`).
/// Relative URLs resolve against `appUrl`. `Debug` redacts the token.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PluginSpec {
    /// Plugin name (the default `apiPath`).
    pub name: String,
    /// The plugin's origin; relative URLs resolve against it.
    #[serde(default)]
    pub app_url: Option<String>,
    /// Path segment the gateway proxies (`/` and `\` become `:`).
    #[serde(default)]
    pub api_path: Option<String>,
    /// Where proxied calls go (its path is prepended to the forwarded path).
    pub proxy_url: String,
    /// Register endpoint (option B).
    #[serde(default)]
    pub register_url: Option<String>,
    /// Micro-frontend login callback.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Refresh settings (option B).
    #[serde(default)]
    pub auth_acquire: Option<PluginAuthAcquire>,
    /// Static plugin token (option A).
    #[serde(default)]
    pub token: Option<String>,
    /// Tenant the plugin belongs to (default `"0"`).
    #[serde(default)]
    pub tenant: Option<String>,
}

impl std::fmt::Debug for PluginSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSpec")
            .field("name", &self.name)
            .field("api_path", &self.api_path)
            .field("proxy_url", &self.proxy_url)
            .field("static_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl PluginSpec {
    /// A plugin named `name` proxied to `proxy_url`.
    pub fn new(name: &str, proxy_url: &str) -> Self {
        Self {
            name: name.to_owned(),
            proxy_url: proxy_url.to_owned(),
            ..Self::default()
        }
    }

    /// From a plugin manifest (the JSON served at `manifestUrl`).
    ///
    /// # Errors
    ///
    /// The manifest lacks `name` or `proxyUrl`.
    pub fn from_manifest(manifest: &Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(manifest.clone())
    }

    /// Option A: a static token.
    #[must_use]
    pub fn static_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// The tenant (default `"0"`).
    #[must_use]
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = Some(tenant.to_owned());
        self
    }
}

/// A registered plugin, resolved.
#[derive(Clone)]
pub(crate) struct PluginRec {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) name: String,
    pub(crate) api_path: String,
    pub(crate) proxy_url: String,
    pub(crate) register_url: Option<String>,
    pub(crate) callback_url: Option<String>,
    pub(crate) refresh_url: Option<String>,
    pub(crate) refresh_key: String,
    pub(crate) access_key: String,
    pub(crate) static_token: Option<String>,
    /// `plugins:<tenant>-<apiPath>:access-token`.
    pub(crate) cached_access: Option<String>,
    /// The `refresh-token-<tenant>-<apiPath>` secret.
    pub(crate) refresh_secret: Option<String>,
}

/// The gateway's plugins, and a lock that makes token acquisition single-flight.
#[derive(Default)]
pub(crate) struct Registry {
    plugins: Mutex<Vec<PluginRec>>,
    token_lock: tokio::sync::Mutex<()>,
}

impl Registry {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<PluginRec>) -> T) -> T {
        f(&mut self.plugins.lock().unwrap_or_else(PoisonError::into_inner))
    }
    fn find(&self, tenant: &str, api_path: &str) -> Option<PluginRec> {
        self.with(|p| {
            p.iter()
                .find(|r| r.tenant == tenant && r.api_path == api_path)
                .cloned()
        })
    }
    fn by_id(&self, id: &str) -> Option<PluginRec> {
        self.with(|p| p.iter().find(|r| r.id == id).cloned())
    }
    fn update(&self, id: &str, f: impl FnOnce(&mut PluginRec)) {
        self.with(|p| {
            if let Some(r) = p.iter_mut().find(|r| r.id == id) {
                f(r);
            }
        });
    }
    /// Unregisters a plugin (the admin API removed it).
    pub(crate) fn remove(&self, id: &str) {
        self.with(|p| p.retain(|r| r.id != id));
    }
    /// Drops the cached access token (the plugin answered `407` / `x-q-auth: unauthorized`).
    pub(crate) fn clear_token(&self, id: &str) {
        self.update(id, |r| r.cached_access = None);
    }
    pub(crate) fn refresh_token(&self, tenant: &str, api_path: &str) -> Option<String> {
        self.find(tenant, api_path).and_then(|r| r.refresh_secret)
    }
    pub(crate) fn cached_token(&self, tenant: &str, api_path: &str) -> Option<String> {
        self.find(tenant, api_path).and_then(|r| r.cached_access)
    }
}

fn resolve(base: Option<&str>, url: &str) -> Result<String, String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        return Ok(url.to_owned());
    }
    if url.starts_with('/') {
        let base = base.ok_or_else(|| format!("relative URL {url} needs appUrl"))?;
        return Ok(format!("{}{url}", base.trim_end_matches('/')));
    }
    Ok(format!("https://{url}"))
}

/// Registers (or replaces, by tenant and apiPath) a plugin; returns its id.
pub(crate) fn add(mock: &MockInner, spec: PluginSpec) -> Result<String, String> {
    if spec.name.trim().is_empty() {
        return Err("plugin name is required".into());
    }
    let base = spec.app_url.as_deref();
    let api_path = spec
        .api_path
        .clone()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| spec.name.clone())
        .replace(['/', '\\'], ":");
    let register_url = spec
        .register_url
        .as_deref()
        .map(|u| resolve(base, u))
        .transpose()?;
    let callback_url = spec
        .callback_url
        .as_deref()
        .map(|u| resolve(base, u))
        .transpose()?;
    let acquire = spec.auth_acquire.clone().unwrap_or_default();
    let refresh_url = Some(acquire.refresh_token_url.as_str())
        .filter(|u| !u.is_empty())
        .map(|u| resolve(base, u))
        .transpose()?;
    if spec.token.is_none() && register_url.is_none() {
        return Err("a plugin needs a static token or a registerUrl".into());
    }
    let tenant = spec.tenant.clone().unwrap_or_else(|| "0".into());
    let rec = PluginRec {
        id: object_id(),
        tenant: tenant.clone(),
        name: spec.name.clone(),
        api_path: api_path.clone(),
        proxy_url: resolve(base, &spec.proxy_url)?,
        register_url,
        callback_url,
        refresh_url,
        refresh_key: acquire
            .refresh_token_key
            .unwrap_or_else(|| "refresh_token".into()),
        access_key: acquire
            .access_token_key
            .unwrap_or_else(|| "access_token".into()),
        static_token: spec.token.filter(|t| !t.is_empty()),
        cached_access: None,
        refresh_secret: None,
    };
    let id = rec.id.clone();
    mock.plugins.with(|p| {
        p.retain(|r| !(r.tenant == tenant && r.api_path == api_path));
        p.push(rec);
    });
    Ok(id)
}

fn count(mock: &MockInner, what: &str, api_path: &str) {
    mock.controls.count(&format!("PLUGIN {what} {api_path}"));
}

/// `(refresh, access)` from a register/refresh answer.
async fn read_pair(
    rec: &PluginRec,
    response: reqwest::Response,
) -> Result<(Option<String>, String), String> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status != reqwest::StatusCode::OK {
        let reason = body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unknown reason");
        return Err(reason.to_owned());
    }
    let access = body
        .get(&rec.access_key)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("no access token in the answer")?;
    let refresh = body
        .get(&rec.refresh_key)
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((refresh, access.to_owned()))
}

/// §7.4: `POST refreshTokenUrl` with the stored refresh token.
async fn refresh(mock: &MockInner, rec: &PluginRec) -> Result<String, String> {
    let (Some(url), Some(secret)) = (&rec.refresh_url, &rec.refresh_secret) else {
        return Err("no refresh token".into());
    };
    count(mock, "refresh", &rec.api_path);
    let response = mock
        .http
        .post(url)
        .header("x-tenant", &rec.tenant)
        .header("x-from", "qelos")
        .header(header::CONTENT_TYPE, "application/json")
        .bearer_auth(secret)
        .send()
        .await
        .map_err(|_| "plugin unreachable".to_owned())?;
    let (refresh, access) = read_pair(rec, response).await?;
    store_pair(mock, rec, refresh, &access);
    Ok(access)
}

fn store_pair(mock: &MockInner, rec: &PluginRec, refresh: Option<String>, access: &str) {
    mock.plugins.update(&rec.id, |r| {
        r.cached_access = Some(access.to_owned());
        if refresh.is_some() {
            r.refresh_secret = refresh;
        }
    });
}

fn url_host(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into())
}

/// §7.3: upsert the plugin's service user, then `POST registerUrl`.
async fn register(mock: &MockInner, rec: &PluginRec) -> Result<String, String> {
    let url = rec
        .register_url
        .clone()
        .ok_or("the plugin has no registerUrl")?;
    count(mock, "register", &rec.api_path);
    // The fake has one address for every tenant: appUrl is the mock itself (reachable by the
    // plugin for its sign-in back), and the service user's domain is that host.
    let app_url = mock.url.clone();
    let username = format!("{}.{}@{}", rec.id, rec.tenant, url_host(&app_url));
    let password = sha256_hex(&format!(
        "{}{}",
        rand::random::<u64>(),
        rand::random::<u64>()
    ));
    {
        let mut db = mock.store.db();
        if let Some(u) = db
            .users
            .iter_mut()
            .find(|u| u.tenant == rec.tenant && u.username == username)
        {
            u.password.clone_from(&password);
        } else {
            db.users.push(UserRec {
                id: object_id(),
                tenant: rec.tenant.clone(),
                username: username.clone(),
                email: username.clone(),
                first_name: rec.name.clone(),
                last_name: String::new(),
                full_name: rec.name.clone(),
                roles: vec!["plugin".into(), "admin".into()],
                password: password.clone(),
                profile_image: None,
                birth_date: None,
                tokens: Vec::new(),
            });
        }
    }
    let response = mock
        .http
        .post(&url)
        .header("x-tenant", &rec.tenant)
        .header("x-from", "qelos")
        .json(&json!({"username": username, "password": password, "appUrl": app_url}))
        .send()
        .await
        .map_err(|_| "plugin unreachable".to_owned())?;
    let (refresh, access) = read_pair(rec, response).await?;
    store_pair(mock, rec, refresh, &access);
    Ok(access)
}

/// §7.2 step 5: cached → static → refresh → register.
async fn token(mock: &MockInner, id: &str) -> Result<String, Response> {
    let _single_flight = mock.plugins.token_lock.lock().await;
    let Some(rec) = mock.plugins.by_id(id) else {
        return Err(message(StatusCode::UNAUTHORIZED, "plugin not exist"));
    };
    if let Some(t) = rec.cached_access.clone().filter(|t| !t.is_empty()) {
        return Ok(t);
    }
    if let Some(t) = rec.static_token.clone() {
        return Ok(t);
    }
    match refresh(mock, &rec).await {
        Ok(t) => return Ok(t),
        Err(reason) => tracing::debug!(%reason, "plugin refresh failed; registering"),
    }
    register(mock, &rec).await.map_err(|reason| {
        message(
            StatusCode::BAD_GATEWAY,
            &format!("could not register to plugin: {reason}"),
        )
    })
}

/// The caller's `/api/me` JSON (`None`: anonymous), and the rotated session cookie, if any.
fn caller(mock: &MockInner, headers: &HeaderMap) -> (Option<Value>, Option<String>) {
    match verify_user(&mock.store, headers) {
        Ok(c) => (
            c.principal.as_ref().map(|p| me_json(&mock.store, p)),
            c.set_cookie,
        ),
        Err(_) => (None, None),
    }
}

fn with_set_cookie(mut response: Response, set_cookie: Option<String>) -> Response {
    if let Some(v) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "te",
    "content-length",
];

/// Fallback of the whole router: proxies `/api/on/{apiPath}/*` and `/api/{apiPath}/*` to a
/// registered plugin; anything else keeps the `404 api not found`.
pub(crate) async fn gateway(State(mock): State<Arc<MockInner>>, request: Request) -> Response {
    let not_found = || message(StatusCode::NOT_FOUND, "api not found");
    let path = request.uri().path().to_owned();
    let (on_prefix, rest) = if let Some(r) = path.strip_prefix("/api/on/") {
        (true, r)
    } else if let Some(r) = path.strip_prefix("/api/") {
        (false, r)
    } else {
        return not_found();
    };
    let (api_path, tail) = match rest.split_once('/') {
        Some((a, t)) => (a, format!("/{t}")),
        None => (rest, String::new()),
    };
    if api_path.is_empty() {
        return not_found();
    }
    let tenant = tenant(request.headers());
    let Some(rec) = mock.plugins.find(&tenant, api_path) else {
        return if on_prefix {
            message(StatusCode::UNAUTHORIZED, "plugin not exist")
        } else {
            not_found()
        };
    };
    count(&mock, "proxy", &rec.api_path);
    let (user, set_cookie) = caller(&mock, request.headers());
    let token = match token(&mock, &rec.id).await {
        Ok(t) => t,
        Err(r) => return with_set_cookie(r, set_cookie),
    };
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let target = format!("{}{tail}{query}", rec.proxy_url.trim_end_matches('/'));
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    let tenant_host = parts
        .headers
        .get(header::HOST)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static(""));
    let mut out = reqwest::header::HeaderMap::new();
    for (name, value) in &parts.headers {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n)
            || matches!(
                n,
                "host" | "cookie" | "authorization" | "user" | "tenant" | "tenanthost"
            )
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    let user_header = user.map(|u| u.to_string()).unwrap_or_default();
    // UTF-8 JSON (Node would reject non-Latin-1 here; the fake sends it as bytes).
    let Ok(user_value) = HeaderValue::from_bytes(user_header.as_bytes()) else {
        return message(StatusCode::BAD_GATEWAY, "user header is not sendable");
    };
    let Ok(bearer) = HeaderValue::from_str(&format!("Bearer {token}")) else {
        return message(StatusCode::BAD_GATEWAY, "plugin token is not sendable");
    };
    let mut bearer = bearer;
    bearer.set_sensitive(true);
    out.insert(header::AUTHORIZATION, bearer);
    out.insert(HeaderName::from_static("user"), user_value);
    if let Ok(t) = HeaderValue::from_str(&tenant) {
        out.insert(HeaderName::from_static("tenant"), t);
    }
    out.insert(HeaderName::from_static("tenanthost"), tenant_host);
    let sent = mock
        .http
        .request(parts.method, &target)
        .headers(out)
        .body(body)
        .send()
        .await;
    let upstream = match sent {
        Ok(r) => r,
        Err(_) => return message(StatusCode::BAD_GATEWAY, "plugin unreachable"),
    };
    let status = upstream.status();
    let unauthorized = status == reqwest::StatusCode::PROXY_AUTHENTICATION_REQUIRED
        || upstream
            .headers()
            .get("x-q-auth")
            .is_some_and(|v| v.as_bytes() == b"unauthorized");
    if unauthorized {
        tracing::debug!(api_path = %rec.api_path, "plugin refused its token; dropping the cache");
        mock.plugins.clear_token(&rec.id);
    }
    let upstream_headers = upstream.headers().clone();
    let mut response = Response::new(Body::from_stream(upstream.bytes_stream()));
    *response.status_mut() = status;
    for (name, value) in &upstream_headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    with_set_cookie(response, set_cookie)
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    #[serde(rename = "returnUrl", default)]
    return_url: String,
}

/// What Qelos answers after the callback attempts: no answer at all → `200` with no body (its
/// handler fails reading it and just ends the response); a body that is not JSON → `500`
/// `<h1>Try Again</h1>`; else `{code, token}` for `Accept: application/json`, or a `302` to
/// the plugin's `returnUrl` or the decoded parameter (`200` with no body when that is not
/// base64).
async fn callback_answer(
    last: Option<reqwest::Response>,
    return_url: &str,
    headers: &HeaderMap,
) -> Response {
    let Some(answer) = last else {
        return StatusCode::OK.into_response();
    };
    let Ok(data) = answer.json::<Value>().await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<h1>Try Again</h1>",
        )
            .into_response();
    };
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/json");
    let target = data
        .get("returnUrl")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            base64::engine::general_purpose::STANDARD
                .decode(return_url.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
        });
    match target {
        _ if wants_json => {
            axum::Json(json!({"code": data.get("code"), "token": data.get("token")}))
                .into_response()
        }
        Some(url) => match HeaderValue::from_str(&url) {
            Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
            Err(_) => StatusCode::OK.into_response(),
        },
        None => StatusCode::OK.into_response(),
    }
}

/// §7.5 `GET /api/plugins/{id}/callback?returnUrl=<base64 URL>`.
pub(crate) async fn callback(
    State(mock): State<Arc<MockInner>>,
    Path(id): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(rec) = mock.plugins.by_id(&id) else {
        return message(StatusCode::NOT_FOUND, "plugin not found");
    };
    let Some(url) = rec.callback_url.clone() else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body><p>Try Again</p></body></html>",
        )
            .into_response();
    };
    let (user, set_cookie) = caller(&mock, &headers);
    let user_header = user.map_or_else(|| "undefined".to_owned(), |u| u.to_string());
    // Qelos tries once, drops the plugin token after a failure or a status >= 400, tries
    // again, and then reads the last answer whatever its status (an anonymous user usually
    // gets a 4xx from the plugin): its `returnUrl`, else the decoded `returnUrl` parameter.
    let mut last = None;
    for attempt in 0..2 {
        let token = match token(&mock, &rec.id).await {
            Ok(t) => t,
            Err(r) => return with_set_cookie(r, set_cookie),
        };
        let sent = mock
            .http
            .get(&url)
            .query(&[("returnUrl", q.return_url.as_str())])
            .header("x-tenant", &rec.tenant)
            .header("x-from", "qelos")
            .header(header::CONTENT_TYPE, "application/json")
            .header("user", &user_header)
            .bearer_auth(&token)
            .send()
            .await
            .ok();
        let good = sent.as_ref().is_some_and(|r| r.status().as_u16() < 400);
        if good || attempt == 1 {
            last = sent;
            break;
        }
        mock.plugins.clear_token(&rec.id);
    }
    let response = callback_answer(last, &q.return_url, &headers).await;
    with_set_cookie(response, set_cookie)
}
