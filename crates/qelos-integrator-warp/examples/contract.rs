//! The warp contract app: the routes and JSON every adapter serves identically (see
//! `qelos_contract::app`). `cargo run -p qelos-integrator-warp --example warp-contract`
//! (`QELOS_APP_URL`, `PORT`; without `QELOS_APP_URL` it starts an embedded qelos-mock).

use qelos_contract::app::{self, EntityOp};
use qelos_integrator_warp::{
    Qelos, QelosConfig, QelosFilters, RequireUser, from_extensions, recover, reply,
};
use serde_json::Value;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

fn json(ctx: Option<&Qelos>, (status, body): app::Reply) -> Response {
    let r = warp::reply::with_status(
        warp::reply::json(&body),
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
    );
    match ctx {
        Some(q) => reply(q, r).into_response(),
        None => r.into_response(),
    }
}

/// The contract app for `config`.
pub(crate) fn app(
    config: QelosConfig,
) -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone {
    let q = QelosFilters::new(config).resolve_workspace(app::tenant_resolver());

    let me = warp::path!("me")
        .or(warp::path!("tenant" / "me"))
        .unify()
        .or(warp::path!("api" / "own"))
        .unify()
        .and(warp::get())
        .and(q.context())
        .map(|q: Qelos| json(Some(&q), (200, app::me_json(Some(&q)))));
    let secret = warp::path!("secret")
        .and(warp::get())
        .and(q.require_user())
        .map(|u: RequireUser| {
            let q = Qelos(u.context().clone());
            json(Some(&q), (200, app::me_json(Some(&q))))
        });
    let health = warp::path!("health")
        .or(warp::path!("health" / "db"))
        .unify()
        .or(warp::path!("healthz"))
        .unify()
        .and(warp::get())
        .and(q.optional())
        .map(|o: Option<Qelos>| json(o.as_ref(), (200, app::health_json(o.is_some()))));
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let sdk_me = warp::path!("sdk" / "me")
        .and(warp::get())
        .and(q.context())
        .and(query)
        .then(|q: Qelos, query: String| async move {
            tokio::time::sleep(app::delay_from_query(Some(&query))).await;
            let r = app::sdk_me(&q).await;
            json(Some(&q), r)
        });
    let entity = |q: Qelos, bp: String, op: EntityOp| async move {
        let r = app::entity(q.sdk(), &bp, op).await;
        json(Some(&q), r)
    };
    let list = warp::path!("entities" / String)
        .and(warp::get())
        .and(q.context())
        .then(move |bp: String, q: Qelos| entity(q, bp, EntityOp::List));
    let create = warp::path!("entities" / String)
        .and(warp::post())
        .and(q.context())
        .and(warp::body::json())
        .then(move |bp: String, q: Qelos, body: Value| entity(q, bp, EntityOp::Create(body)));
    let get_one = warp::path!("entities" / String / String)
        .and(warp::get())
        .and(q.context())
        .then(move |bp: String, id: String, q: Qelos| entity(q, bp, EntityOp::Get(id)));
    let update = warp::path!("entities" / String / String)
        .and(warp::put())
        .and(q.context())
        .and(warp::body::json())
        .then(move |bp: String, id: String, q: Qelos, body: Value| {
            entity(q, bp, EntityOp::Update(id, body))
        });
    let remove = warp::path!("entities" / String / String)
        .and(warp::delete())
        .and(q.context())
        .then(move |bp: String, id: String, q: Qelos| entity(q, bp, EntityOp::Delete(id)));
    let bare = warp::path!("bare" / "me")
        .and(from_extensions())
        .map(|q: Qelos| json(Some(&q), (200, app::me_json(Some(&q)))));

    me.or(secret)
        .unify()
        .or(health)
        .unify()
        .or(sdk_me)
        .unify()
        .or(list)
        .unify()
        .or(create)
        .unify()
        .or(get_one)
        .unify()
        .or(update)
        .unify()
        .or(remove)
        .unify()
        .or(bare)
        .unify()
        .or(q.auth_routes())
        .unify()
        // Qelos refusals become responses here, so a refused `/api/own` never falls through
        // to the proxy; only unmatched requests reach it.
        .recover(recover)
        .unify()
        .or(q.api_proxy())
        .unify()
        .recover(|err| async move { Ok::<_, std::convert::Infallible>(not_found(err)) })
        .unify()
}

fn not_found(err: warp::Rejection) -> Response {
    let status = if err.is_not_found() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    warp::reply::with_status(
        warp::reply::json(&serde_json::json!({"code": "NOT_FOUND"})),
        status,
    )
    .into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let (config, _embedded) = app::config_or_embedded_mock().await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", app::port_from_env())).await?;
    println!("warp contract app on http://{}", listener.local_addr()?);
    warp::serve(app(config)).incoming(listener).run().await;
    Ok(())
}
