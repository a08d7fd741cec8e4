//! The same-origin front, described once: a table of routes ([`AUTH_ROUTES`],
//! [`PROXY_ROUTES`]) and one handler for all of them ([`Front::serve`]).
//!
//! An adapter mounts each [`FrontRoute`] the way its framework mounts routes (the path in the
//! framework's syntax from [`FrontRoute::path`]) and answers it with [`Front::serve`] (or
//! [`Front::serve_http`] for `http` 1.x requests). Everything else is decided here: the login
//! body limit, which context logout signs out, the social provider taken from the path, and the
//! proxy's streaming, cross-site rule and `X-Forwarded-*` headers.

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use http::{Method, StatusCode};
use http_body_util::BodyExt as _;

use crate::endpoints::EndpointRequest;
use crate::pipeline::Integrator;
use crate::proxy::{Inbound, Proxy, ProxyBody};
use crate::rejection::{Rejection, json_response};
use crate::state::RequestState;

/// Largest login body read (a form or JSON with a username and password); a larger one is read
/// as no body (`400 BAD_REQUEST`, or the form's redirect with `?error=BAD_REQUEST`).
pub const LOGIN_BODY_LIMIT: usize = 16 * 1024;

/// What a front route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrontEndpoint {
    /// `POST /login` ([`Integrator::login_endpoint`]).
    Login,
    /// `POST /logout` ([`Integrator::logout_endpoint`]).
    Logout,
    /// `GET /auth/{provider}` ([`Integrator::social_redirect_endpoint`]).
    SocialLogin,
    /// `GET /auth/callback` ([`Integrator::callback_endpoint`]).
    SocialCallback,
    /// `/api` and `/api/**`, any method ([`Proxy::forward_stream`]).
    Proxy,
}

/// One piece of a front route's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A literal segment.
    Literal(&'static str),
    /// One segment captured under this name (`{provider}`).
    Param(&'static str),
    /// The rest of the path, one segment or more, captured under this name (`{*path}`).
    Rest(&'static str),
}

/// One route of the same-origin front.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrontRoute {
    /// The method, or `None` for any method.
    pub method: Option<Method>,
    /// The path, segment by segment.
    pub segments: &'static [Segment],
    /// What answers it.
    pub endpoint: FrontEndpoint,
}

/// The auth routes: `POST /login`, `POST /logout`, `GET /auth/callback` (before
/// `GET /auth/{provider}`, for frameworks that match in order) and `GET /auth/{provider}`.
pub const AUTH_ROUTES: [FrontRoute; 4] = [
    FrontRoute {
        method: Some(Method::POST),
        segments: &[Segment::Literal("login")],
        endpoint: FrontEndpoint::Login,
    },
    FrontRoute {
        method: Some(Method::POST),
        segments: &[Segment::Literal("logout")],
        endpoint: FrontEndpoint::Logout,
    },
    FrontRoute {
        method: Some(Method::GET),
        segments: &[Segment::Literal("auth"), Segment::Literal("callback")],
        endpoint: FrontEndpoint::SocialCallback,
    },
    FrontRoute {
        method: Some(Method::GET),
        segments: &[Segment::Literal("auth"), Segment::Param("provider")],
        endpoint: FrontEndpoint::SocialLogin,
    },
];

/// The proxy routes: `/api` and `/api/{*path}`, any method. Mount them so the application's
/// own `/api/...` routes win (after them, or ranked after them).
pub const PROXY_ROUTES: [FrontRoute; 2] = [
    FrontRoute {
        method: None,
        segments: &[Segment::Literal("api")],
        endpoint: FrontEndpoint::Proxy,
    },
    FrontRoute {
        method: None,
        segments: &[Segment::Literal("api"), Segment::Rest("path")],
        endpoint: FrontEndpoint::Proxy,
    },
];

impl FrontRoute {
    /// The methods to mount the route for, for frameworks that route one method at a time:
    /// its method, or every method a client sends through the proxy.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::adapter::{AUTH_ROUTES, PROXY_ROUTES};
    /// assert_eq!(AUTH_ROUTES[0].methods(), [http::Method::POST]);
    /// assert_eq!(PROXY_ROUTES[1].methods().len(), 7);
    /// ```
    pub fn methods(&self) -> Vec<Method> {
        match &self.method {
            Some(method) => vec![method.clone()],
            None => vec![
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ],
        }
    }

    /// The path in a framework's syntax: `param(name)` and `rest(name)` write a one-segment
    /// capture and a rest-of-path capture.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::adapter::{AUTH_ROUTES, PROXY_ROUTES};
    ///
    /// let axum = |r: &qelos_integrator_core::adapter::FrontRoute| {
    ///     r.path(|p| format!("{{{p}}}"), |r| format!("{{*{r}}}"))
    /// };
    /// assert_eq!(axum(&AUTH_ROUTES[3]), "/auth/{provider}");
    /// assert_eq!(axum(&PROXY_ROUTES[1]), "/api/{*path}");
    /// ```
    pub fn path(&self, param: impl Fn(&str) -> String, rest: impl Fn(&str) -> String) -> String {
        let mut path = String::new();
        for segment in self.segments {
            path.push('/');
            match segment {
                Segment::Literal(text) => path.push_str(text),
                Segment::Param(name) => path.push_str(&param(name)),
                Segment::Rest(name) => path.push_str(&rest(name)),
            }
        }
        path
    }

    /// `true` when this route answers `method` on `path` (for frameworks that dispatch
    /// themselves, such as warp's filters).
    pub fn matches(&self, method: &Method, path: &str) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        let mut parts = path.strip_prefix('/').unwrap_or(path).split('/');
        for segment in self.segments {
            match (segment, parts.next()) {
                (Segment::Literal(text), Some(part)) if part == *text => {}
                (Segment::Param(_), Some(part)) if !part.is_empty() => {}
                (Segment::Rest(_), Some(part)) if !part.is_empty() => return true,
                _ => return false,
            }
        }
        parts.next().is_none()
    }
}

/// The first route of `routes` that answers `method` on `path`.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::{AUTH_ROUTES, FrontEndpoint, front_route};
///
/// let route = front_route(&AUTH_ROUTES, &http::Method::GET, "/auth/callback");
/// assert_eq!(route.map(|r| r.endpoint), Some(FrontEndpoint::SocialCallback));
/// assert!(front_route(&AUTH_ROUTES, &http::Method::GET, "/login").is_none());
/// ```
pub fn front_route<'a>(
    routes: &'a [FrontRoute],
    method: &Method,
    path: &str,
) -> Option<&'a FrontRoute> {
    routes.iter().find(|r| r.matches(method, path))
}

/// One request to a front route, with its body as a stream of byte chunks.
pub struct FrontRequest<S> {
    head: Option<http::request::Parts>,
    body: S,
    inbound: Inbound,
    state: Option<RequestState>,
}

impl<S> std::fmt::Debug for FrontRequest<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontRequest")
            .field("method", &self.head.as_ref().map(|h| &h.method))
            .field("path", &self.head.as_ref().map(|h| h.uri.path()))
            .field("inbound", &self.inbound)
            .finish_non_exhaustive()
    }
}

impl<S> FrontRequest<S>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    /// A request from an `http` 1.x head. The [`RequestState`] the middleware stored in its
    /// extensions, if any, is the one logout signs out.
    pub fn new(mut head: http::request::Parts, body: S) -> Self {
        let state = head.extensions.remove::<RequestState>();
        Self {
            head: Some(head),
            body,
            inbound: Inbound::default(),
            state,
        }
    }

    /// A request from a framework's own types (actix, rocket): the method, the path with
    /// query, and the raw headers. A method, URI or header that is not valid HTTP is answered
    /// `400 QELOS_BAD_REQUEST` by [`Front::serve`].
    pub fn from_raw<N, V>(
        method: &str,
        path_and_query: &str,
        headers: impl IntoIterator<Item = (N, V)>,
        body: S,
    ) -> Self
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let mut request = http::Request::builder().method(method).uri(path_and_query);
        for (name, value) in headers {
            request = request.header(name.as_ref(), value.as_ref());
        }
        let head = request.body(()).ok().map(|r| r.into_parts().0);
        Self {
            head,
            body,
            inbound: Inbound::default(),
            state: None,
        }
    }

    /// What the framework knows about the connection (peer address, TLS).
    #[must_use]
    pub fn inbound(mut self, inbound: Inbound) -> Self {
        self.inbound = inbound;
        self
    }

    /// The middleware's state for this request (logout signs out its context).
    #[must_use]
    pub fn state(mut self, state: Option<RequestState>) -> Self {
        if state.is_some() {
            self.state = state;
        }
        self
    }
}

/// The handler of every front route, bound to one integrator and its proxy. Cheap to clone.
///
/// # Examples
///
/// ```no_run
/// use qelos_integrator_core::adapter::{AUTH_ROUTES, Front, FrontRequest, Inbound, front_route};
/// use qelos_integrator_core::{Integrator, QelosConfig};
///
/// # async fn run(request: http::Request<String>) -> Result<(), Box<dyn std::error::Error>> {
/// let front = Front::new(&Integrator::new(QelosConfig::builder("http://localhost:3000").build()?));
/// if let Some(route) = front_route(&AUTH_ROUTES, request.method(), request.uri().path()) {
///     let response = front.serve_http(route.endpoint, request, Inbound::default()).await;
///     println!("{}", response.status());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Front {
    integrator: Option<Integrator>,
    proxy: Proxy,
}

impl Front {
    /// The front of `integrator`, with its proxy ([`Proxy::for_integrator`]).
    pub fn new(integrator: &Integrator) -> Self {
        Self {
            integrator: Some(integrator.clone()),
            proxy: Proxy::for_integrator(integrator),
        }
    }

    /// A front that only forwards (`/api/**`) through `proxy`; its auth routes answer
    /// `500 QELOS_MIDDLEWARE_MISSING`.
    pub fn proxy_only(proxy: Proxy) -> Self {
        Self {
            integrator: None,
            proxy,
        }
    }

    /// Forwards through `proxy` instead (its own body limit, timeout or target).
    #[must_use]
    pub fn with_proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Answers an `http` 1.x request to `endpoint` ([`serve`](Self::serve)).
    pub async fn serve_http<B>(
        &self,
        endpoint: FrontEndpoint,
        request: http::Request<B>,
        inbound: Inbound,
    ) -> http::Response<ProxyBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let (head, body) = request.into_parts();
        let body = body.into_data_stream().map_err(std::io::Error::other);
        self.serve(endpoint, FrontRequest::new(head, body).inbound(inbound))
            .await
    }

    /// Answers `request` to `endpoint`: the auth endpoints' replies (with
    /// `Cache-Control: no-store`) or the proxied response, streamed.
    pub async fn serve<S>(
        &self,
        endpoint: FrontEndpoint,
        request: FrontRequest<S>,
    ) -> http::Response<ProxyBody>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let FrontRequest {
            head,
            body,
            inbound,
            state,
        } = request;
        let Some(head) = head else {
            let body = r#"{"code":"QELOS_BAD_REQUEST"}"#.to_owned();
            return boxed(json_response(StatusCode::BAD_REQUEST, body, &[]));
        };
        if endpoint == FrontEndpoint::Proxy {
            return self.proxy.forward_stream(head, body, inbound).await;
        }
        let Some(integrator) = &self.integrator else {
            let missing = Rejection::middleware_missing("mount the auth routes of a middleware");
            return boxed(missing.into_response::<String>());
        };
        // HTTP/2 clients may split cookies over several `Cookie` headers: read them as one.
        let cookies = joined_cookies(&head.headers);
        let mut req = EndpointRequest::from_parts(&head.uri, &head.headers);
        if let Some(cookies) = &cookies {
            req.cookie = Some(cookies);
        }
        let reply = match endpoint {
            FrontEndpoint::Login => {
                let body = read_limited(body, LOGIN_BODY_LIMIT).await;
                integrator.login_endpoint(&req, &body).await
            }
            FrontEndpoint::Logout => {
                let state = state.unwrap_or_else(|| integrator.attach(&head));
                match state.context().await {
                    Ok(ctx) => integrator.logout_endpoint(&ctx, &req).await,
                    Err(rejection) => return boxed(rejection.into_response::<String>()),
                }
            }
            FrontEndpoint::SocialLogin => {
                let provider = head.uri.path().rsplit('/').next().unwrap_or_default();
                integrator.social_redirect_endpoint(provider, &req)
            }
            FrontEndpoint::SocialCallback | FrontEndpoint::Proxy => {
                integrator.callback_endpoint(&req).await
            }
        };
        boxed(reply.into_response::<String>())
    }
}

/// Every `Cookie` header as one value (`a=1; b=2`), when there is more than one.
fn joined_cookies(headers: &http::HeaderMap) -> Option<String> {
    let mut values = headers.get_all(http::header::COOKIE).iter();
    values.next()?;
    values.next()?;
    let all = headers.get_all(http::header::COOKIE).iter();
    let texts: Vec<&str> = all.filter_map(|v| v.to_str().ok()).collect();
    Some(texts.join("; "))
}

/// The whole body when it is at most `limit` bytes, else nothing.
async fn read_limited<S>(body: S, limit: usize) -> Vec<u8>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Send,
{
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) if out.len() + chunk.len() <= limit => out.extend_from_slice(&chunk),
            _ => return Vec::new(),
        }
    }
    out
}

fn boxed(response: http::Response<String>) -> http::Response<ProxyBody> {
    response.map(|body| {
        http_body_util::Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed_unsync()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QelosConfig;

    fn front() -> Front {
        let config = QelosConfig::builder("http://127.0.0.1:9")
            .build()
            .expect("config");
        Front::new(&Integrator::new(config))
    }

    #[test]
    fn routes_match_whole_segments_and_their_method() {
        let post = Method::POST;
        let get = Method::GET;
        let found = |m: &Method, p: &str| front_route(&AUTH_ROUTES, m, p).map(|r| r.endpoint);
        assert_eq!(found(&post, "/login"), Some(FrontEndpoint::Login));
        assert_eq!(found(&get, "/login"), None);
        assert_eq!(found(&post, "/login/x"), None);
        assert_eq!(
            found(&get, "/auth/github"),
            Some(FrontEndpoint::SocialLogin)
        );
        assert_eq!(
            found(&get, "/auth/callback"),
            Some(FrontEndpoint::SocialCallback)
        );
        assert_eq!(found(&get, "/auth/"), None);
        assert_eq!(found(&get, "/auth/a/b"), None);
        let proxied = |p: &str| front_route(&PROXY_ROUTES, &Method::DELETE, p).is_some();
        assert!(proxied("/api") && proxied("/api/blueprints/x"));
        assert!(!proxied("/apix") && !proxied("/app/api"));
    }

    #[test]
    fn paths_are_written_in_each_frameworks_syntax() {
        let rocket = AUTH_ROUTES[3].path(|p| format!("<{p}>"), |r| format!("<{r}..>"));
        assert_eq!(rocket, "/auth/<provider>");
        let poem = PROXY_ROUTES[1].path(|p| format!(":{p}"), |r| format!("*{r}"));
        assert_eq!(poem, "/api/*path");
    }

    #[tokio::test]
    async fn a_login_body_over_the_limit_is_read_as_no_body() {
        let big = vec![b'a'; LOGIN_BODY_LIMIT + 1];
        let chunks = futures_util::stream::iter(
            big.chunks(1000)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        );
        assert!(read_limited(chunks, LOGIN_BODY_LIMIT).await.is_empty());
        let small = futures_util::stream::iter([Ok(Bytes::from_static(b"{}"))]);
        assert_eq!(read_limited(small, LOGIN_BODY_LIMIT).await, b"{}");
    }

    #[tokio::test]
    async fn a_request_that_is_not_valid_http_is_a_400_not_a_500() {
        let body = futures_util::stream::empty();
        let request = FrontRequest::from_raw("GET", "/auth/x y", [("host", &b"a"[..])], body);
        let response = front().serve(FrontEndpoint::SocialLogin, request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn a_state_cookie_in_a_second_cookie_header_still_binds_the_social_callback() {
        let request = |cookies: &[&str]| {
            let mut builder =
                http::Request::get("/auth/callback?rt=r&state=abc123").header("host", "app.test");
            for c in cookies {
                builder = builder.header("cookie", *c);
            }
            builder
                .body(http_body_util::Empty::<Bytes>::new())
                .expect("request")
        };
        let front = front();
        let endpoint = FrontEndpoint::SocialCallback;
        // Bound: the exchange with Qelos runs (and fails here: nothing listens), no 403.
        let split = request(&["theme=dark", "q_auth_state=abc123"]);
        let split = front.serve_http(endpoint, split, Inbound::default()).await;
        assert_ne!(split.status(), StatusCode::FORBIDDEN, "{split:?}");
        // Not bound: another state, in any header.
        let other = request(&["theme=dark", "q_auth_state=zzz"]);
        let other = front.serve_http(endpoint, other, Inbound::default()).await;
        assert_eq!(other.status(), StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn the_social_provider_is_the_last_path_segment() {
        let request = http::Request::get("/auth/github?returnUrl=/home")
            .header("host", "app.test")
            .body(http_body_util::Empty::<Bytes>::new())
            .expect("request");
        let response = front()
            .serve_http(FrontEndpoint::SocialLogin, request, Inbound::default())
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers()[http::header::LOCATION]
            .to_str()
            .expect("ascii");
        assert!(location.contains("/api/auth/github"), "{location}");
    }
}
