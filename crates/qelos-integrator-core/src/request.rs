//! What the integrator needs to know about an incoming request.
//!
//! An adapter implements [`RequestView`] (two methods) for its framework's request type, or
//! builds a [`RequestHead`] and passes that. Implementations for the `http` crate's
//! [`Request`](http::Request) and [`request::Parts`](http::request::Parts) are included, so
//! frameworks built on `http` 1.x (axum, poem, warp) need no code at all.

use std::borrow::Cow;

use http::HeaderMap;

/// A read-only view of the request: its path and its headers.
///
/// # Examples
///
/// ```
/// use std::borrow::Cow;
/// use http::HeaderMap;
/// use qelos_integrator_core::adapter::RequestView;
///
/// struct MyRequest { path: String, headers: HeaderMap }
///
/// impl RequestView for MyRequest {
///     fn method(&self) -> &str { "GET" }
///     fn path(&self) -> &str { &self.path }
///     fn headers(&self) -> Cow<'_, HeaderMap> { Cow::Borrowed(&self.headers) }
/// }
/// ```
pub trait RequestView {
    /// The request method (`GET`, `POST`, ...).
    fn method(&self) -> &str;
    /// The request path, without the query string.
    fn path(&self) -> &str;
    /// The request headers. Frameworks on `http` 1.x borrow; others convert.
    fn headers(&self) -> Cow<'_, HeaderMap>;
    /// Whether the request has a header called `name`. The integrator asks this first, for
    /// `Authorization` and `Cookie`: a request with neither is answered without calling
    /// [`headers`](Self::headers). Adapters whose framework has its own header type override it
    /// with a lookup there, so requests without credentials convert nothing.
    fn has_header(&self, name: &http::HeaderName) -> bool {
        self.headers().contains_key(name)
    }
    /// Calls `each` with every value of the header `name`, in order. The integrator reads the
    /// headers of a request with credentials this way (`Authorization`, `Cookie`,
    /// [`CREDENTIAL_HEADERS`]), so a view over a framework's own header map converts nothing.
    /// The default reads [`headers`](Self::headers).
    fn header_values(&self, name: &http::HeaderName, each: Each<'_>) {
        for value in self.headers().get_all(name) {
            each(value.as_bytes());
        }
    }
    /// The request's own `http` header map, for views that have one (frameworks on `http` 1.x):
    /// the integrator then reads credentials in place. `None` (the default) for views that
    /// convert, which the integrator reads with [`header_values`](Self::header_values).
    fn header_map(&self) -> Option<&HeaderMap> {
        None
    }
    /// The request's `Host`, kept for the domain of the cookies the integrator writes. The
    /// default takes it from [`headers`](Self::headers) (a reference count, no copy).
    fn host(&self) -> Option<http::HeaderValue> {
        self.headers().get(http::header::HOST).cloned()
    }
}

/// What a [`ForeignView`]'s `get` calls with each value of a header.
pub type Each<'a> = &'a mut dyn FnMut(&[u8]);

/// A [`ForeignView`]'s `get` from a lookup in the framework's own header map that answers the
/// values of one header (anything that is bytes: `&str`, `&HeaderValue`, ...). The lookup
/// borrows the request: drop the view before the request is moved or changed.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use qelos_integrator_core::adapter::{ForeignView, RequestView, each_value, header_map};
///
/// let theirs: HashMap<&str, Vec<&str>> = HashMap::from([("authorization", vec!["Bearer a.b.c"])]);
/// let view = ForeignView {
///     method: "GET",
///     path: "/me",
///     get: each_value(|name| theirs.get(name).into_iter().flatten()),
///     all: || header_map(theirs.iter().flat_map(|(n, vs)| vs.iter().map(move |v| (*n, *v)))),
/// };
/// assert!(view.has_header(&http::header::AUTHORIZATION));
/// assert!(!view.has_header(&http::header::COOKIE));
/// ```
pub fn each_value<F, I>(lookup: F) -> impl Fn(&str, Each<'_>)
where
    F: Fn(&str) -> I,
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    move |name, each| {
        for value in lookup(name) {
            each(value.as_ref());
        }
    }
}

/// The headers the integrator reads from a request with credentials (through
/// [`RequestView::header_values`] and [`RequestView::host`]).
pub const CREDENTIAL_HEADERS: [http::HeaderName; 3] = [
    http::header::AUTHORIZATION,
    http::header::COOKIE,
    http::header::HOST,
];

/// An owned request head: method, path and headers. Handed to workspace resolvers and to the
/// `on_token_refresh` hook, and usable as a [`RequestView`] by adapters whose framework has its
/// own header types.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::RequestHead;
/// let head = RequestHead::new("/me").header("x-tenant", "Acme");
/// assert_eq!(head.header_str("x-tenant"), Some("Acme"));
/// assert_eq!(head.method, http::Method::GET);
/// ```
#[derive(Clone, Default)]
pub struct RequestHead {
    /// Request method (`GET` for a head made with [`new`](Self::new)).
    pub method: http::Method,
    /// Request path without the query string.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
}

/// Shows the path and the header names only: header values carry tokens.
impl std::fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RequestHead {
    /// A `GET` head with the given path and no headers.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            method: http::Method::GET,
            path: path.into(),
            headers: HeaderMap::new(),
        }
    }

    /// The same head with another method (one that is not a valid method is ignored).
    #[must_use]
    pub fn method(mut self, method: &str) -> Self {
        if let Ok(method) = http::Method::from_bytes(method.as_bytes()) {
            self.method = method;
        }
        self
    }

    /// The method, path and headers of a request, copied (`headers`: its headers as the
    /// integrator already read them).
    pub(crate) fn copy_of<R: RequestView + ?Sized>(request: &R, headers: HeaderMap) -> Self {
        Self::new(request.path())
            .method(request.method())
            .with_headers(headers)
    }

    fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// The method, path and headers of an `http` request head (copied).
    pub(crate) fn from_parts(parts: &http::request::Parts) -> Self {
        Self {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            headers: parts.headers.clone(),
        }
    }

    /// Adds a header; values that are not valid header values are skipped.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.push_header(name, value.as_bytes());
        self
    }

    /// Appends a header from raw bytes (for adapters converting from another header type).
    /// Names or values that `http` refuses are skipped, which is what a proxy in front would do.
    pub fn push_header(&mut self, name: &str, value: &[u8]) {
        append_raw(&mut self.headers, name, value);
    }

    /// First value of a header as text, if present and visible ASCII.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An `http` header map from another framework's headers, given as name and raw value: what a
/// [`RequestView::headers`] returns for a framework with its own header types. Names or values
/// that `http` refuses are skipped, as [`RequestHead::push_header`] does.
///
/// # Examples
///
/// ```
/// let theirs = [("authorization", &b"Bearer a.b.c"[..]), ("bad name", &b"x"[..])];
/// let map = qelos_integrator_core::adapter::header_map(theirs);
/// assert_eq!(map.len(), 1);
/// assert_eq!(map["authorization"], "Bearer a.b.c");
/// ```
pub fn header_map<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> HeaderMap
where
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        append_raw(&mut headers, name.as_ref(), value.as_ref());
    }
    headers
}

/// A [`RequestView`] for a framework with its own header type, from the request's method and
/// path and two closures over its headers: `get(name, each)` calls `each` with every value of
/// the header `name` (given in lowercase) in the framework's own map, which answers
/// [`RequestView::has_header`], [`RequestView::header_values`] and [`RequestView::host`]
/// without converting a map; `all()` converts every header (with [`header_map`]), which the core asks for only
/// when a workspace resolver or an `on_token_refresh` hook will read the request.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::{Each, ForeignView, RequestView, header_map};
///
/// let theirs = [("Authorization", "Bearer a.b.c"), ("X-Tenant", "beta")];
/// let view = ForeignView {
///     method: "GET",
///     path: "/me",
///     get: |name: &str, each: Each<'_>| {
///         for (n, v) in theirs {
///             if n.eq_ignore_ascii_case(name) {
///                 each(v.as_bytes());
///             }
///         }
///     },
///     all: || header_map(theirs),
/// };
/// assert!(view.has_header(&http::header::AUTHORIZATION));
/// assert!(!view.has_header(&http::header::COOKIE));
/// let mut seen = Vec::new();
/// view.header_values(&http::header::AUTHORIZATION, &mut |v| seen.push(v.to_vec()));
/// assert_eq!(seen, [b"Bearer a.b.c".to_vec()]);
/// assert!(view.host().is_none());
/// assert_eq!(view.headers()["x-tenant"], "beta");
/// ```
#[derive(Debug)]
pub struct ForeignView<'a, G, A> {
    /// The request method.
    pub method: &'a str,
    /// The request path, without the query string.
    pub path: &'a str,
    /// Calls its second argument with every value of the header named by the first.
    pub get: G,
    /// Every header, as an `http` map.
    pub all: A,
}

impl<G, A> RequestView for ForeignView<'_, G, A>
where
    G: Fn(&str, Each<'_>),
    A: Fn() -> HeaderMap,
{
    fn method(&self) -> &str {
        self.method
    }
    fn path(&self) -> &str {
        self.path
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Owned((self.all)())
    }
    fn has_header(&self, name: &http::HeaderName) -> bool {
        let mut found = false;
        (self.get)(name.as_str(), &mut |_| found = true);
        found
    }
    fn header_values(&self, name: &http::HeaderName, each: Each<'_>) {
        (self.get)(name.as_str(), each);
    }
    fn host(&self) -> Option<http::HeaderValue> {
        let mut host = None;
        (self.get)(http::header::HOST.as_str(), &mut |value| {
            host = host
                .take()
                .or_else(|| http::HeaderValue::from_bytes(value).ok());
        });
        host
    }
}

fn append_raw(headers: &mut HeaderMap, name: &str, value: &[u8]) {
    if let (Ok(n), Ok(v)) = (
        http::HeaderName::from_bytes(name.as_bytes()),
        http::HeaderValue::from_bytes(value),
    ) {
        headers.append(n, v);
    }
}

impl RequestView for RequestHead {
    fn method(&self) -> &str {
        self.method.as_str()
    }
    fn path(&self) -> &str {
        &self.path
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Borrowed(&self.headers)
    }
    fn header_map(&self) -> Option<&HeaderMap> {
        Some(&self.headers)
    }
}

impl RequestView for http::request::Parts {
    fn method(&self) -> &str {
        self.method.as_str()
    }
    fn path(&self) -> &str {
        self.uri.path()
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Borrowed(&self.headers)
    }
    fn header_map(&self) -> Option<&HeaderMap> {
        Some(&self.headers)
    }
}

impl<B> RequestView for http::Request<B> {
    fn method(&self) -> &str {
        self.method().as_str()
    }
    fn path(&self) -> &str {
        self.uri().path()
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Borrowed(self.headers())
    }
    fn header_map(&self) -> Option<&HeaderMap> {
        Some(self.headers())
    }
}

impl<T: RequestView + ?Sized> RequestView for &T {
    fn method(&self) -> &str {
        (**self).method()
    }
    fn path(&self) -> &str {
        (**self).path()
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        (**self).headers()
    }
    fn has_header(&self, name: &http::HeaderName) -> bool {
        (**self).has_header(name)
    }
    fn header_values(&self, name: &http::HeaderName, each: Each<'_>) {
        (**self).header_values(name, each);
    }
    fn header_map(&self) -> Option<&HeaderMap> {
        (**self).header_map()
    }
    fn host(&self) -> Option<http::HeaderValue> {
        (**self).host()
    }
}
