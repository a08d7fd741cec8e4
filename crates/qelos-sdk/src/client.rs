//! The client: construction, auth modes, the request machinery and refresh.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Either};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::answer::Answer;
use crate::error::Error;
use crate::secret::{Secret, TokenPair};

/// Default per-call timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Paths that never carry the instance's credentials and never trigger a refresh.
const NO_AUTH: [&str; 4] = [
    "/api/signin",
    "/api/signup",
    "/api/token/refresh",
    "/api/auth/callback",
];

/// How an instance authenticates; fixed for the instance's lifetime. `Debug` redacts.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// Forward this raw `Cookie` header value (the `qlt_…` session cookie) on every call.
    CookieSession(Secret),
    /// `Authorization: Bearer <access>`; on a 401, refresh once and retry.
    OAuth(TokenPair),
    /// `x-api-key: <token>` on every call; never refreshes.
    ApiToken(Secret),
}

/// The kind of [`Auth`] an instance uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthKind {
    /// No credentials.
    None,
    /// Session cookie.
    CookieSession,
    /// OAuth bearer pair.
    OAuth,
    /// API token.
    ApiToken,
}

/// Hooks an integrator plugs in: who performs a refresh, who hears about new tokens and about
/// Qelos's own `Set-Cookie` headers. Every method has a default.
///
/// `refresh` and `on_tokens` run while the instance's refresh lock is held: they may call the
/// stateless [`QelosSdk::exchange_tokens`], but must not call [`QelosSdk::refresh_token`] or
/// make authenticated calls on the same instance (that would wait on itself).
///
/// # Examples
///
/// ```
/// use qelos_sdk::{SessionHooks, TokenPair};
/// struct Log;
/// impl SessionHooks for Log {
///     fn on_tokens(&self, _tokens: &TokenPair) { tracing::info!("tokens rotated"); }
/// }
/// ```
pub trait SessionHooks: Send + Sync + 'static {
    /// Obtains a fresh pair after a 401 in OAuth mode. Default: [`QelosSdk::exchange_tokens`].
    fn refresh<'a>(
        &'a self,
        sdk: &'a QelosSdk,
        current: &'a TokenPair,
    ) -> BoxFuture<'a, Result<TokenPair, Error>> {
        Box::pin(sdk.exchange_tokens(current))
    }
    /// Called after the SDK stored a new pair.
    fn on_tokens(&self, _tokens: &TokenPair) {}
    /// Called with the `Set-Cookie` values of every API response that has any (not for
    /// sign-in, logout and callback calls, whose results return them).
    fn on_set_cookie(&self, _set_cookie: &[String]) {}
}

struct Shared {
    client: reqwest::Client,
    app_url: url::Url,
    timeout: Duration,
    headers: HeaderMap,
}

struct State {
    auth: Auth,
    /// Headers set after build ([`QelosSdk::set_custom_header`]); shared by clones.
    custom_headers: RwLock<HeaderMap>,
    tokens: Mutex<TokenState>,
    /// Held while a refresh runs: the per-instance single flight.
    refresh_lock: tokio::sync::Mutex<()>,
    hooks: Option<Arc<dyn SessionHooks>>,
}

/// The current pair and what the last refresh did, read and written together.
#[derive(Default)]
struct TokenState {
    pair: TokenPair,
    /// Refreshes completed on this instance (successful or not).
    attempts: u64,
    /// The error of the last refresh, if it failed.
    last_failure: Option<Error>,
}

/// The tokens a call was sent with, and how many refreshes had completed by then.
#[derive(Clone)]
struct Snapshot {
    pair: TokenPair,
    attempts: u64,
}

/// The Qelos client. Cheap to clone: clones share the HTTP client (one connection pool) and
/// the token state.
///
/// # Examples
///
/// ```no_run
/// use qelos_sdk::{Credentials, QelosSdk};
/// # async fn run() -> Result<(), qelos_sdk::Error> {
/// let anonymous = QelosSdk::builder("http://localhost:3000").build()?;
/// let signed_in = anonymous.oauth_signin(&Credentials::new("test@test.com", "admin")).await?;
/// let sdk = anonymous.with_auth(qelos_sdk::Auth::OAuth(signed_in.tokens), None);
/// let me = sdk.get_logged_in_user().await?;
/// println!("{} has {} workspaces", me.username, sdk.workspaces().list().await?.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct QelosSdk {
    shared: Arc<Shared>,
    state: Arc<State>,
}

impl std::fmt::Debug for QelosSdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QelosSdk")
            .field("app_url", &self.shared.app_url.as_str())
            .field("auth", &self.auth_kind())
            .finish_non_exhaustive()
    }
}

/// A raw answer: status, `Set-Cookie` values, body. Other headers are not kept: no caller
/// reads them, and copying every answer's header map was a per-call cost.
pub(crate) struct Raw {
    pub(crate) status: StatusCode,
    pub(crate) set_cookie: Vec<String>,
    pub(crate) body: Bytes,
}

impl Raw {
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.set_cookie.clone()
    }

    /// Fails with [`Error::Api`] unless 2xx.
    pub(crate) fn ok(self) -> Result<Raw, Error> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(Error::from_body(self.status.as_u16(), &self.body))
        }
    }

    pub(crate) fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let raw = self.ok()?;
        serde_json::from_slice(&raw.body).map_err(|e| Error::decode(raw.status.as_u16(), &e))
    }
}

/// What a call sends as its body.
#[derive(Default)]
pub(crate) enum Payload {
    /// No body.
    #[default]
    None,
    /// A JSON value.
    Json(serde_json::Value),
    /// Bytes with their content type; replayable.
    Bytes(Bytes, HeaderValue),
    /// A one-shot body (a stream) with its content type: taken by the first send, so a call
    /// with it is never retried after a refresh.
    Stream(Mutex<Option<reqwest::Body>>, HeaderValue),
}

/// One call's description.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Payload,
    /// Headers of this call only (after the instance's, before the credentials). Boxed: rare,
    /// and a `Call` lives in every call's future.
    pub(crate) headers: Option<Box<HeaderMap>>,
    /// This call's timeout instead of the instance's.
    pub(crate) timeout: Option<Duration>,
    /// The caller streams the answer: the timeout bounds the wait for the answer's head only.
    pub(crate) streamed: bool,
    /// A bearer token for this call only (sensitive); the instance's credentials are not sent.
    pub(crate) bearer: Option<&'a Secret>,
    /// Hand the answer's `Set-Cookie` values to the hooks (off where the result returns them).
    pub(crate) relay_cookies: bool,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, path: &'a str) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: Payload::None,
            headers: None,
            timeout: None,
            streamed: false,
            bearer: None,
            relay_cookies: true,
        }
    }
    pub(crate) fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Payload::Json(body);
        self
    }
    /// Whether a second send could carry the same body.
    fn replayable(&self) -> bool {
        !matches!(self.body, Payload::Stream(..))
    }
    pub(crate) fn query(mut self, query: Vec<(String, String)>) -> Self {
        self.query = query;
        self
    }
    /// The caller returns this call's `Set-Cookie` values itself.
    pub(crate) fn keep_cookies(mut self) -> Self {
        self.relay_cookies = false;
        self
    }
    /// Whether the instance's credentials go with this call.
    fn carries_credentials(&self) -> bool {
        self.bearer.is_none() && !NO_AUTH.contains(&self.path)
    }
}

impl QelosSdk {
    /// Starts building a client for the Qelos application at `app_url`.
    ///
    /// A Qelos served under a path prefix (a base path) is given by the URL's path: with
    /// `https://host/qelos` every call goes to `https://host/qelos/api/...`. A trailing `/`
    /// makes no difference.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use qelos_sdk::QelosSdk;
    ///
    /// let sdk = QelosSdk::builder("https://host.example.com/qelos/")
    ///     .timeout(Duration::from_secs(5))
    ///     .header("tenant", "t1")
    ///     .build()?;
    /// assert_eq!(sdk.app_url().path(), "/qelos"); // calls go to /qelos/api/...
    /// # Ok::<(), qelos_sdk::Error>(())
    /// ```
    pub fn builder(app_url: impl AsRef<str>) -> QelosSdkBuilder {
        QelosSdkBuilder {
            app_url: app_url.as_ref().to_owned(),
            client: None,
            timeout: DEFAULT_TIMEOUT,
            headers: Vec::new(),
            auth: Auth::None,
            hooks: None,
        }
    }

    /// The Qelos application URL.
    pub fn app_url(&self) -> &url::Url {
        &self.shared.app_url
    }
    /// The shared HTTP client.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.shared.client
    }
    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.shared.timeout
    }
    /// Which kind of credentials this instance uses.
    pub fn auth_kind(&self) -> AuthKind {
        match self.state.auth {
            Auth::None => AuthKind::None,
            Auth::CookieSession(_) => AuthKind::CookieSession,
            Auth::OAuth(_) => AuthKind::OAuth,
            Auth::ApiToken(_) => AuthKind::ApiToken,
        }
    }

    /// A new instance with the same client, options and headers, and new credentials (fresh
    /// token state). Never builds a new HTTP client. The new instance starts with a copy of
    /// this one's custom headers ([`set_custom_header`](Self::set_custom_header)); later
    /// changes on either side do not reach the other.
    pub fn with_auth(&self, auth: Auth, hooks: Option<Arc<dyn SessionHooks>>) -> QelosSdk {
        let custom = self.custom_headers_now();
        QelosSdk {
            shared: Arc::clone(&self.shared),
            state: Arc::new(State::with_headers(auth, hooks, custom)),
        }
    }

    fn custom_headers_now(&self) -> HeaderMap {
        self.state
            .custom_headers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends `name: value` on every later call of this instance and of its clones (the
    /// official SDK's `setCustomHeader`), replacing a header of that name set at build time or
    /// before. Instances made with [`with_auth`](Self::with_auth) afterwards start with a copy.
    /// The credentials (`Authorization`, `Cookie`, `x-api-key` of the auth mode) still win.
    /// Values are marked sensitive (never shown by `Debug`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHeader`] for a name or value a header cannot carry (the value is never
    /// shown).
    ///
    /// # Examples
    ///
    /// ```
    /// let sdk = qelos_sdk::QelosSdk::builder("http://localhost:3000").build()?;
    /// sdk.set_custom_header("tenant", "42")?;
    /// assert_eq!(sdk.custom_header("tenant").as_deref(), Some("42"));
    /// sdk.remove_custom_header("tenant");
    /// assert_eq!(sdk.custom_header("tenant"), None);
    /// # Ok::<(), qelos_sdk::Error>(())
    /// ```
    pub fn set_custom_header(&self, name: &str, value: &str) -> Result<(), Error> {
        let (name, value) = header_pair(name, value)?;
        self.state
            .custom_headers
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name, value);
        Ok(())
    }

    /// Stops sending a header set with [`set_custom_header`](Self::set_custom_header) (the
    /// official SDK's `removeCustomHeader`). Headers given to the builder stay. Unknown or
    /// invalid names are ignored.
    pub fn remove_custom_header(&self, name: &str) {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            self.state
                .custom_headers
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(name);
        }
    }

    /// The value of a header set with [`set_custom_header`](Self::set_custom_header).
    pub fn custom_header(&self, name: &str) -> Option<String> {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        self.state
            .custom_headers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The current tokens (OAuth mode: the latest pair, after refreshes; otherwise empty).
    /// `Debug` of the result is redacted.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_sdk::{QelosSdk, TokenPair};
    /// let pair = TokenPair::new(Some("access".into()), Some("refresh".into()));
    /// let sdk = QelosSdk::builder("http://localhost:3000").oauth(pair.clone()).build()?;
    /// assert_eq!(sdk.tokens(), pair);
    /// # Ok::<(), qelos_sdk::Error>(())
    /// ```
    pub fn tokens(&self) -> TokenPair {
        self.token_state().pair.clone()
    }

    fn token_state(&self) -> std::sync::MutexGuard<'_, TokenState> {
        self.state
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn snapshot(&self) -> Snapshot {
        let state = self.token_state();
        Snapshot {
            pair: state.pair.clone(),
            attempts: state.attempts,
        }
    }

    pub(crate) fn replace_tokens(&self, pair: &TokenPair) {
        self.token_state().pair = pair.clone();
    }

    fn url(&self, path: &str) -> url::Url {
        let mut url = self.shared.app_url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        url
    }

    /// Sends one request once, with the instance's credentials when `with_auth`; answers the
    /// response head and the call's span (the body is read inside it). Not an `async fn`: the
    /// request is built before the returned future exists, so the future holds only what awaits
    /// the answer (it is part of every call's future, and so of every request's).
    fn send_once(
        &self,
        call: &Call<'_>,
        tokens: &TokenPair,
        with_auth: bool,
    ) -> impl Future<Output = Result<(reqwest::Response, tracing::Span), Error>> + use<> {
        let span = if debug_spans() {
            tracing::debug_span!(
                "qelos.request",
                method = %call.method,
                path = call.path,
                status = tracing::field::Empty
            )
        } else {
            tracing::Span::none()
        };
        let prepared = span.in_scope(|| self.prepare(call, tokens, with_auth));
        let head_timeout = if call.streamed && !crate::deadline::bounded_by_caller() {
            Some(call.timeout.unwrap_or(self.shared.timeout))
        } else {
            None
        };
        match prepared {
            Ok(request) => Either::Left(
                dispatch(request, head_timeout)
                    .instrument(span.clone())
                    .map(move |answer| answer.map(|response| (response, span))),
            ),
            Err(err) => Either::Right(std::future::ready(Err(err))),
        }
    }

    /// Builds one request: URL, query, the instance's headers, credentials, timeout, body.
    /// Synchronous, so that nothing of it is kept in the future that awaits the answer.
    fn prepare(
        &self,
        call: &Call<'_>,
        tokens: &TokenPair,
        with_auth: bool,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let mut url = self.url(call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        let mut headers = self.shared.headers.clone();
        {
            let custom = self
                .state
                .custom_headers
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            for (name, value) in custom.iter() {
                headers.insert(name.clone(), value.clone());
            }
        }
        if let Some(own) = &call.headers {
            for (name, value) in own.iter() {
                headers.insert(name.clone(), value.clone());
            }
        }
        if with_auth {
            match &self.state.auth {
                Auth::None => {}
                Auth::CookieSession(cookie) => {
                    insert_secret(&mut headers, "cookie", cookie.expose())?
                }
                Auth::OAuth(_) => {
                    if let Some(access) = &tokens.access {
                        insert_bearer(&mut headers, access)?;
                    }
                }
                Auth::ApiToken(key) => insert_secret(&mut headers, "x-api-key", key.expose())?,
            }
        }
        if let Some(bearer) = call.bearer {
            insert_bearer(&mut headers, bearer)?;
        }
        let mut request = self
            .shared
            .client
            .request(call.method.clone(), url)
            .headers(headers);
        if !call.streamed && !crate::deadline::bounded_by_caller() {
            request = request.timeout(call.timeout.unwrap_or(self.shared.timeout));
        }
        match &call.body {
            Payload::None => {}
            Payload::Json(body) => request = request.json(body),
            Payload::Bytes(bytes, kind) => {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, kind.clone())
                    .body(bytes.clone());
            }
            Payload::Stream(body, kind) => {
                let body = body
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .ok_or_else(|| Error::Encode("a streamed body can be sent once".into()))?;
                request = request
                    .header(reqwest::header::CONTENT_TYPE, kind.clone())
                    .body(body);
            }
        }
        Ok(request)
    }

    /// Sends a request with the instance's credentials (none for the no-auth paths), relays
    /// `Set-Cookie` to the hooks, and in OAuth mode refreshes once on a 401 and retries.
    ///
    /// When the refresh is refused (or there is nothing to refresh with) the call's own 401 is
    /// returned; when Qelos is unavailable during the refresh, that outage is returned.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Raw, Error> {
        let (response, span) = self.send_response(&call).await?;
        read_raw(response).instrument(span).await
    }

    /// [`send`](Self::send) without reading the body: the answer's head and the call's span.
    /// A 401 answered to a call whose body was a stream is returned as is (nothing to resend).
    pub(crate) async fn send_response(
        &self,
        call: &Call<'_>,
    ) -> Result<(reqwest::Response, tracing::Span), Error> {
        let with_auth = call.carries_credentials();
        // `/api/cookie/refresh` is not a refreshable call: an OAuth access token is never valid
        // there, so refreshing would only burn the refresh token.
        let can_refresh = with_auth
            && matches!(self.state.auth, Auth::OAuth(_))
            && call.path != "/api/cookie/refresh";
        let mut used = self.snapshot();
        if can_refresh && used.pair.access.is_none() && used.pair.refresh.is_some() {
            // Only a refresh token: refresh first rather than send a call bound to fail.
            // Refresh and retry paths are boxed: they are rare, and inline they would make
            // every call's future (and every request that awaits one) several times larger.
            Box::pin(self.refresh_single_flight(&used)).await?;
            used = self.snapshot();
        }
        let first = self.send_once(call, &used.pair, with_auth).await?;
        let answer =
            if first.0.status() == StatusCode::UNAUTHORIZED && can_refresh && call.replayable() {
                match Box::pin(self.refresh_single_flight(&used)).await {
                    Ok(()) => {
                        drop(first);
                        let fresh = self.tokens();
                        Box::pin(self.send_once(call, &fresh, true)).await?
                    }
                    Err(e) if e.is_unavailable() => return Err(e),
                    Err(_) => first,
                }
            } else {
                first
            };
        if call.relay_cookies {
            self.relay_cookies(answer.0.headers());
        }
        Ok(answer)
    }

    /// Sends without the instance's credentials (only the call's own bearer, if any), without
    /// refresh, and without relaying cookies (the caller returns them).
    pub(crate) async fn send_plain(&self, call: Call<'_>) -> Result<Raw, Error> {
        let (response, span) = self.send_once(&call, &TokenPair::default(), false).await?;
        read_raw(response).instrument(span).await
    }

    fn relay_cookies(&self, headers: &HeaderMap) {
        if let Some(hooks) = &self.state.hooks {
            let cookies = set_cookies(headers);
            if !cookies.is_empty() {
                hooks.on_set_cookie(&cookies);
            }
        }
    }

    /// Per-instance single flight. A call sent with `used` waits for any refresh in progress;
    /// then, if the tokens changed since it was sent, it just retries with the new ones; if a
    /// refresh of the same tokens failed meanwhile, it shares that failure; otherwise it is the
    /// one call that refreshes.
    async fn refresh_single_flight(&self, used: &Snapshot) -> Result<(), Error> {
        let _flight = self.state.refresh_lock.lock().await;
        let current = {
            let state = self.token_state();
            if state.pair != used.pair {
                return Ok(());
            }
            if state.attempts != used.attempts {
                return match &state.last_failure {
                    Some(e) => Err(e.clone()),
                    None => Ok(()),
                };
            }
            state.pair.clone()
        };
        self.run_refresh(&current).await.map(drop)
    }

    /// Runs one refresh (the hooks' or [`exchange_tokens`](Self::exchange_tokens)) with the
    /// refresh lock held, stores its outcome and tells the hooks.
    async fn run_refresh(&self, current: &TokenPair) -> Result<TokenPair, Error> {
        let outcome = match &self.state.hooks {
            Some(hooks) => hooks.refresh(self, current).await,
            None => self.exchange_tokens(current).await,
        };
        {
            let mut state = self.token_state();
            state.attempts = state.attempts.wrapping_add(1);
            match &outcome {
                Ok(fresh) => {
                    state.pair = fresh.clone();
                    state.last_failure = None;
                }
                Err(e) => state.last_failure = Some(e.clone()),
            }
        }
        match &outcome {
            Ok(_) => tracing::debug!("qelos tokens refreshed"),
            Err(e) => tracing::debug!(error = %e, "qelos token refresh failed"),
        }
        if let (Ok(fresh), Some(hooks)) = (&outcome, &self.state.hooks) {
            hooks.on_tokens(fresh);
        }
        outcome
    }

    /// Refreshes the stored pair now (through the hooks' `refresh` when set), stores the new
    /// pair and calls `on_tokens`. Shares the instance's single flight with the automatic
    /// refresh. Meant for OAuth mode; other modes hold no pair.
    ///
    /// # Errors
    ///
    /// [`Error::NoRefreshToken`] without tokens; [`Error::Api`] 401 when Qelos refuses the
    /// refresh token (for example one that was already used); network, timeout, decode errors.
    pub async fn refresh_token(&self) -> Result<TokenPair, Error> {
        let _flight = self.state.refresh_lock.lock().await;
        let current = self.tokens();
        self.run_refresh(&current).await
    }

    /// Stateless token exchange: with a refresh token, `POST /api/token/refresh` (Bearer refresh)
    /// → the new pair; else with an access token, `POST /api/cookie/refresh` (Bearer access) →
    /// `{payload.cookieToken, None}`. Does not touch this instance's state.
    ///
    /// # Errors
    ///
    /// [`Error::NoRefreshToken`] for an empty pair; [`Error::Api`] 401 when Qelos refuses;
    /// network, timeout and decode errors.
    pub async fn exchange_tokens(&self, current: &TokenPair) -> Result<TokenPair, Error> {
        let (path, bearer, key) = match (&current.refresh, &current.access) {
            (Some(refresh), _) => ("/api/token/refresh", refresh, "token"),
            (None, Some(access)) => ("/api/cookie/refresh", access, "cookieToken"),
            (None, None) => return Err(Error::NoRefreshToken),
        };
        let mut call = Call::new(Method::POST, path);
        call.bearer = Some(bearer);
        let raw = self.send_plain(call).await?.ok()?;
        let status = raw.status.as_u16();
        let v: serde_json::Value = raw.json()?;
        let token = |k: &str| {
            v.get("payload")
                .and_then(|p| p.get(k))
                .and_then(serde_json::Value::as_str)
                .map(Secret::from)
        };
        let access = token(key).ok_or_else(|| Error::Decode {
            status,
            detail: format!("the answer has no payload.{key}"),
        })?;
        let refresh = if key == "token" {
            token("refreshToken")
        } else {
            None
        };
        Ok(TokenPair::new(Some(access), refresh))
    }

    /// GET and decode.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        self.send(Call::new(Method::GET, path)).await?.json()
    }

    /// GET, fail unless 2xx, and leave the decoding (`finish`) to [`Answer::decode`].
    pub(crate) async fn fetch<T>(
        &self,
        path: &str,
        finish: fn(Raw) -> Result<T, Error>,
    ) -> Result<Answer<T>, Error> {
        let raw = self.send(Call::new(Method::GET, path)).await?.ok()?;
        Ok(Answer::new(raw, finish))
    }
}

/// Sends a prepared request and waits for the answer's head (at most `head_timeout` when
/// given). Runs inside the call's span. Not an `async fn`: the future holds the pending answer
/// once, and not the request it was built from.
fn dispatch(
    request: reqwest::RequestBuilder,
    head_timeout: Option<Duration>,
) -> impl Future<Output = Result<reqwest::Response, Error>> {
    let sent = request.send();
    match head_timeout {
        Some(limit) => Either::Left(tokio::time::timeout(limit, sent).map(
            |outcome| match outcome {
                Ok(outcome) => answered(outcome),
                Err(_) => {
                    tracing::debug!("qelos call timed out");
                    Err(Error::Timeout)
                }
            },
        )),
        None => Either::Right(sent.map(answered)),
    }
}

/// The answer's head, or the failure as an [`Error`]; records the status on the call's span.
fn answered(
    outcome: Result<reqwest::Response, reqwest::Error>,
) -> Result<reqwest::Response, Error> {
    let response = outcome.map_err(|e| {
        let err = Error::from_reqwest(e);
        tracing::debug!(error = %err, "qelos call failed");
        err
    })?;
    // Only the call's own span has the field; with debug spans off there is none (and the
    // current span may be the application's).
    if debug_spans() {
        tracing::Span::current().record("status", response.status().as_u16());
    }
    Ok(response)
}

/// The `Set-Cookie` values of an answer.
pub(crate) fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

/// Reads a whole answer. Runs inside the call's span. Not an `async fn`: the answer is held
/// once, by the body read.
fn read_raw(response: reqwest::Response) -> impl Future<Output = Result<Raw, Error>> {
    let status = response.status();
    let set_cookie = set_cookies(response.headers());
    read_body(response).map(move |body| {
        let body = body.map_err(|e| {
            let err = Error::from_reqwest(e);
            tracing::debug!(error = %err, "qelos body failed");
            err
        })?;
        tracing::debug!("qelos answered");
        Ok(Raw {
            status,
            set_cookie,
            body,
        })
    })
}

/// The whole body, chunk by chunk; a body of one chunk (every small JSON answer) is returned
/// without a copy. Written out rather than `Response::bytes`, whose future is several times
/// larger, and this one is part of every call's future.
async fn read_body(mut response: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let mut first: Option<Bytes> = None;
    let mut joined: Option<bytes::BytesMut> = None;
    while let Some(chunk) = response.chunk().await? {
        match (&mut joined, first.take()) {
            (Some(all), _) => all.extend_from_slice(&chunk),
            (None, Some(head)) => {
                let mut all = bytes::BytesMut::with_capacity(head.len() + chunk.len());
                all.extend_from_slice(&head);
                all.extend_from_slice(&chunk);
                joined = Some(all);
            }
            (None, None) => first = Some(chunk),
        }
    }
    Ok(match joined {
        Some(all) => all.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// A checked header name and value; the value is marked sensitive and never shown in errors.
pub(crate) fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::InvalidHeader(format!("bad header name {name:?}")))?;
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| Error::InvalidHeader(format!("bad value for header {name:?}")))?;
    v.set_sensitive(true);
    Ok((n, v))
}

/// `true` when a subscriber may record `debug` spans. The span macros check the same, but when
/// the check fails and no subscriber was ever set, `tracing`'s `log` compatibility (which some
/// web frameworks turn on) still formats every span's fields: a call builds no span then.
fn debug_spans() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    tracing::Level::DEBUG <= STATIC_MAX_LEVEL && tracing::Level::DEBUG <= LevelFilter::current()
}

/// `Authorization: Bearer <token>`, marked sensitive, built without an intermediate `String`.
fn insert_bearer(headers: &mut HeaderMap, token: &Secret) -> Result<(), Error> {
    let token = token.expose();
    let refuse =
        || Error::InvalidHeader("authorization holds characters a header cannot carry".into());
    // `HeaderValue` accepts bytes above 0x7f; a token never has them.
    if !token.is_ascii() {
        return Err(refuse());
    }
    let mut value = Vec::with_capacity(7 + token.len());
    value.extend_from_slice(b"Bearer ");
    value.extend_from_slice(token.as_bytes());
    let mut v = HeaderValue::from_maybe_shared(Bytes::from(value)).map_err(|_| refuse())?;
    v.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, v);
    Ok(())
}

fn insert_secret(headers: &mut HeaderMap, name: &'static str, value: &str) -> Result<(), Error> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::InvalidHeader(format!("{name} holds characters a header cannot carry"))
    })?;
    v.set_sensitive(true);
    headers.insert(HeaderName::from_static(name), v);
    Ok(())
}

/// Checks the application URL: `http(s)`, a host, no credentials, query or fragment. The
/// error text never repeats the URL (it may hold a password).
fn parse_app_url(raw: &str) -> Result<url::Url, Error> {
    let trimmed = raw.trim().trim_end_matches('/');
    let app_url = url::Url::parse(trimmed).map_err(|e| Error::InvalidUrl(e.to_string()))?;
    if !matches!(app_url.scheme(), "http" | "https") {
        return Err(Error::InvalidUrl(format!(
            "unsupported scheme {:?} (http or https)",
            app_url.scheme()
        )));
    }
    if app_url.host_str().is_none_or(str::is_empty) {
        return Err(Error::InvalidUrl("the URL has no host".into()));
    }
    if !app_url.username().is_empty() || app_url.password().is_some() {
        return Err(Error::InvalidUrl(
            "the URL holds credentials; pass them as `Auth` instead".into(),
        ));
    }
    if app_url.query().is_some() || app_url.fragment().is_some() {
        return Err(Error::InvalidUrl(
            "the URL has a query or fragment; give the application's base URL".into(),
        ));
    }
    Ok(app_url)
}

impl State {
    fn new(auth: Auth, hooks: Option<Arc<dyn SessionHooks>>) -> Self {
        Self::with_headers(auth, hooks, HeaderMap::new())
    }

    fn with_headers(
        auth: Auth,
        hooks: Option<Arc<dyn SessionHooks>>,
        custom_headers: HeaderMap,
    ) -> Self {
        let pair = match &auth {
            Auth::OAuth(pair) => pair.clone(),
            _ => TokenPair::default(),
        };
        Self {
            auth,
            custom_headers: RwLock::new(custom_headers),
            tokens: Mutex::new(TokenState {
                pair,
                ..TokenState::default()
            }),
            refresh_lock: tokio::sync::Mutex::new(()),
            hooks,
        }
    }
}

/// Builder for [`QelosSdk`]. Setters never fail; [`build`](Self::build) reports problems.
///
/// The options: [`client`](Self::client), [`timeout`](Self::timeout), [`header`](Self::header),
/// the credentials ([`auth`](Self::auth) and its shortcuts) and [`hooks`](Self::hooks); the
/// base path is the path of the app URL ([`QelosSdk::builder`]). The integrators pass it
/// through their config's `sdk_options`.
#[must_use]
pub struct QelosSdkBuilder {
    app_url: String,
    client: Option<reqwest::Client>,
    timeout: Duration,
    headers: Vec<(String, String)>,
    auth: Auth,
    hooks: Option<Arc<dyn SessionHooks>>,
}

impl std::fmt::Debug for QelosSdkBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only a valid URL is shown: an invalid one may hold credentials.
        let app_url =
            parse_app_url(&self.app_url).map_or_else(|_| "(invalid)".to_owned(), String::from);
        f.debug_struct("QelosSdkBuilder")
            .field("app_url", &app_url)
            .field("timeout", &self.timeout)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl QelosSdkBuilder {
    /// Uses (and shares) this HTTP client instead of building one.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }
    /// Per-call timeout (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// A header sent on every call (for example `tenant`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    /// The credentials.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }
    /// Cookie-session credentials: the raw `Cookie` header to forward.
    pub fn cookie_session(self, cookie_header: impl Into<Secret>) -> Self {
        self.auth(Auth::CookieSession(cookie_header.into()))
    }
    /// OAuth credentials.
    pub fn oauth(self, tokens: TokenPair) -> Self {
        self.auth(Auth::OAuth(tokens))
    }
    /// API-token credentials.
    pub fn api_token(self, token: impl Into<Secret>) -> Self {
        self.auth(Auth::ApiToken(token.into()))
    }
    /// Session hooks (refresh, token and cookie observers).
    pub fn hooks(mut self, hooks: Arc<dyn SessionHooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// Validates the URL and headers and builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] unless the URL is `http(s)` with a host;
    /// [`Error::TlsNotCompiled`] for an `https` URL in a build without a TLS feature;
    /// [`Error::InvalidHeader`]; [`Error::Network`] if the HTTP client cannot be built.
    pub fn build(self) -> Result<QelosSdk, Error> {
        let app_url = parse_app_url(&self.app_url)?;
        crate::tls::check(&app_url)?;
        let credential = match &self.auth {
            Auth::None | Auth::OAuth(_) => None,
            Auth::CookieSession(c) => Some(("cookie", c)),
            Auth::ApiToken(t) => Some(("x-api-key", t)),
        };
        if let Some((name, secret)) = credential {
            HeaderValue::from_str(secret.expose()).map_err(|_| {
                Error::InvalidHeader(format!("{name} holds characters a header cannot carry"))
            })?;
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::InvalidHeader(format!("bad header name {name:?}")))?;
            let v = HeaderValue::from_str(value)
                .map_err(|_| Error::InvalidHeader(format!("bad value for header {name:?}")))?;
            headers.append(n, v);
        }
        crate::tls::prepare_provider();
        let client = match self.client {
            Some(c) => c,
            // Redirects are not followed: Qelos API calls never redirect, and a redirect to
            // another host would carry `x-api-key` along.
            None => reqwest::Client::builder()
                .pool_idle_timeout(Duration::from_secs(60))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::Network(e.without_url().to_string()))?,
        };
        Ok(QelosSdk {
            shared: Arc::new(Shared {
                client,
                app_url,
                timeout: self.timeout,
                headers,
            }),
            state: Arc::new(State::new(self.auth, self.hooks)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each identifying request boxes two such futures; kept within the allocator's
    /// per-thread cache (up to 1032 bytes in glibc), and not an `async fn` that holds its
    /// argument twice.
    #[test]
    fn a_calls_future_stays_under_one_kib() {
        let sdk = QelosSdk::builder("http://127.0.0.1:9").build().unwrap();
        let me = std::mem::size_of_val(&sdk.get_logged_in_user());
        let workspaces = sdk.workspaces();
        let list = std::mem::size_of_val(&workspaces.list());
        assert!(
            me <= 1024 && list <= 1024,
            "me {me} bytes, list {list} bytes"
        );
    }

    fn answer_in_chunks(chunks: &[&'static str]) -> reqwest::Response {
        let parts: Vec<Result<Bytes, std::io::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from_static(c.as_bytes())))
            .collect();
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(parts));
        reqwest::Response::from(http::Response::new(body))
    }

    #[tokio::test]
    async fn a_body_read_in_several_chunks_arrives_whole_and_in_order() {
        let body = read_body(answer_in_chunks(&["{\"a\":", "", "[1,2", "]}"]))
            .await
            .unwrap();
        assert_eq!(&body[..], b"{\"a\":[1,2]}");
        let one = read_body(answer_in_chunks(&["only"])).await.unwrap();
        assert_eq!(&one[..], b"only");
        let none = read_body(answer_in_chunks(&[])).await.unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn builder_refuses_bad_urls() {
        assert!(matches!(
            QelosSdk::builder("not a url").build(),
            Err(Error::InvalidUrl(_))
        ));
        assert!(matches!(
            QelosSdk::builder("ftp://x").build(),
            Err(Error::InvalidUrl(_))
        ));
        assert!(QelosSdk::builder("http://localhost:3000/").build().is_ok());
    }

    #[test]
    fn builder_refuses_bad_headers() {
        assert!(matches!(
            QelosSdk::builder("http://x").header("te nant", "0").build(),
            Err(Error::InvalidHeader(_))
        ));
    }

    #[test]
    fn with_auth_shares_the_client_and_debug_redacts() {
        let base = QelosSdk::builder("http://x").build().unwrap();
        let sdk = base.with_auth(
            Auth::OAuth(TokenPair::new(
                Some("access-secret".into()),
                Some("refresh-secret".into()),
            )),
            None,
        );
        assert!(Arc::ptr_eq(&base.shared, &sdk.shared));
        assert_eq!(sdk.auth_kind(), AuthKind::OAuth);
        let dbg = format!("{sdk:?} {:?}", sdk.tokens());
        assert!(!dbg.contains("secret"), "{dbg}");
    }

    #[test]
    fn app_urls_are_checked() {
        for bad in [
            "",
            "localhost:3000",
            "file:///etc",
            "http://",
            "http://u:p@host",
            "http://host/?x=1",
            "http://host/#f",
        ] {
            assert!(
                matches!(parse_app_url(bad), Err(Error::InvalidUrl(_))),
                "{bad}"
            );
        }
        assert_eq!(
            parse_app_url(" https://app.example.com/ ")
                .unwrap()
                .as_str(),
            "https://app.example.com/"
        );
    }

    #[test]
    fn credential_headers_are_sensitive() {
        let mut headers = HeaderMap::new();
        insert_secret(&mut headers, "x-api-key", "ql_x").unwrap();
        assert!(headers["x-api-key"].is_sensitive());
        let err = insert_secret(&mut headers, "cookie", "qlt_0=secret\n").unwrap_err();
        assert!(matches!(err, Error::InvalidHeader(_)));
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn urls_join_under_the_app_path() {
        let sdk = QelosSdk::builder("http://x/base/").build().unwrap();
        assert_eq!(sdk.url("/api/me").as_str(), "http://x/base/api/me");
    }
}
