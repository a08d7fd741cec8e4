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
///     fn path(&self) -> &str { &self.path }
///     fn headers(&self) -> Cow<'_, HeaderMap> { Cow::Borrowed(&self.headers) }
/// }
/// ```
pub trait RequestView {
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
}

/// An owned request head: path and headers. Handed to workspace resolvers, and usable as a
/// [`RequestView`] by adapters whose framework has its own header types.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::RequestHead;
/// let head = RequestHead::new("/me").header("x-tenant", "Acme");
/// assert_eq!(head.header_str("x-tenant"), Some("Acme"));
/// ```
#[derive(Clone, Default)]
pub struct RequestHead {
    /// Request path without the query string.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
}

/// Shows the path and the header names only: header values carry tokens.
impl std::fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHead")
            .field("path", &self.path)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RequestHead {
    /// A head with the given path and no headers.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            headers: HeaderMap::new(),
        }
    }

    /// The path and headers of an `http` request head (copied).
    pub(crate) fn from_parts(parts: &http::request::Parts) -> Self {
        Self {
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

fn append_raw(headers: &mut HeaderMap, name: &str, value: &[u8]) {
    if let (Ok(n), Ok(v)) = (
        http::HeaderName::from_bytes(name.as_bytes()),
        http::HeaderValue::from_bytes(value),
    ) {
        headers.append(n, v);
    }
}

/// A [`RequestView`] over a framework's own request type: the path, and a function that lists
/// the headers as name and raw value. The headers are listed only when the integrator asks, and
/// converted only for requests that carry credentials.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::{RawView, RequestView};
///
/// let theirs = vec![("Cookie".to_owned(), b"q_access_token=t".to_vec())];
/// let view = RawView::new("/me", || theirs.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
/// assert!(view.has_header(&http::header::COOKIE));
/// assert_eq!(view.headers()["cookie"], "q_access_token=t");
/// ```
#[derive(Clone, Copy)]
pub struct RawView<'a, F> {
    path: &'a str,
    headers: F,
}

impl<F> std::fmt::Debug for RawView<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawView")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<'a, F, I, N, V> RawView<'a, F>
where
    F: Fn() -> I,
    I: Iterator<Item = (N, V)>,
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    /// The view of a request to `path` whose headers `headers` lists.
    pub fn new(path: &'a str, headers: F) -> Self {
        Self { path, headers }
    }
}

impl<F, I, N, V> RequestView for RawView<'_, F>
where
    F: Fn() -> I,
    I: Iterator<Item = (N, V)>,
    N: AsRef<str>,
    V: AsRef<[u8]>,
{
    fn path(&self) -> &str {
        self.path
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Owned(header_map((self.headers)()))
    }
    fn has_header(&self, name: &http::HeaderName) -> bool {
        (self.headers)().any(|(n, _)| n.as_ref().eq_ignore_ascii_case(name.as_str()))
    }
}

impl RequestView for RequestHead {
    fn path(&self) -> &str {
        &self.path
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Borrowed(&self.headers)
    }
}

impl RequestView for http::request::Parts {
    fn path(&self) -> &str {
        self.uri.path()
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Borrowed(&self.headers)
    }
}

impl<B> RequestView for http::Request<B> {
    fn path(&self) -> &str {
        self.uri().path()
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        Cow::Borrowed(self.headers())
    }
}

impl<T: RequestView + ?Sized> RequestView for &T {
    fn path(&self) -> &str {
        (**self).path()
    }
    fn headers(&self) -> Cow<'_, HeaderMap> {
        (**self).headers()
    }
    fn has_header(&self, name: &http::HeaderName) -> bool {
        (**self).has_header(name)
    }
}
