//! The axum contract app: the routes and JSON every adapter serves identically (see
//! `qelos_contract::app`). Run it by hand with
//! `cargo run -p qelos-integrator-axum --example axum-contract` (`QELOS_APP_URL`, `PORT`; without
//! `QELOS_APP_URL` it starts an embedded qelos-mock).

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use qelos_contract::app::{self, EntityOp};
use qelos_integrator_axum::{Qelos, QelosConfig, QelosLayer, QelosRoutes, RequireUser};
use serde_json::Value;

/// The contract app for `config`.
pub(crate) fn app(config: QelosConfig) -> Router {
    let qelos = QelosLayer::new(config).resolve_workspace(app::tenant_resolver());
    Router::new()
        .route("/me", get(me))
        .route("/api/own", get(me))
        .route("/tenant/me", get(me))
        .route("/secret", get(secret))
        .route("/health", get(health))
        .route("/health/db", get(health))
        .route("/healthz", get(health))
        .route("/sdk/me", get(sdk_me))
        // Plain user-style routes: no Qelos extractor, a plain string; the signed-in-only
        // extractor; the signed-in guard under a skip path; the app's own not-found handler.
        .route("/plain", get(|| async { app::PLAIN }))
        .route("/maybe-user", get(maybe_user))
        .route("/health/user", get(secret))
        // The `/private` sub-tree (`require_auth_under("/private")` in s26).
        .route("/private/me", get(me))
        .route("/private/plain", get(|| async { app::PLAIN }))
        // A route without a Qelos extractor failing with the app's own error type.
        .route("/own/unauthorized", get(own_unauthorized))
        .fallback(|| async { (StatusCode::NOT_FOUND, Json(app::not_found_json())) })
        .route("/entities/{blueprint}", get(list).post(create))
        .route(
            "/entities/{blueprint}/{id}",
            get(get_one).put(update).delete(remove),
        )
        .merge(qelos.auth_routes())
        .layer(qelos.clone())
        // Merged after `.layer`: these routes run without the middleware.
        .merge(Router::new().route("/bare/me", get(me)))
        .merge(qelos.api_proxy())
}

/// The app's own error type, rendered by its own `IntoResponse`.
enum AppError {
    Unauthorized,
}

impl IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        match self {
            AppError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, Json(app::app_unauthorized_json())).into_response()
            }
        }
    }
}

async fn own_unauthorized() -> Result<&'static str, AppError> {
    Err(AppError::Unauthorized)
}

fn reply((status, body): app::Reply) -> impl IntoResponse {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        Json(body),
    )
}

async fn me(q: Qelos) -> Json<Value> {
    Json(app::me_json(Some(&q)))
}

async fn secret(user: RequireUser) -> Json<Value> {
    Json(app::me_json(Some(user.context())))
}

async fn maybe_user(user: Option<RequireUser>) -> Json<Value> {
    Json(app::maybe_user_json(user.is_some()))
}

async fn health(q: Option<Qelos>) -> Json<Value> {
    Json(app::health_json(q.is_some()))
}

async fn sdk_me(q: Qelos, RawQuery(query): RawQuery) -> impl IntoResponse {
    tokio::time::sleep(app::delay_from_query(query.as_deref())).await;
    reply(app::sdk_me(&q).await)
}

async fn list(q: Qelos, Path(bp): Path<String>) -> impl IntoResponse {
    reply(app::entity(q.sdk(), &bp, EntityOp::List).await)
}

async fn create(q: Qelos, Path(bp): Path<String>, Json(body): Json<Value>) -> impl IntoResponse {
    reply(app::entity(q.sdk(), &bp, EntityOp::Create(body)).await)
}

async fn get_one(q: Qelos, Path((bp, id)): Path<(String, String)>) -> impl IntoResponse {
    reply(app::entity(q.sdk(), &bp, EntityOp::Get(id)).await)
}

async fn update(
    q: Qelos,
    Path((bp, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> impl IntoResponse {
    reply(app::entity(q.sdk(), &bp, EntityOp::Update(id, body)).await)
}

async fn remove(q: Qelos, Path((bp, id)): Path<(String, String)>) -> impl IntoResponse {
    reply(app::entity(q.sdk(), &bp, EntityOp::Delete(id)).await)
}

/// The app on its own thread and runtime, on a free port: how the contract suite and the Redis
/// test start it.
#[allow(dead_code)] // this example does not call it; the two test binaries that include the file do
pub(crate) fn spawn(config: QelosConfig) -> std::io::Result<qelos_contract::RunningApp> {
    qelos_contract::RunningApp::spawn_on_tokio(move |listener| async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(
            listener,
            app(config).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let (config, _embedded) = app::config_or_embedded_mock().await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", app::port_from_env())).await?;
    println!("axum contract app on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app(config).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
