//! warp 0.4 glue: the [`warp_request`](crate::warp_request) filter and [`Plugin::warp_filter`].

use bytes::Bytes;
use warp::filters::path::FullPath;
use warp::reject::Reject;
use warp::{Filter, Rejection, Reply};

use crate::Plugin;
use crate::rejection::PluginRejection;
use crate::verify::PluginRequest;

impl Reject for PluginRejection {}

/// A request body over [`MAX_BODY`](crate::MAX_BODY), declared or streamed.
#[derive(Debug)]
struct BodyTooLarge;

impl Reject for BodyTooLarge {}

/// A request body the client broke off while it was being read.
#[derive(Debug)]
struct BodyUnreadable;

impl Reject for BodyUnreadable {}

/// Reads a body of at most [`MAX_BODY`](crate::MAX_BODY) bytes, counting as it reads: a body
/// sent without `Content-Length` (chunked) is refused as soon as it passes the limit, never
/// buffered whole.
async fn read_limited<S, B>(body: S) -> Result<Bytes, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: bytes::Buf,
{
    use bytes::BufMut as _;
    use futures_util::StreamExt as _;
    let mut body = std::pin::pin!(body);
    let mut read = bytes::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| warp::reject::custom(BodyUnreadable))?;
        if read.len() + chunk.remaining() > crate::MAX_BODY {
            return Err(warp::reject::custom(BodyTooLarge));
        }
        read.put(chunk);
    }
    Ok(read.freeze())
}

/// A filter giving the verified [`PluginRequest`]; a refusal rejects with a
/// [`PluginRejection`]: answer it with [`warp_recover`](crate::warp_recover).
///
/// # Examples
///
/// ```
/// use warp::Filter;
/// use qelos_plugin::{Plugin, PluginRequest, warp_recover, warp_request};
/// # fn run() -> Result<(), qelos_plugin::ConfigError> {
/// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .build()?;
/// let me = warp::path!("api" / "play" / "me")
///     .and(warp_request(plugin.clone()))
///     .map(|req: PluginRequest| req.user().map_or_else(|| "anonymous".to_owned(), |u| u.username.clone()));
/// let app = plugin.warp_filter().or(me).recover(warp_recover);
/// # let _ = app; Ok(()) }
/// ```
pub fn warp_request(
    plugin: Plugin,
) -> impl Filter<Extract = (PluginRequest,), Error = Rejection> + Clone {
    warp::header::headers_cloned().and_then(move |headers: http::HeaderMap| {
        let plugin = plugin.clone();
        async move {
            plugin
                .verify(&headers)
                .await
                .map_err(|e| warp::reject::custom(PluginRejection::Refused(e)))
        }
    })
}

/// Answers a [`PluginRejection`] (status, `x-q-auth`, JSON body); other rejections pass on.
///
/// # Errors
///
/// The rejection itself when it is not a [`PluginRejection`].
pub async fn warp_recover(rejection: Rejection) -> Result<warp::reply::Response, Rejection> {
    if let Some(r) = rejection.find::<PluginRejection>() {
        return Ok(r.to_response().into_response());
    }
    if rejection.find::<BodyTooLarge>().is_some() {
        return Ok(http::StatusCode::PAYLOAD_TOO_LARGE.into_response());
    }
    if rejection.find::<BodyUnreadable>().is_some() {
        return Ok(http::StatusCode::BAD_REQUEST.into_response());
    }
    Err(rejection)
}

impl Plugin {
    /// A filter answering the plugin's own routes ([`Plugin::routes`]) through
    /// [`Plugin::handle`]; other paths reject with `not_found` so `.or(…)` goes on.
    pub fn warp_filter(
        &self,
    ) -> impl Filter<Extract = (warp::reply::Response,), Error = Rejection> + Clone + use<> {
        let plugin = self.clone();
        warp::method()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .and(
                warp::header::optional::<u64>("content-length")
                    .and_then(|len: Option<u64>| async move {
                        // Declared bodies over the limit are refused before they are read.
                        match len {
                            Some(n) if n > crate::MAX_BODY as u64 => {
                                Err(warp::reject::custom(BodyTooLarge))
                            }
                            _ => Ok(()),
                        }
                    })
                    .untuple_one(),
            )
            .and(warp::body::stream().and_then(read_limited))
            .and_then(
                move |method: http::Method,
                      path: FullPath,
                      query: String,
                      headers: http::HeaderMap,
                      body: Bytes| {
                    let plugin = plugin.clone();
                    async move {
                        let uri = if query.is_empty() {
                            path.as_str().to_owned()
                        } else {
                            format!("{}?{query}", path.as_str())
                        };
                        let mut request = http::Request::new(body);
                        *request.method_mut() = method;
                        *request.uri_mut() = uri.parse().unwrap_or_default();
                        *request.headers_mut() = headers;
                        match plugin.handle(request).await {
                            Some(response) => Ok::<_, Rejection>(response.into_response()),
                            None => Err(warp::reject::not_found()),
                        }
                    }
                },
            )
    }
}
