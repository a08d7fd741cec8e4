//! The same-origin front: the `/api/**` proxy and the login, logout and social-login routes.

use bytes::{Buf, Bytes};
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use qelos_integrator_core::Integrator;
use qelos_integrator_core::adapter::{AuthReply, EndpointRequest};
use qelos_integrator_core::adapter::{Inbound, Proxy, body_stream};
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::http::HeaderMap;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::{PeerAddr, Qelos, QelosLayer, qelos};

/// Largest login body read (a form or JSON with a username and password).
const LOGIN_BODY_LIMIT: u64 = 16 * 1024;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn query() -> impl Filter<Extract = (String,), Error = std::convert::Infallible> + Clone {
    warp::query::raw().or(warp::any().map(String::new)).unify()
}

fn respond(reply: AuthReply) -> Response {
    reply.into_response()
}

/// A filter that forwards `/api` and `/api/**` to Qelos (path, query, method, streamed bodies,
/// `X-Forwarded-*`, cookie `Domain` rewritten to the inbound host).
///
/// Put it *last* in the `or` chain, after the app's routes have been recovered into responses
/// (`.recover(recover)`), so the app's own `/api/...` routes win; it never resolves the caller's
/// identity, so forwarded traffic costs no probe.
///
/// # Examples
///
/// ```
/// use warp::{Filter, Reply};
/// use qelos_integrator_warp::{QelosConfig, api_proxy, core::adapter::Proxy, recover};
///
/// # fn routes() -> Result<(), qelos_integrator_warp::ConfigError> {
/// let config = QelosConfig::builder("http://localhost:3000").build()?;
/// let own = warp::path!("api" / "health").map(|| "ours".into_response());
/// let routes = own
///     .recover(recover)
///     .unify()
///     .or(api_proxy(Proxy::new(&config).body_limit(8 << 20)));
/// # let _ = routes; Ok(()) }
/// ```
pub fn api_proxy(
    proxy: Proxy,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path("api")
        .and(warp::method())
        .and(warp::path::full())
        .and(query())
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<PeerAddr>())
        .and(warp::body::stream().map(into_io))
        .then(
            move |method: warp::http::Method,
                  path: FullPath,
                  query: String,
                  headers: HeaderMap,
                  peer: Option<PeerAddr>,
                  body: BoxStream<'static, std::io::Result<Bytes>>| {
                let proxy = proxy.clone();
                async move {
                    let (mut parts, ()) = warp::http::Request::new(()).into_parts();
                    parts.method = method;
                    let uri = if query.is_empty() {
                        path.as_str().to_owned()
                    } else {
                        format!("{}?{query}", path.as_str())
                    };
                    parts.uri = uri.parse().unwrap_or_default();
                    parts.headers = headers;
                    let inbound = Inbound {
                        peer: peer.map(|p| p.0.ip()),
                        https: false,
                    };
                    let (head, body) = proxy
                        .forward_stream(parts, body, inbound)
                        .await
                        .into_parts();
                    let mut response = warp::reply::stream(body_stream(body)).into_response();
                    *response.status_mut() = head.status;
                    *response.headers_mut() = head.headers;
                    response
                }
            },
        )
}

/// warp's body stream as the proxy's (`Bytes` chunks, `io::Error`s).
fn into_io<S, B>(body: S) -> BoxStream<'static, std::io::Result<Bytes>>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf,
{
    body.map_ok(|mut chunk| chunk.copy_to_bytes(chunk.remaining()))
        .map_err(std::io::Error::other)
        .boxed()
}

/// The same-origin routes of a [`QelosLayer`], as warp filters (import this trait to call them
/// on the layer). Serve them inside the same layer ([`serve`](crate::serve)).
pub trait QelosRoutes {
    /// `POST /login`, `POST /logout`, `GET /auth/{provider}` and `GET /auth/callback`.
    fn auth_routes(&self) -> BoxedFilter<(Response,)>;
    /// `/api` and `/api/**` forwarded to this layer's Qelos, signed in as the caller when the
    /// request carries the integrator's cookies.
    fn api_proxy(&self) -> BoxedFilter<(Response,)>;
}

impl QelosRoutes for QelosLayer {
    /// The auth routes (`POST /login`, `POST /logout`, `GET /auth/{provider}`,
    /// `GET /auth/callback`) bound to this layer's integrator, answered by the core's
    /// ready-made endpoints.
    ///
    /// # Examples
    ///
    /// ```
    /// use warp::Filter;
    /// use qelos_integrator_warp::{QelosConfig, QelosLayer, QelosRoutes, recover};
    /// # fn routes() -> Result<(), qelos_integrator_warp::ConfigError> {
    /// let qelos = QelosLayer::new(QelosConfig::builder("http://localhost:3000").build()?);
    /// let routes = qelos.auth_routes().recover(recover);
    /// # let _ = routes; Ok(()) }
    /// ```
    fn auth_routes(&self) -> BoxedFilter<(Response,)> {
        let integrator = self.integrator().clone();
        let with = move || {
            let integrator = integrator.clone();
            warp::any().map(move || integrator.clone())
        };
        let login = warp::path!("login")
            .and(warp::post())
            .and(with())
            .and(warp::header::headers_cloned())
            .and(warp::body::content_length_limit(LOGIN_BODY_LIMIT))
            .and(warp::body::bytes())
            .then(
                |integrator: Integrator, headers: HeaderMap, body: Bytes| async move {
                    let req = EndpointRequest::from_lookup(None, |n| header(&headers, n));
                    respond(integrator.login_endpoint(&req, &body).await)
                },
            );
        let logout = warp::path!("logout")
            .and(warp::post())
            .and(with())
            .and(qelos())
            .and(warp::header::headers_cloned())
            .then(
                |integrator: Integrator, q: Qelos, headers: HeaderMap| async move {
                    let req = EndpointRequest::from_lookup(None, |n| header(&headers, n));
                    respond(integrator.logout_endpoint(&q, &req).await)
                },
            );
        let callback = warp::path!("auth" / "callback")
            .and(warp::get())
            .and(with())
            .and(query())
            .and(warp::header::headers_cloned())
            .then(
                |integrator: Integrator, query: String, headers: HeaderMap| async move {
                    let req = EndpointRequest::from_lookup(Some(&query), |n| header(&headers, n));
                    respond(integrator.callback_endpoint(&req).await)
                },
            );
        let social = warp::path!("auth" / String)
            .and(warp::get())
            .and(with())
            .and(query())
            .and(warp::header::headers_cloned())
            .map(
                |provider: String, integrator: Integrator, query: String, headers: HeaderMap| {
                    let req = EndpointRequest::from_lookup(Some(&query), |n| header(&headers, n));
                    respond(integrator.social_redirect_endpoint(&provider, &req))
                },
            );
        login
            .or(logout)
            .unify()
            .or(callback)
            .unify()
            .or(social)
            .unify()
            .boxed()
    }

    /// [`api_proxy`] to this integrator's Qelos (or the `QELOS_PROXY_TARGET` environment
    /// override), with the config's body limit and timeout, signed in as the caller when the
    /// request carries the integrator's cookies ([`Proxy::for_integrator`]).
    fn api_proxy(&self) -> BoxedFilter<(Response,)> {
        api_proxy(Proxy::for_integrator(self.integrator())).boxed()
    }
}
