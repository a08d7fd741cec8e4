//! The same-origin `/api/**` proxy: browser calls to the app's `/api/...` go to Qelos, so there
//! is no CORS and Qelos's cookies become first-party.
//!
//! Bodies stream both ways on the shared client (nothing is buffered whole), with a size limit
//! and a timeout; hop-by-hop headers are dropped both ways; `Host` is the target's,
//! `X-Forwarded-For/Host/Proto` and `tenanthost` describe the inbound request; the query string
//! and the method (HEAD included) are kept; every upstream `Set-Cookie` gets its `Domain`
//! rewritten to the inbound host. WebSocket upgrades are refused with `501` and a clear message.

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;
use tracing::Instrument as _;

use crate::config::QelosConfig;
use crate::cookies;

/// Default largest request body forwarded (bigger ones get 413).
pub const DEFAULT_BODY_LIMIT: u64 = 64 * 1024 * 1024;
/// Default time allowed until the upstream answers with its headers.
pub const DEFAULT_PROXY_TIMEOUT: Duration = Duration::from_secs(30);

/// Headers that describe one connection, not the message; never forwarded either way.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Where the proxy sends requests.
#[derive(Clone, Debug)]
enum Target {
    Url(url::Url),
    NotConfigured,
    Bad(String),
}

/// The `/api/**` proxy. Build one per application and share it (cheap `Clone`).
///
/// # Examples
///
/// ```no_run
/// use qelos_integrator_core::{QelosConfig, proxy::{Proxy, Inbound}};
/// # async fn run(req: http::Request<http_body_util::Full<bytes::Bytes>>) -> Result<(), Box<dyn std::error::Error>> {
/// let proxy = Proxy::new(&QelosConfig::builder("http://localhost:3000").build()?);
/// let response = proxy.forward(req, Inbound::default()).await;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Proxy {
    integrator: Option<crate::pipeline::Integrator>,
    client: reqwest::Client,
    target: Target,
    body_limit: u64,
    timeout: Duration,
    cross_site: crate::cross_site::CrossSitePolicy,
    cross_site_mode: crate::cross_site::ProxyCrossSite,
    /// One "proxy upstream error" warning per interval during an outage.
    outages: std::sync::Arc<crate::observe::Throttle>,
}

/// What the proxy knows about the inbound connection, for `X-Forwarded-*`.
#[derive(Clone, Debug, Default)]
pub struct Inbound {
    /// The client's address.
    pub peer: Option<IpAddr>,
    /// `true` when the inbound connection was TLS (`X-Forwarded-Proto: https`). Without TLS,
    /// the `X-Forwarded-Proto` a proxy in front of the app reported is kept.
    pub https: bool,
}

impl Inbound {
    /// The connection from `peer`, over TLS when `https`.
    pub fn new(peer: Option<IpAddr>, https: bool) -> Self {
        Self { peer, https }
    }
}

/// The body of a proxied response: the upstream body, streamed.
pub type ProxyBody = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;

impl Proxy {
    /// A proxy to the config's [`proxy_target`](crate::QelosConfigBuilder::proxy_target), else
    /// the target chosen by the environment (`QELOS_PROXY_TARGET`, then `QELOS_IP`, then
    /// `QELOS_API_IP`; blank values ignored), else the config's `app_url`, on the config's shared
    /// client, with the config's proxy timeout and body limit.
    pub fn new(config: &QelosConfig) -> Self {
        let settings = &config.proxy;
        let from_env = || {
            ["QELOS_PROXY_TARGET", "QELOS_IP", "QELOS_API_IP"]
                .iter()
                .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        };
        let target = match settings.target.as_deref().map(str::trim) {
            Some("") => Target::NotConfigured,
            Some(explicit) => parse_target(explicit),
            None => match from_env() {
                Some(raw) => parse_target(raw.trim()),
                None => Target::Url(config.app_url().clone()),
            },
        };
        Self {
            integrator: None,
            client: config.base_sdk().http_client().clone(),
            target,
            body_limit: settings.body_limit.unwrap_or(DEFAULT_BODY_LIMIT),
            timeout: settings.timeout.unwrap_or(DEFAULT_PROXY_TIMEOUT),
            cross_site: config.cross_site_policy().clone(),
            cross_site_mode: config.proxy_cross_site(),
            outages: std::sync::Arc::new(crate::observe::Throttle::new(
                crate::observe::OUTAGE_WARN_INTERVAL,
            )),
        }
    }

    /// [`new`](Self::new) for `integrator`'s config, and signed in as the caller: a request
    /// without `Authorization` that carries the integrator's access cookie is forwarded with
    /// `Authorization: Bearer <that token>` (refreshed first when its JWT has expired, with the
    /// rotated cookies written on the response), so pages signed in through the integrator's
    /// login can call Qelos through the proxy. The adapters' `api_proxy()` use this.
    pub fn for_integrator(integrator: &crate::pipeline::Integrator) -> Self {
        Self {
            integrator: Some(integrator.clone()),
            ..Self::new(integrator.config())
        }
    }

    /// A proxy to an explicit target (`None`: not configured, every call answers 503).
    pub fn with_target(config: &QelosConfig, target: Option<&str>) -> Self {
        Self {
            target: target.map_or(Target::NotConfigured, parse_target),
            ..Self::new(config)
        }
    }

    /// Largest request body forwarded (default 64 MiB); larger ones get `413`.
    #[must_use]
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = bytes;
        self
    }

    /// What to do with cross-site requests (default: the config's
    /// [`proxy_cross_site`](crate::QelosConfigBuilder::proxy_cross_site), itself by default
    /// refusing cross-site non-safe methods that carry cookies).
    #[must_use]
    pub fn cross_site(mut self, mode: crate::cross_site::ProxyCrossSite) -> Self {
        self.cross_site_mode = mode;
        self
    }

    /// Time allowed until the upstream's response headers arrive (default 30 s); then `504`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Forwards one request and returns the upstream's response, or a JSON error response:
    /// `503 QELOS_PROXY_NOT_CONFIGURED`, `502 QELOS_PROXY_BAD_TARGET`,
    /// `502 QELOS_PROXY_UPSTREAM_ERROR`, `504 QELOS_PROXY_TIMEOUT`, `413 QELOS_PROXY_BODY_TOO_LARGE`,
    /// `501 QELOS_PROXY_WEBSOCKET_UNSUPPORTED`, `403 CROSS_SITE_REQUEST` (a cross-site
    /// state-changing call the [cross-site policy](crate::cross_site::ProxyCrossSite) refuses;
    /// nothing is forwarded).
    pub async fn forward<B>(&self, request: Request<B>, inbound: Inbound) -> Response<ProxyBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (parts, body) = request.into_parts();
        let stream = body.into_data_stream().map_err(std::io::Error::other);
        self.forward_stream(parts, stream, inbound).await
    }

    /// [`forward`](Self::forward) for frameworks whose bodies are byte streams (actix, rocket).
    pub async fn forward_stream<S>(
        &self,
        mut parts: http::request::Parts,
        body: S,
        inbound: Inbound,
    ) -> Response<ProxyBody>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let has_cookies = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .any(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace));
        let site = crate::cross_site::SiteHeaders::from_headers(&parts.headers);
        if let Err(refusal) =
            self.cross_site_mode
                .check(&self.cross_site, parts.method.as_str(), has_cookies, &site)
        {
            tracing::info!(
                reason = refusal.reason(),
                method = %parts.method,
                "cross-site proxy call refused"
            );
            return refusal.into_response::<String>().map(|body| {
                http_body_util::Full::new(Bytes::from(body))
                    .map_err(|never| match never {})
                    .boxed_unsync()
            });
        }
        let mut set_cookies = Vec::new();
        if let Some(integrator) = &self.integrator
            && let Some((access, cookies)) = integrator.proxy_credentials(&parts).await
        {
            if let Ok(value) = HeaderValue::try_from(format!("Bearer {}", access.expose())) {
                parts.headers.insert(header::AUTHORIZATION, value);
            }
            set_cookies = cookies;
        }
        let mut response = self.send(parts, body, inbound).await;
        crate::observe::metrics::proxy_request(response.status());
        crate::headers::append_set_cookies(response.headers_mut(), set_cookies);
        response
    }

    async fn send<S>(
        &self,
        parts: http::request::Parts,
        body: S,
        inbound: Inbound,
    ) -> Response<ProxyBody>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let base = match &self.target {
            Target::Url(url) => url,
            Target::NotConfigured => {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "QELOS_PROXY_NOT_CONFIGURED",
                    "no Qelos target: set QELOS_PROXY_TARGET or the app URL",
                );
            }
            Target::Bad(why) => {
                return error(StatusCode::BAD_GATEWAY, "QELOS_PROXY_BAD_TARGET", why);
            }
        };
        if is_websocket_upgrade(&parts.headers) {
            return error(
                StatusCode::NOT_IMPLEMENTED,
                "QELOS_PROXY_WEBSOCKET_UNSUPPORTED",
                "WebSocket upgrades are not proxied; connect to Qelos directly",
            );
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.body_limit) {
            return too_large(self.body_limit);
        }
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/", http::uri::PathAndQuery::as_str);
        let mut url = base.clone();
        url.set_path(&join_path(
            base.path(),
            path_and_query.split('?').next().unwrap_or("/"),
        ));
        url.set_query(path_and_query.split_once('?').map(|(_, q)| q));

        let inbound_host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()));
        let headers = upstream_headers(&parts.headers, inbound_host.as_deref(), &inbound);
        let method = parts.method.clone();
        let mut builder = self.client.request(method.clone(), url).headers(headers);
        if method != Method::GET && method != Method::HEAD {
            let limit = self.body_limit;
            let mut seen: u64 = 0;
            let limited = body.map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len() as u64;
                crate::observe::metrics::proxy_bytes("request", chunk.len());
                if seen > limit {
                    Err(std::io::Error::other(BodyTooLarge))
                } else {
                    Ok(chunk)
                }
            });
            builder = builder.body(reqwest::Body::wrap_stream(limited));
        }

        let span = tracing::debug_span!("qelos.proxy", method = %method, path = %parts.uri.path());
        let sent = tokio::time::timeout(self.timeout, builder.send())
            .instrument(span)
            .await;
        let upstream = match sent {
            Err(_) => {
                return error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "QELOS_PROXY_TIMEOUT",
                    "Qelos did not answer in time",
                );
            }
            Ok(Err(err)) if source_is_too_large(&err) => return too_large(self.body_limit),
            Ok(Err(err)) => {
                crate::observe::outage_warn!(self.outages, error = %err.without_url(), "proxy upstream error");
                return error(
                    StatusCode::BAD_GATEWAY,
                    "QELOS_PROXY_UPSTREAM_ERROR",
                    "could not reach Qelos",
                );
            }
            Ok(Ok(resp)) => resp,
        };

        let mut response = Response::builder().status(upstream.status());
        if let Some(h) = response.headers_mut() {
            copy_response_headers(upstream.headers(), h, inbound_host.as_deref());
        }
        let stream = upstream
            .bytes_stream()
            .inspect_ok(|chunk| crate::observe::metrics::proxy_bytes("response", chunk.len()))
            .map_err(|e| std::io::Error::other(e.without_url()));
        let body = http_body_util::StreamBody::new(stream.map_ok(http_body::Frame::data));
        response
            .body(BodyExt::boxed_unsync(body))
            .unwrap_or_else(|_| {
                error(
                    StatusCode::BAD_GATEWAY,
                    "QELOS_PROXY_UPSTREAM_ERROR",
                    "invalid upstream response",
                )
            })
    }
}

impl Proxy {
    /// [`forward_stream`](Self::forward_stream) for frameworks with their own request types
    /// (actix and rocket use `http` 0.2): the method, the path with query, and the raw headers.
    /// A method, URI or header that is not valid HTTP answers `400 QELOS_PROXY_BAD_REQUEST`.
    pub async fn forward_raw<'h, S, H>(
        &self,
        method: &str,
        path_and_query: &str,
        headers: H,
        body: S,
        inbound: Inbound,
    ) -> Response<ProxyBody>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
        H: IntoIterator<Item = (&'h str, &'h [u8])>,
    {
        let mut request = Request::builder().method(method).uri(path_and_query);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        match request.body(()) {
            Ok(request) => {
                self.forward_stream(request.into_parts().0, body, inbound)
                    .await
            }
            Err(_) => error(
                StatusCode::BAD_REQUEST,
                "QELOS_PROXY_BAD_REQUEST",
                "the request could not be forwarded: invalid method, URI or header",
            ),
        }
    }
}

/// The sending half of [`body_channel`].
#[derive(Debug)]
pub struct BodySender(tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>);

impl BodySender {
    /// Sends one chunk; waits while the proxy is behind (backpressure). `false` once the proxy
    /// stopped reading (the upstream failed or answered): stop sending.
    pub async fn send(&self, chunk: Result<Bytes, std::io::Error>) -> bool {
        self.0.send(chunk).await.is_ok()
    }

    /// Sends every chunk of `body` (errors as `io::Error`s), until it ends or the proxy stops
    /// reading: the pump of [`body_channel`], run in a local task or joined with the call.
    pub async fn pump<S, E>(self, body: S)
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            if !self.send(chunk.map_err(std::io::Error::other)).await {
                break;
            }
        }
    }
}

/// Chunks of a request body in flight in a [`body_channel`].
const BODY_CHUNKS_IN_FLIGHT: usize = 8;

/// A bounded channel that carries a request body to the proxy, for frameworks whose body
/// streams are not `Send + 'static` (actix's payload, rocket's data): one task pumps the
/// framework's stream into the [`BodySender`] ([`BodySender::pump`]) while the proxy reads the
/// returned stream. At most eight chunks are in flight, so memory does not grow with the body
/// size.
pub fn body_channel() -> (
    BodySender,
    impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(BODY_CHUNKS_IN_FLIGHT);
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    (BodySender(tx), stream)
}

/// A proxied response body as a stream of byte chunks (for frameworks that take streams; it is
/// `Sync` too, for frameworks that ask for it).
pub fn body_stream(
    body: ProxyBody,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + Sync + 'static {
    SyncStream(std::sync::Mutex::new(body.into_data_stream()))
}

/// A stream that is `Sync` because it is only ever polled through `&mut` (the mutex is never
/// locked: [`std::sync::Mutex::get_mut`] needs no lock).
struct SyncStream<S>(std::sync::Mutex<S>);

impl<S: Stream + Unpin> Stream for SyncStream<S> {
    type Item = S::Item;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        let inner = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::pin::Pin::new(inner).poll_next(cx)
    }
}

#[derive(Debug)]
struct BodyTooLarge;

impl std::fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body exceeds the proxy limit")
    }
}

impl std::error::Error for BodyTooLarge {}

fn source_is_too_large(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<BodyTooLarge>().is_some() {
            return true;
        }
        current = e.source();
    }
    false
}

fn parse_target(raw: &str) -> Target {
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("http://{raw}")
    };
    match url::Url::parse(&with_scheme) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Target::Url(url)
        }
        Ok(_) => Target::Bad("the proxy target must be an http(s) URL with a host".into()),
        Err(e) => Target::Bad(format!("the proxy target is not a URL: {e}")),
    }
}

fn join_path(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    format!("{base}{path}")
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Headers named in `Connection` are hop-by-hop too.
fn connection_listed(headers: &HeaderMap) -> Vec<HeaderName> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect()
}

fn is_hop_by_hop(name: &HeaderName, listed: &[HeaderName]) -> bool {
    HOP_BY_HOP.contains(&name.as_str()) || listed.contains(name)
}

/// The request headers sent upstream.
///
/// # Examples
///
/// ```
/// use http::HeaderMap;
/// use qelos_integrator_core::adapter::{Inbound, upstream_headers};
/// let mut inbound = HeaderMap::new();
/// inbound.insert("host", "app.example.com".parse().unwrap());
/// inbound.insert("connection", "keep-alive, x-private".parse().unwrap());
/// inbound.insert("x-private", "1".parse().unwrap());
/// inbound.insert("accept", "application/json".parse().unwrap());
/// let out = upstream_headers(&inbound, Some("app.example.com"), &Inbound::default());
/// assert!(out.get("connection").is_none() && out.get("x-private").is_none() && out.get("host").is_none());
/// assert_eq!(out["x-forwarded-host"], "app.example.com");
/// assert_eq!(out["tenanthost"], "app.example.com");
/// assert_eq!(out["accept"], "application/json");
/// ```
pub fn upstream_headers(inbound: &HeaderMap, host: Option<&str>, conn: &Inbound) -> HeaderMap {
    let listed = connection_listed(inbound);
    let mut out = HeaderMap::with_capacity(inbound.len() + 4);
    for (name, value) in inbound {
        if is_hop_by_hop(name, &listed) || name == header::CONTENT_LENGTH {
            continue;
        }
        if matches!(
            name.as_str(),
            "x-forwarded-for" | "x-forwarded-host" | "x-forwarded-proto" | "tenanthost"
        ) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    // Keep the declared length so upstream sees a sized body (the stream is bounded by it).
    if let Some(len) = inbound.get(header::CONTENT_LENGTH) {
        out.insert(header::CONTENT_LENGTH, len.clone());
    }
    let prior_for = inbound
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let forwarded_for = match (prior_for, conn.peer) {
        (Some(prior), Some(peer)) => Some(format!("{prior}, {peer}")),
        (Some(prior), None) => Some(prior),
        (None, Some(peer)) => Some(peer.to_string()),
        (None, None) => None,
    };
    if let Some(value) = forwarded_for.and_then(|v| HeaderValue::try_from(v).ok()) {
        out.insert("x-forwarded-for", value);
    }
    if let Some(value) = host.and_then(|h| HeaderValue::try_from(h).ok()) {
        out.insert("x-forwarded-host", value.clone());
        out.insert("tenanthost", value);
    }
    out.insert(
        "x-forwarded-proto",
        HeaderValue::from_static(forwarded_proto(inbound, conn)),
    );
    out
}

/// The one `X-Forwarded-Proto` rule, the same in every adapter: `https` when the connection to
/// the app was TLS; otherwise what a proxy in front of the app reported (the first value of its
/// `X-Forwarded-Proto`, when it is `http` or `https`), as `X-Forwarded-For` keeps the chain;
/// otherwise `http`.
fn forwarded_proto(inbound: &HeaderMap, conn: &Inbound) -> &'static str {
    if conn.https {
        return "https";
    }
    let reported = inbound
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim);
    match reported {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    }
}

fn copy_response_headers(upstream: &HeaderMap, out: &mut HeaderMap, inbound_host: Option<&str>) {
    let listed = connection_listed(upstream);
    let domain = inbound_host.and_then(cookies::cookie_domain);
    for (name, value) in upstream {
        if is_hop_by_hop(name, &listed) {
            continue;
        }
        if name == header::SET_COOKIE {
            if let Ok(text) = value.to_str() {
                let rewritten = cookies::rewrite_domain(text, domain.as_deref());
                if let Ok(v) = HeaderValue::try_from(rewritten) {
                    out.append(header::SET_COOKIE, v);
                }
            }
            continue;
        }
        out.append(name.clone(), value.clone());
    }
}

fn too_large(limit: u64) -> Response<ProxyBody> {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "QELOS_PROXY_BODY_TOO_LARGE",
        &format!("the request body exceeds the proxy limit of {limit} bytes"),
    )
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    let mut response = Response::new(
        http_body_util::Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_without_scheme_default_to_http() {
        assert!(
            matches!(parse_target("10.0.0.5:3000"), Target::Url(u) if u.as_str() == "http://10.0.0.5:3000/")
        );
        assert!(matches!(parse_target("ftp://x"), Target::Bad(_)));
        assert!(matches!(parse_target("http://"), Target::Bad(_)));
    }

    #[test]
    fn paths_join_under_the_target_path() {
        assert_eq!(join_path("/", "/api/me"), "/api/me");
        assert_eq!(join_path("/gateway/", "/api/me"), "/gateway/api/me");
    }

    #[test]
    fn websocket_upgrades_are_detected() {
        let mut h = HeaderMap::new();
        h.insert("upgrade", HeaderValue::from_static("WebSocket"));
        assert!(is_websocket_upgrade(&h));
    }

    #[test]
    fn every_set_cookie_is_rewritten_and_kept_apart() {
        let mut up = HeaderMap::new();
        up.append(
            "set-cookie",
            HeaderValue::from_static("a=1; Domain=q.io; Path=/api"),
        );
        up.append(
            "set-cookie",
            HeaderValue::from_static("b=2; Path=/; Domain=q.io; HttpOnly"),
        );
        up.append("transfer-encoding", HeaderValue::from_static("chunked"));
        let mut out = HeaderMap::new();
        copy_response_headers(&up, &mut out, Some("[::1]:8080"));
        let cookies: Vec<_> = out
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            cookies,
            vec![
                "a=1; Domain=::1; Path=/api",
                "b=2; Path=/; Domain=::1; HttpOnly"
            ]
        );
        assert!(out.get("transfer-encoding").is_none());
    }

    #[test]
    fn cookies_lose_their_domain_without_an_inbound_host() {
        let mut up = HeaderMap::new();
        up.append(
            "set-cookie",
            HeaderValue::from_static("a=1; Domain=q.io; Path=/api"),
        );
        let mut out = HeaderMap::new();
        copy_response_headers(&up, &mut out, None);
        assert_eq!(out["set-cookie"], "a=1; Path=/api");
    }

    #[test]
    fn forwarded_for_appends_the_peer() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("1.1.1.1"));
        let out = upstream_headers(
            &h,
            None,
            &Inbound {
                peer: Some([10, 0, 0, 1].into()),
                https: true,
            },
        );
        assert_eq!(out["x-forwarded-for"], "1.1.1.1, 10.0.0.1");
        assert_eq!(out["x-forwarded-proto"], "https");
    }

    #[test]
    fn x_forwarded_proto_is_https_for_tls_or_a_reporting_front_proxy_and_http_otherwise() {
        let plain = Inbound::default();
        let tls = Inbound {
            peer: None,
            https: true,
        };
        let mut reported = HeaderMap::new();
        reported.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        let mut garbage = HeaderMap::new();
        garbage.insert("x-forwarded-proto", HeaderValue::from_static("gopher"));
        let proto =
            |h: &HeaderMap, c: &Inbound| upstream_headers(h, None, c)["x-forwarded-proto"].clone();
        assert_eq!(proto(&HeaderMap::new(), &plain), "http");
        assert_eq!(proto(&HeaderMap::new(), &tls), "https");
        assert_eq!(proto(&reported, &plain), "https");
        assert_eq!(proto(&garbage, &plain), "http");
        assert_eq!(proto(&garbage, &tls), "https");
    }
}
