//! The actix-web contract app: the routes and JSON every adapter serves identically (see
//! `qelos_contract::app`). `cargo run -p qelos-integrator-actix --example actix-contract`
//! (`QELOS_APP_URL`, `PORT`; without `QELOS_APP_URL` it starts an embedded qelos-mock).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use qelos_contract::app::{self, EntityOp};
use qelos_integrator_actix::{Qelos, QelosConfig, QelosMiddleware, RequireUser};
use serde_json::Value;

/// The middleware of the contract app: built once, shared by every worker.
pub(crate) fn middleware(config: QelosConfig) -> QelosMiddleware {
    QelosMiddleware::new(config).resolve_workspace(app::tenant_resolver())
}

/// The contract routes, for `App::configure`.
pub(crate) fn routes(cfg: &mut web::ServiceConfig, qelos: QelosMiddleware) {
    // `/bare/me` is registered outside the wrapped scope.
    cfg.route("/bare/me", web::get().to(me)).service(
        web::scope("")
            .wrap(qelos.clone())
            .route("/me", web::get().to(me))
            .route("/api/own", web::get().to(me))
            .route("/tenant/me", web::get().to(me))
            .route("/secret", web::get().to(secret))
            .route("/health", web::get().to(health))
            .route("/health/db", web::get().to(health))
            .route("/healthz", web::get().to(health))
            .route("/sdk/me", web::get().to(sdk_me))
            // Plain user-style routes: no Qelos extractor, a plain string; the signed-in-only
            // extractor; the signed-in guard under a skip path.
            .route("/plain", web::get().to(|| async { app::PLAIN }))
            .route("/maybe-user", web::get().to(maybe_user))
            .route("/health/user", web::get().to(secret))
            // The `/private` sub-tree (`require_auth_under("/private")` in s26).
            .route("/private/me", web::get().to(me))
            .route("/private/plain", web::get().to(|| async { app::PLAIN }))
            // A route without a Qelos extractor failing with the app's own error type.
            .route("/own/unauthorized", web::get().to(own_unauthorized))
            .route("/entities/{bp}", web::get().to(list))
            .route("/entities/{bp}", web::post().to(create))
            .route("/entities/{bp}/{id}", web::get().to(get_one))
            .route("/entities/{bp}/{id}", web::put().to(update))
            .route("/entities/{bp}/{id}", web::delete().to(remove))
            .configure(qelos.auth_routes())
            // Registered last: the app's own `/api/own` wins over the proxy.
            .service(qelos.api_proxy())
            // The app's own not-found handler.
            .default_service(web::to(|| async {
                HttpResponse::NotFound().json(app::not_found_json())
            })),
    );
}

/// The app's own "unauthorized" error, rendered by its own `ResponseError`.
#[derive(Debug)]
struct AppUnauthorized;

impl std::fmt::Display for AppUnauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unauthorized")
    }
}

impl actix_web::ResponseError for AppUnauthorized {
    fn status_code(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::Unauthorized().json(app::app_unauthorized_json())
    }
}

async fn own_unauthorized() -> Result<&'static str, AppUnauthorized> {
    Err(AppUnauthorized)
}

fn reply((status, body): app::Reply) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY)).json(body)
}

async fn me(q: Qelos) -> HttpResponse {
    reply((200, app::me_json(Some(&q))))
}

async fn secret(user: RequireUser) -> HttpResponse {
    reply((200, app::me_json(Some(user.context()))))
}

async fn health(q: Option<Qelos>) -> HttpResponse {
    reply((200, app::health_json(q.is_some())))
}

async fn maybe_user(user: Option<RequireUser>) -> HttpResponse {
    reply((200, app::maybe_user_json(user.is_some())))
}

async fn sdk_me(q: Qelos, req: HttpRequest) -> HttpResponse {
    tokio::time::sleep(app::delay_from_query(Some(req.query_string()))).await;
    reply(app::sdk_me(&q).await)
}

async fn list(q: Qelos, bp: web::Path<String>) -> HttpResponse {
    reply(app::entity(q.sdk(), &bp, EntityOp::List).await)
}

async fn create(q: Qelos, bp: web::Path<String>, body: web::Json<Value>) -> HttpResponse {
    reply(app::entity(q.sdk(), &bp, EntityOp::Create(body.into_inner())).await)
}

async fn get_one(q: Qelos, path: web::Path<(String, String)>) -> HttpResponse {
    let (bp, id) = path.into_inner();
    reply(app::entity(q.sdk(), &bp, EntityOp::Get(id)).await)
}

async fn update(
    q: Qelos,
    path: web::Path<(String, String)>,
    body: web::Json<Value>,
) -> HttpResponse {
    let (bp, id) = path.into_inner();
    reply(app::entity(q.sdk(), &bp, EntityOp::Update(id, body.into_inner())).await)
}

async fn remove(q: Qelos, path: web::Path<(String, String)>) -> HttpResponse {
    let (bp, id) = path.into_inner();
    reply(app::entity(q.sdk(), &bp, EntityOp::Delete(id)).await)
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    actix_web::rt::System::new().block_on(async {
        let (config, _embedded) = app::config_or_embedded_mock().await?;
        let qelos = middleware(config);
        let port = app::port_from_env();
        println!("actix contract app on http://0.0.0.0:{port}");
        actix_web::HttpServer::new(move || {
            let qelos = qelos.clone();
            actix_web::App::new().configure(move |cfg| routes(cfg, qelos))
        })
        .bind(("0.0.0.0", port))?
        .run()
        .await?;
        Ok(())
    })
}
