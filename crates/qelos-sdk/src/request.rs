//! The escape hatch: any Qelos endpoint, through the same auth, refresh, timeouts, redaction
//! and tracing as the typed methods.
//!
//! ```no_run
//! use qelos_sdk::Method;
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! // Typed answer.
//! let charts: serde_json::Value = sdk
//!     .request(Method::GET, "/api/blueprints/products/charts/pie")
//!     .query(&[("x", "metadata.category")])
//!     .send()
//!     .await?;
//! // Raw answer: status, headers, and the body as a stream of chunks.
//! let answer = sdk.request(Method::GET, "/api/static/report.csv").send_raw().await?;
//! println!("{} {:?}", answer.status(), answer.headers().get("content-type"));
//! let bytes = answer.bytes().await?;
//! # let _ = (charts, bytes); Ok(()) }
//! ```

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt as _};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::client::{Call, Payload, QelosSdk, header_pair};
use crate::error::Error;

/// One call to any Qelos endpoint, built by [`QelosSdk::request`]. Setters never fail: the
/// first problem (a bad header, a body that does not serialise, a bad path) is reported by
/// [`send`](Self::send) / [`send_raw`](Self::send_raw).
#[must_use = "a request does nothing until it is sent"]
pub struct ApiRequest {
    sdk: QelosSdk,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Payload,
    timeout: Option<Duration>,
    problem: Option<Error>,
}

impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Query values and bodies may hold secrets: only their shape is shown.
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_pairs", &self.query.len())
            .field("headers", &self.headers.len())
            .finish_non_exhaustive()
    }
}

impl QelosSdk {
    /// Starts a call to any Qelos endpoint: `path` is relative to the application URL and
    /// starts with `/` (for example `/api/blueprints`); put the query in
    /// [`query`](ApiRequest::query), not in the path. The call carries the instance's
    /// credentials and headers, refreshes once on a 401 in OAuth mode, has the per-call
    /// timeout, and runs in a `qelos.request` span, exactly like the typed methods.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use qelos_sdk::Method;
    /// # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
    /// let config: serde_json::Value = sdk
    ///     .request(Method::GET, "/api/configurations/app-configuration")
    ///     .send()
    ///     .await?;
    /// # let _ = config; Ok(()) }
    /// ```
    pub fn request(&self, method: Method, path: impl Into<String>) -> ApiRequest {
        let path = path.into();
        let problem = check_path(&path).err();
        ApiRequest {
            sdk: self.clone(),
            method,
            path,
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Payload::None,
            timeout: None,
            problem,
        }
    }
}

/// A path the escape hatch accepts: absolute within the application, without query or
/// fragment, and not one that `url` would read as another host.
fn check_path(path: &str) -> Result<(), Error> {
    if !path.starts_with('/') || path.starts_with("//") {
        return Err(Error::InvalidUrl(
            "the path must start with a single `/` (a path under the application URL)".into(),
        ));
    }
    if path.contains(['?', '#']) {
        return Err(Error::InvalidUrl(
            "the path holds `?` or `#`: give the query with `.query(..)`".into(),
        ));
    }
    Ok(())
}

impl ApiRequest {
    fn fail(&mut self, problem: Error) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    /// Adds query parameters from anything that serialises as a flat list of pairs (a slice of
    /// tuples, a map, a struct with scalar fields). Can be called more than once.
    pub fn query(mut self, query: &impl Serialize) -> Self {
        match serde_urlencoded::to_string(query) {
            Ok(encoded) => self.query.extend(
                url::form_urlencoded::parse(encoded.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
            ),
            Err(_) => self.fail(Error::Encode(
                "the query is not a flat list of key-value pairs".into(),
            )),
        }
        self
    }

    /// Sends `body` as JSON.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        match serde_json::to_value(body) {
            Ok(v) => self.body = Payload::Json(v),
            Err(e) => self.fail(Error::encode(&e)),
        }
        self
    }

    /// Sends these bytes with this `Content-Type`. The body can be resent after a refresh.
    pub fn bytes(mut self, body: impl Into<Bytes>, content_type: &str) -> Self {
        match HeaderValue::from_str(content_type) {
            Ok(kind) => self.body = Payload::Bytes(body.into(), kind),
            Err(_) => self.fail(Error::InvalidHeader("bad content type".into())),
        }
        self
    }

    /// Streams `body` (for example `reqwest::Body::wrap_stream(..)` over a file) with this
    /// `Content-Type`. A streamed body is sent once: in OAuth mode a 401 to it is returned
    /// as is rather than refreshed and resent (call [`QelosSdk::refresh_token`] and send again).
    pub fn body(mut self, body: impl Into<reqwest::Body>, content_type: &str) -> Self {
        match HeaderValue::from_str(content_type) {
            Ok(kind) => self.body = Payload::Stream(Mutex::new(Some(body.into())), kind),
            Err(_) => self.fail(Error::InvalidHeader("bad content type".into())),
        }
        self
    }

    /// A header for this call only (replaces an instance header of the same name; the auth
    /// mode's credential headers still win). The value is marked sensitive.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match header_pair(name, value) {
            Ok((n, v)) => {
                self.headers.insert(n, v);
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// This call's timeout instead of the instance's. With [`send`](Self::send) it bounds the
    /// whole call; with [`send_raw`](Self::send_raw) the wait for the answer's head (reading a
    /// streamed body is up to the caller). Inside [`with_deadline`](crate::with_deadline) the
    /// enclosing deadline applies instead.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn into_call(self, streamed: bool) -> Result<(QelosSdk, String, Parts), Error> {
        if let Some(problem) = self.problem {
            return Err(problem);
        }
        Ok((
            self.sdk,
            self.path,
            Parts {
                method: self.method,
                query: self.query,
                headers: self.headers,
                body: self.body,
                timeout: self.timeout,
                streamed,
            },
        ))
    }

    /// Sends the call and decodes a 2xx JSON answer as `T` (use `serde_json::Value` for any
    /// JSON, `()` for an empty or ignored body via [`send_empty`](Self::send_empty)).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] for a non-2xx answer (with the server's message); [`Error::Decode`] when
    /// the body is not `T`; timeout, network, and the setters' errors.
    pub async fn send<T: DeserializeOwned>(self) -> Result<T, Error> {
        let (sdk, path, parts) = self.into_call(false)?;
        sdk.send(parts.call(&path)).await?.json()
    }

    /// Sends the call and checks for a 2xx answer, ignoring its body.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), without decode errors.
    pub async fn send_empty(self) -> Result<(), Error> {
        let (sdk, path, parts) = self.into_call(false)?;
        sdk.send(parts.call(&path)).await?.ok().map(drop)
    }

    /// Sends the call and answers as soon as the head arrives, whatever the status: status,
    /// headers and the body still to be read (as a stream of chunks, bytes or JSON). Dropping
    /// the answer closes the body.
    ///
    /// # Errors
    ///
    /// Timeout (the head did not arrive in time), network, and the setters' errors; never an
    /// [`Error::Api`] (see [`ApiResponse::error_for_status`]).
    pub async fn send_raw(self) -> Result<ApiResponse, Error> {
        let (sdk, path, parts) = self.into_call(true)?;
        let (response, span) = sdk.send_response(&parts.call(&path)).await?;
        Ok(ApiResponse { response, span })
    }
}

/// An [`ApiRequest`] ready to become a [`Call`] borrowing its path.
struct Parts {
    method: Method,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Payload,
    timeout: Option<Duration>,
    streamed: bool,
}

impl Parts {
    fn call(self, path: &str) -> Call<'_> {
        let mut call = Call::new(self.method, path).query(self.query);
        call.body = self.body;
        call.headers = (!self.headers.is_empty()).then(|| Box::new(self.headers));
        call.timeout = self.timeout;
        call.streamed = self.streamed;
        call
    }
}

/// The answer of [`ApiRequest::send_raw`]: status and headers read, body not yet.
pub struct ApiResponse {
    response: reqwest::Response,
    span: tracing::Span,
}

impl std::fmt::Debug for ApiResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiResponse")
            .field("status", &self.response.status())
            .finish_non_exhaustive()
    }
}

impl ApiResponse {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.response.status()
    }
    /// The answer's headers (including any `Set-Cookie`).
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }
    /// `Ok(self)` for a 2xx answer; otherwise reads the error body and answers the
    /// [`Error::Api`] the typed methods would.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] for a non-2xx answer; network errors while reading its body.
    pub async fn error_for_status(self) -> Result<Self, Error> {
        if self.status().is_success() {
            return Ok(self);
        }
        let status = self.status().as_u16();
        let body = self.bytes().await?;
        Err(Error::from_body(status, &body))
    }
    /// The whole body, whatever the status.
    ///
    /// # Errors
    ///
    /// Network errors while reading.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        let span = self.span;
        self.response
            .bytes()
            .instrument(span)
            .await
            .map_err(Error::from_reqwest)
    }
    /// Decodes a 2xx JSON body as `T`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] for a non-2xx answer; [`Error::Decode`]; network errors.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let this = self.error_for_status().await?;
        let status = this.status().as_u16();
        let body = this.bytes().await?;
        serde_json::from_slice(&body).map_err(|e| Error::decode(status, &e))
    }
    /// The body as a stream of chunks, pulled as the consumer reads (back-pressure: nothing is
    /// buffered ahead); dropping the stream closes the connection's body.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, Error>> + Send + 'static {
        self.response.bytes_stream().map_err(Error::from_reqwest)
    }
}
