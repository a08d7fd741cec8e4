//! A stand-in for the services behind Qelos's gateway, for the proxy scenarios: it streams
//! large bodies both ways, echoes what it received, sets cookies with a foreign `Domain`, and
//! can be slow. It listens on a real port like everything else in the suite.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::StreamExt as _;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The byte at offset `i` of every generated body.
pub fn pattern_byte(i: u64) -> u8 {
    (i % 251) as u8
}

/// `len` bytes of the pattern, starting at `offset`.
pub fn pattern_chunk(offset: u64, len: usize) -> Bytes {
    (0..len as u64)
        .map(|i| pattern_byte(offset + i))
        .collect::<Vec<u8>>()
        .into()
}

/// Lower-case hex SHA-256 of the first `len` pattern bytes.
pub fn pattern_sha256(len: u64) -> String {
    let mut hash = Sha256::new();
    let mut done = 0;
    while done < len {
        let n = (len - done).min(64 * 1024) as usize;
        hash.update(pattern_chunk(done, n));
        done += n as u64;
    }
    hex::encode(hash.finalize())
}

fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

async fn blob(request: Request) -> Response {
    let method = request.method().clone();
    if method == Method::GET || method == Method::HEAD {
        let len: u64 = query_value(request.uri().query(), "bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let chunks = futures_util::stream::unfold(0u64, move |offset| async move {
            (offset < len).then(|| {
                let n = (len - offset).min(64 * 1024) as usize;
                (
                    Ok::<_, std::io::Error>(pattern_chunk(offset, n)),
                    offset + n as u64,
                )
            })
        });
        return Response::builder()
            .header(header::CONTENT_LENGTH, len)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from_stream(chunks))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    let mut hash = Sha256::new();
    let mut received = 0u64;
    let mut stream = request.into_body().into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        received += chunk.len() as u64;
        hash.update(&chunk);
    }
    axum::Json(json!({
        "method": method.as_str(),
        "received": received,
        "sha256": hex::encode(hash.finalize()),
    }))
    .into_response()
}

fn headers_json(headers: &HeaderMap) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for (name, value) in headers {
        out.insert(
            name.as_str().to_owned(),
            json!(String::from_utf8_lossy(value.as_bytes())),
        );
    }
    serde_json::Value::Object(out)
}

async fn echo(request: Request) -> Response {
    axum::Json(json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "query": request.uri().query(),
        "headers": headers_json(request.headers()),
    }))
    .into_response()
}

async fn cookies() -> Response {
    Response::builder()
        .header(header::SET_COOKIE, "qlt_up=one; Max-Age=60; Domain=upstream.internal; Path=/; HttpOnly; SameSite=None; Secure")
        .header(header::SET_COOKIE, "other=two; Domain=.upstream.internal; Path=/api")
        .header("keep-alive", "timeout=5")
        .header("x-upstream", "1")
        .body(Body::from("{}"))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

/// The upstream's routes: `/api/blob` (GET/HEAD `?bytes=N` streams N pattern bytes;
/// other methods hash what they receive), `/api/echo`, `/api/cookies`, `/api/slow`.
pub fn router() -> Router {
    Router::new()
        .route("/api/blob", any(blob))
        .route("/api/echo", any(echo))
        .route("/api/cookies", any(cookies))
        .route("/api/slow", any(slow))
}

/// Starts the upstream on a free port; returns its base URL.
///
/// # Errors
///
/// Binding errors.
pub async fn start() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router()).await;
    });
    Ok(format!("http://{addr}"))
}
