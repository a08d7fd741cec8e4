//! The same-origin front (core's route table): the login, logout and social-login routes and
//! the `/api/**` proxy, as warp filters.

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use qelos_integrator_core::RequestState;
use qelos_integrator_core::adapter::{AUTH_ROUTES, Front, FrontEndpoint, FrontRequest};
use qelos_integrator_core::adapter::{FrontRoute, PROXY_ROUTES, Proxy, body_stream, front_route};
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::{PeerAddr, QelosLayer};

/// The request as the core's front reads it, without its body.
struct Head(FrontEndpoint, http::request::Parts, Option<PeerAddr>);

/// A filter that answers `routes` with `front` and rejects every other request unread.
fn mount(front: Front, routes: &'static [FrontRoute]) -> BoxedFilter<(Response,)> {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let head = warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::ext::optional::<PeerAddr>())
        .and_then(
            move |method: Method, path: FullPath, query: String, headers, peer| async move {
                let route = front_route(routes, &method, path.as_str());
                let endpoint = route.ok_or_else(warp::reject::not_found)?.endpoint;
                let (mut parts, ()) = http::Request::new(()).into_parts();
                let sep = if query.is_empty() { "" } else { "?" };
                let uri = format!("{}{sep}{query}", path.as_str()).parse();
                parts.uri = uri.map_err(|_| warp::reject::not_found())?;
                (parts.method, parts.headers) = (method, headers);
                Ok::<_, warp::Rejection>(Head(endpoint, parts, peer))
            },
        );
    head.and(warp::ext::optional::<RequestState>())
        .and(warp::body::stream())
        .then(move |Head(endpoint, parts, peer), state, body| {
            let front = front.clone();
            async move {
                let inbound = qelos_integrator_core::adapter::Inbound::new(
                    peer.map(|p: PeerAddr| p.0.ip()),
                    false,
                );
                let request = FrontRequest::new(parts, into_io(body))
                    .inbound(inbound)
                    .state(state);
                let (head, body) = front.serve(endpoint, request).await.into_parts();
                let mut response = warp::reply::stream(body_stream(body)).into_response();
                (*response.status_mut(), *response.headers_mut()) = (head.status, head.headers);
                response
            }
        })
        .boxed()
}

/// warp's body stream as the core's (`Bytes` chunks, `io::Error`s).
fn into_io<S, B>(body: S) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf,
{
    body.map_ok(|mut chunk| chunk.copy_to_bytes(chunk.remaining()))
        .map_err(std::io::Error::other)
        .boxed()
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
pub fn api_proxy(proxy: Proxy) -> BoxedFilter<(Response,)> {
    mount(Front::proxy_only(proxy), &PROXY_ROUTES)
}

/// The same-origin routes of a [`QelosLayer`], as warp filters (import this trait to call them
/// on the layer). Serve them inside the same layer ([`serve`](crate::serve)).
pub trait QelosRoutes {
    /// `POST /login`, `POST /logout`, `GET /auth/{provider}` and `GET /auth/callback`, bound to
    /// this layer's integrator (logout signs out the context the layer resolved).
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
    fn auth_routes(&self) -> BoxedFilter<(Response,)>;
    /// `/api` and `/api/**` forwarded to this layer's Qelos (or the `QELOS_PROXY_TARGET`
    /// environment override), with the config's body limit and timeout, signed in as the
    /// caller when the request carries the integrator's cookies
    /// ([`Proxy::for_integrator`]).
    fn api_proxy(&self) -> BoxedFilter<(Response,)>;
}

impl QelosRoutes for QelosLayer {
    fn auth_routes(&self) -> BoxedFilter<(Response,)> {
        mount(Front::new(self.integrator()), &AUTH_ROUTES)
    }

    fn api_proxy(&self) -> BoxedFilter<(Response,)> {
        mount(Front::new(self.integrator()), &PROXY_ROUTES)
    }
}
