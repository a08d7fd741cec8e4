//! The poem contract app: the routes and JSON every adapter serves identically (see
//! `qelos_contract::app`). `cargo run -p qelos-integrator-poem --example poem-contract`
//! (`QELOS_APP_URL`, `PORT`; without `QELOS_APP_URL` it starts an embedded qelos-mock).

use poem::http::StatusCode;
use poem::web::{Json, Path};
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};
use qelos_contract::app::{self, EntityOp};
use qelos_integrator_poem::{Qelos, QelosConfig, QelosMiddleware, RequireUser};
use serde_json::Value;

/// The contract app for `config`.
pub(crate) fn app(config: QelosConfig) -> impl Endpoint {
    let qelos = QelosMiddleware::new(config).resolve_workspace(app::tenant_resolver());
    let routes = Route::new()
        .at("/me", get(me))
        .at("/api/own", get(me))
        .at("/tenant/me", get(me))
        .at("/secret", get(secret))
        .at("/health", get(health))
        .at("/health/db", get(health))
        .at("/healthz", get(health))
        .at("/sdk/me", get(sdk_me))
        // Plain user-style routes: no Qelos extractor, a plain string; the signed-in-only
        // extractor; the signed-in guard under a skip path.
        .at("/plain", get(plain))
        .at("/maybe-user", get(maybe_user))
        .at("/health/user", get(secret))
        // The `/private` sub-tree (`require_auth_under("/private")` in s26).
        .at("/private/me", get(me))
        .at("/private/plain", get(plain))
        // A route without a Qelos extractor failing with the app's own error.
        .at("/own/unauthorized", get(own_unauthorized))
        .at("/entities/:blueprint", get(list).post(create))
        .at(
            "/entities/:blueprint/:id",
            get(get_one).put(update).delete(remove),
        )
        // The auth routes and the proxy sit inside the middleware: the app's own `/api/own`
        // wins over the `/api/*path` wildcard, and `/api/**` is resolved only on demand.
        .at("/api/*path", qelos.api_proxy())
        .at("/api", qelos.api_proxy());
    let protected = qelos.auth_routes(routes).with(qelos);
    // `/bare/me` sits outside the middleware.
    Route::new()
        .at("/bare/me", get(me))
        .nest("/", protected)
        // The app's own not-found handler, outside the middleware: errors pass through it.
        .catch_error(|_: poem::error::NotFoundError| async {
            Json(app::not_found_json()).with_status(StatusCode::NOT_FOUND)
        })
        // The app's own 401 handler for its own error.
        .catch_error(|_: AppUnauthorized| async {
            Json(app::app_unauthorized_json()).with_status(StatusCode::UNAUTHORIZED)
        })
}

/// The app's own "unauthorized" error.
#[derive(Debug)]
struct AppUnauthorized;

impl std::fmt::Display for AppUnauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unauthorized")
    }
}

impl std::error::Error for AppUnauthorized {}

impl poem::error::ResponseError for AppUnauthorized {
    fn status(&self) -> StatusCode {
        StatusCode::UNAUTHORIZED
    }
}

#[handler]
fn own_unauthorized() -> poem::Result<&'static str> {
    Err(AppUnauthorized.into())
}

#[handler]
fn plain() -> &'static str {
    app::PLAIN
}

#[handler]
fn maybe_user(user: Option<RequireUser>) -> Json<Value> {
    Json(app::maybe_user_json(user.is_some()))
}

fn reply((status, body): app::Reply) -> Response {
    Json(body)
        .with_status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY))
        .into_response()
}

#[handler]
fn me(q: Qelos) -> Json<Value> {
    Json(app::me_json(Some(&q)))
}

#[handler]
fn secret(user: RequireUser) -> Json<Value> {
    Json(app::me_json(Some(user.context())))
}

#[handler]
fn health(q: Option<Qelos>) -> Json<Value> {
    Json(app::health_json(q.is_some()))
}

#[handler]
async fn sdk_me(q: Qelos, req: &Request) -> Response {
    tokio::time::sleep(app::delay_from_query(req.uri().query())).await;
    reply(app::sdk_me(&q).await)
}

#[handler]
async fn list(q: Qelos, Path(bp): Path<String>) -> Response {
    reply(app::entity(q.sdk(), &bp, EntityOp::List).await)
}

#[handler]
async fn create(q: Qelos, Path(bp): Path<String>, Json(body): Json<Value>) -> Response {
    reply(app::entity(q.sdk(), &bp, EntityOp::Create(body)).await)
}

#[handler]
async fn get_one(q: Qelos, Path((bp, id)): Path<(String, String)>) -> Response {
    reply(app::entity(q.sdk(), &bp, EntityOp::Get(id)).await)
}

#[handler]
async fn update(
    q: Qelos,
    Path((bp, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    reply(app::entity(q.sdk(), &bp, EntityOp::Update(id, body)).await)
}

#[handler]
async fn remove(q: Qelos, Path((bp, id)): Path<(String, String)>) -> Response {
    reply(app::entity(q.sdk(), &bp, EntityOp::Delete(id)).await)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let (config, _embedded) = app::config_or_embedded_mock().await?;
    let addr = format!("0.0.0.0:{}", app::port_from_env());
    println!("poem contract app on http://{addr}");
    poem::Server::new(poem::listener::TcpListener::bind(addr))
        .run(app(config))
        .await?;
    Ok(())
}
