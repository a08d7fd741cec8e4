//! The same plugin from actix-web 4: the framework-agnostic functions with the request headers.
//!
//! `cargo run -p qelos-plugin --example actix`, then register it with a Qelos (or qelos-mock)
//! from `http://127.0.0.1:1087/api/play-manifest`.

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use qelos_plugin::{HandshakeError, Plugin, VerifyError};
use serde_json::{Value, json};

/// actix-web 4 speaks `http` 0.2; the plugin functions take `http` 1 headers.
fn headers(req: &HttpRequest) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    for (name, value) in req.headers() {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(n, v);
        }
    }
    out
}

fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .json(body)
}

fn refused(e: &VerifyError) -> HttpResponse {
    let mut response = json_response(e.status().as_u16(), &e.body());
    for (name, value) in e.headers() {
        if let (Ok(n), Ok(v)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

fn handshake(result: Result<Value, HandshakeError>) -> HttpResponse {
    match result {
        Ok(pair) => json_response(200, &pair),
        Err(HandshakeError::Verify(e)) => refused(&e),
        Err(e) => json_response(e.status().as_u16(), &e.body()),
    }
}

async fn whoami(plugin: web::Data<Plugin>, req: HttpRequest) -> HttpResponse {
    match plugin.verify(&headers(&req)).await {
        Ok(r) => json_response(
            200,
            &json!({"user": r.user().map(|u| u.username.clone()), "tenant": r.tenant}),
        ),
        Err(e) => refused(&e),
    }
}

async fn register(plugin: web::Data<Plugin>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    handshake(plugin.register(&headers(&req), &body).await)
}

async fn refresh(plugin: web::Data<Plugin>, req: HttpRequest) -> HttpResponse {
    handshake(plugin.refresh(&headers(&req)).await)
}

async fn manifest(plugin: web::Data<Plugin>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("access-control-allow-origin", "*"))
        .json(plugin.manifest())
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plugin = Plugin::builder("todo-actix", "http://127.0.0.1:1087")
        .minted_tokens(
            std::env::var("ACCESS_TOKEN_SECRET")
                .unwrap_or_else(|_| "example access secret, change me".into()),
            std::env::var("REFRESH_TOKEN_SECRET")
                .unwrap_or_else(|_| "example refresh secret, change me".into()),
        )
        .build()?;
    let data = web::Data::new(plugin);
    println!(
        "plugin manifest at http://127.0.0.1:1087{}",
        qelos_plugin::MANIFEST_PATH
    );
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(qelos_plugin::MANIFEST_PATH, web::get().to(manifest))
            .route(qelos_plugin::REGISTER_PATH, web::post().to(register))
            .route(qelos_plugin::REFRESH_PATH, web::post().to(refresh))
            .route("/api/play/whoami", web::get().to(whoami))
    })
    .bind(("127.0.0.1", 1087))?
    .run()
    .await?;
    Ok(())
}
