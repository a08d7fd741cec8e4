//! The Rocket contract app: the routes and JSON every adapter serves identically (see
//! `qelos_contract::app`). `cargo run -p qelos-integrator-rocket --example rocket-contract`
//! (`QELOS_APP_URL`, `PORT`; without `QELOS_APP_URL` it starts an embedded qelos-mock).

use qelos_contract::app::{self, EntityOp};
use qelos_integrator_rocket::{Qelos, QelosConfig, QelosFairing, RequireUser};
use rocket::http::{ContentType, Status};
use rocket::serde::json::Json;
use rocket::{Build, Request, Rocket, delete, get, post, put, routes};
use serde_json::Value;

type Reply = (Status, Json<Value>);

fn reply((status, body): app::Reply) -> Reply {
    (Status::new(status), Json(body))
}

#[get("/me")]
fn me(q: &Qelos) -> Reply {
    reply((200, app::me_json(Some(q))))
}

#[get("/api/own")]
fn api_own(q: &Qelos) -> Reply {
    reply((200, app::me_json(Some(q))))
}

#[get("/tenant/me")]
fn tenant_me(q: &Qelos) -> Reply {
    reply((200, app::me_json(Some(q))))
}

#[get("/bare/me")]
fn bare_me(q: &Qelos) -> Reply {
    reply((200, app::me_json(Some(q))))
}

#[get("/secret")]
fn secret(user: RequireUser) -> Reply {
    reply((200, app::me_json(Some(user.context()))))
}

#[get("/health")]
fn health(q: Option<&Qelos>) -> Reply {
    reply((200, app::health_json(q.is_some())))
}

// Plain user-style routes: no Qelos guard, a plain string; the signed-in-only guard; the
// signed-in guard under a skip path; the app's own not-found catcher.

#[get("/plain")]
fn plain() -> &'static str {
    app::PLAIN
}

#[get("/maybe-user")]
fn maybe_user(user: Option<RequireUser>) -> Reply {
    reply((200, app::maybe_user_json(user.is_some())))
}

#[get("/health/user")]
fn health_user(user: RequireUser) -> Reply {
    secret(user)
}

#[rocket::catch(404)]
fn not_found() -> Reply {
    reply((404, app::not_found_json()))
}

// The `/private` sub-tree (`require_auth_under("/private")` in s26): the context guard and a
// plain route without one.

#[get("/private/me")]
fn private_me(q: &Qelos) -> Reply {
    me(q)
}

#[get("/private/plain")]
fn private_plain() -> &'static str {
    app::PLAIN
}

// The app's own 401: a route without a Qelos guard fails with `Status::Unauthorized`, and the
// app's `#[catch(401)]` answers. In Rocket one catcher answers a status, Qelos refusals
// included: this one renders those with Qelos's body (`refusal`), everything else its own way.

#[get("/own/unauthorized")]
fn own_unauthorized() -> Status {
    Status::Unauthorized
}

#[rocket::catch(401)]
fn unauthorized(req: &Request<'_>) -> (ContentType, String) {
    match qelos_integrator_rocket::refusal(req) {
        Some(refusal) => (ContentType::JSON, refusal.body()),
        None => (ContentType::JSON, app::app_unauthorized_json().to_string()),
    }
}

#[get("/health/db")]
fn health_db(q: Option<&Qelos>) -> Reply {
    health(q)
}

#[get("/healthz")]
fn healthz(q: Option<&Qelos>) -> Reply {
    health(q)
}

#[get("/sdk/me?<delay_ms>")]
async fn sdk_me(q: &Qelos, delay_ms: Option<u64>) -> Reply {
    let query = delay_ms.map(|ms| format!("delay_ms={ms}"));
    tokio::time::sleep(app::delay_from_query(query.as_deref())).await;
    reply(app::sdk_me(q).await)
}

#[get("/entities/<bp>")]
async fn list(q: &Qelos, bp: &str) -> Reply {
    reply(app::entity(q.sdk(), bp, EntityOp::List).await)
}

#[post("/entities/<bp>", data = "<body>")]
async fn create(q: &Qelos, bp: &str, body: Json<Value>) -> Reply {
    reply(app::entity(q.sdk(), bp, EntityOp::Create(body.into_inner())).await)
}

#[get("/entities/<bp>/<id>")]
async fn get_one(q: &Qelos, bp: &str, id: &str) -> Reply {
    reply(app::entity(q.sdk(), bp, EntityOp::Get(id.to_owned())).await)
}

#[put("/entities/<bp>/<id>", data = "<body>")]
async fn update(q: &Qelos, bp: &str, id: &str, body: Json<Value>) -> Reply {
    reply(
        app::entity(
            q.sdk(),
            bp,
            EntityOp::Update(id.to_owned(), body.into_inner()),
        )
        .await,
    )
}

#[delete("/entities/<bp>/<id>")]
async fn remove(q: &Qelos, bp: &str, id: &str) -> Reply {
    reply(app::entity(q.sdk(), bp, EntityOp::Delete(id.to_owned())).await)
}

/// The contract app on `rocket`, for `config`. `/bare` is excluded from the fairing.
pub(crate) fn app(rocket: Rocket<Build>, config: QelosConfig) -> Rocket<Build> {
    let qelos = QelosFairing::new(config)
        .resolve_workspace(app::tenant_resolver())
        .exclude("/bare");
    rocket
        .mount(
            "/",
            routes![
                me,
                api_own,
                tenant_me,
                bare_me,
                secret,
                health,
                health_db,
                healthz,
                sdk_me,
                list,
                create,
                get_one,
                update,
                remove,
                plain,
                maybe_user,
                health_user,
                private_me,
                private_plain,
                own_unauthorized
            ],
        )
        .register("/", rocket::catchers![not_found, unauthorized])
        .mount("/", qelos.auth_routes())
        // Ranked after the app's routes: `/api/own` wins.
        .mount("/", qelos.api_proxy())
        .attach(qelos)
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    rocket::execute(async {
        let (config, _embedded) = app::config_or_embedded_mock().await?;
        let figment = rocket::Config::figment()
            .merge(("port", app::port_from_env()))
            .merge(("address", "0.0.0.0"));
        app(rocket::custom(figment), config).launch().await?;
        Ok(())
    })
}
