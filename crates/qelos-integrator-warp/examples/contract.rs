//! The warp contract app: the routes and JSON every adapter serves identically (see
//! `qelos_contract::app`). `cargo run -p qelos-integrator-warp --example warp-contract`
//! (`QELOS_APP_URL`, `PORT`; without `QELOS_APP_URL` it starts an embedded qelos-mock).

use qelos_contract::app::{self, EntityOp};
use qelos_integrator_warp::{
    Qelos, QelosConfig, QelosLayer, QelosRoutes, RequireUser, optional, optional_user, qelos,
    recover, require_user,
};
use serde_json::Value;
use tower_layer::Layer;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Reply};

fn json(_ctx: Option<&Qelos>, (status, body): app::Reply) -> Response {
    warp::reply::with_status(
        warp::reply::json(&body),
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
    )
    .into_response()
}

/// The layer of the contract app for `config`: one integrator for every route.
pub(crate) fn layer(config: QelosConfig) -> QelosLayer {
    QelosLayer::new(config).resolve_workspace(app::tenant_resolver())
}

/// The contract app's routes, served inside `q` ([`serve`]).
pub(crate) fn routes(
    q: &QelosLayer,
) -> impl Filter<Extract = (Response,), Error = std::convert::Infallible> + Clone + use<> {
    let me = warp::path!("me")
        .or(warp::path!("tenant" / "me"))
        .unify()
        .or(warp::path!("api" / "own"))
        .unify()
        .and(warp::get())
        .and(qelos())
        .map(|q: Qelos| json(Some(&q), (200, app::me_json(Some(&q)))));
    let secret = warp::path!("secret")
        .and(warp::get())
        .and(require_user())
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
        .and(optional())
        .map(|o: Option<Qelos>| json(o.as_ref(), (200, app::health_json(o.is_some()))));
    // Plain user-style routes: no Qelos filter, a plain string; the signed-in-only filter; the
    // signed-in guard under a skip path.
    let plain = warp::path!("plain")
        .and(warp::get())
        .map(|| app::PLAIN.into_response());
    let maybe_user = warp::path!("maybe-user")
        .and(warp::get())
        .and(optional_user())
        .map(|u: Option<RequireUser>| json(None, (200, app::maybe_user_json(u.is_some()))));
    let health_user = warp::path!("health" / "user")
        .and(warp::get())
        .and(require_user())
        .map(|u: RequireUser| json(None, (200, app::me_json(Some(u.context())))));
    // The `/private` sub-tree (`require_auth_under("/private")` in s26), and a route without a
    // Qelos filter that rejects with the app's own rejection (answered by the app's `recover`).
    let private = warp::path!("private" / "me")
        .and(warp::get())
        .and(qelos())
        .map(|q: Qelos| json(Some(&q), (200, app::me_json(Some(&q)))))
        .or(warp::path!("private" / "plain")
            .and(warp::get())
            .map(|| app::PLAIN.into_response()))
        .unify()
        .or(warp::path!("own" / "unauthorized")
            .and(warp::get())
            .and_then(|| async { Err::<Response, _>(warp::reject::custom(AppUnauthorized)) }))
        .unify()
        .boxed();
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let sdk_me = warp::path!("sdk" / "me")
        .and(warp::get())
        .and(qelos())
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
        .and(qelos())
        .then(move |bp: String, q: Qelos| entity(q, bp, EntityOp::List));
    let create = warp::path!("entities" / String)
        .and(warp::post())
        .and(qelos())
        .and(warp::body::json())
        .then(move |bp: String, q: Qelos, body: Value| entity(q, bp, EntityOp::Create(body)));
    let get_one = warp::path!("entities" / String / String)
        .and(warp::get())
        .and(qelos())
        .then(move |bp: String, id: String, q: Qelos| entity(q, bp, EntityOp::Get(id)));
    let update = warp::path!("entities" / String / String)
        .and(warp::put())
        .and(qelos())
        .and(warp::body::json())
        .then(move |bp: String, id: String, q: Qelos, body: Value| {
            entity(q, bp, EntityOp::Update(id, body))
        });
    let remove = warp::path!("entities" / String / String)
        .and(warp::delete())
        .and(qelos())
        .then(move |bp: String, id: String, q: Qelos| entity(q, bp, EntityOp::Delete(id)));

    me.or(secret)
        .unify()
        .or(plain)
        .unify()
        .or(maybe_user)
        .unify()
        .or(health_user)
        .unify()
        .or(private)
        .unify()
        // Boxed halfway: a chain of this many `or`s is a type deep enough that release builds
        // overflow the trait solver (E0275); a boxed filter cuts the depth.
        .boxed()
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
        .boxed()
        .or(q.auth_routes())
        .unify()
        // Qelos refusals become responses here, so a refused `/api/own` never falls through
        // to the proxy; only unmatched requests reach it.
        .recover(recover)
        .unify()
        .or(q.api_proxy())
        .unify()
        // The app's own error handler: its 401 and its not-found answer.
        .recover(|err| async move { Ok::<_, std::convert::Infallible>(not_found(err)) })
        .unify()
}

/// The app's own "unauthorized" rejection.
#[derive(Debug)]
struct AppUnauthorized;

impl warp::reject::Reject for AppUnauthorized {}

/// Serves the contract app for `config` on `listener`. `/bare/me` is served by the same warp
/// server outside the layer (the one route without the middleware).
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    config: QelosConfig,
) -> std::io::Result<()> {
    let q = layer(config);
    let bare = warp::path!("bare" / "me")
        .and(qelos())
        .map(|q: Qelos| json(Some(&q), (200, app::me_json(Some(&q)))))
        .recover(recover)
        .unify()
        .recover(|err| async move { Ok::<_, std::convert::Infallible>(not_found(err)) })
        .unify();
    let service = Dispatch {
        bare: warp::service(bare),
        app: q.layer(warp::service(routes(&q))),
    };
    qelos_integrator_warp::serve(listener, service).await
}

/// `/bare/**` to the routes outside the layer, everything else to the layered app.
#[derive(Clone)]
struct Dispatch<B, A> {
    bare: B,
    app: A,
}

impl<B, A, Body> tower_service::Service<warp::http::Request<Body>> for Dispatch<B, A>
where
    B: tower_service::Service<
            warp::http::Request<Body>,
            Response = Response,
            Error = std::convert::Infallible,
        >,
    A: tower_service::Service<
            warp::http::Request<Body>,
            Response = Response,
            Error = std::convert::Infallible,
        >,
    B::Future: Send + 'static,
    A::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = futures_util::future::Either<B::Future, A::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        let _ = self.bare.poll_ready(cx)?;
        self.app.poll_ready(cx)
    }

    fn call(&mut self, request: warp::http::Request<Body>) -> Self::Future {
        if request.uri().path().starts_with("/bare/") {
            futures_util::future::Either::Left(self.bare.call(request))
        } else {
            futures_util::future::Either::Right(self.app.call(request))
        }
    }
}

fn not_found(err: warp::Rejection) -> Response {
    if err.find::<AppUnauthorized>().is_some() {
        let body = warp::reply::json(&app::app_unauthorized_json());
        return warp::reply::with_status(body, StatusCode::UNAUTHORIZED).into_response();
    }
    let status = if err.is_not_found() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    warp::reply::with_status(warp::reply::json(&app::not_found_json()), status).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let (config, _embedded) = app::config_or_embedded_mock().await?;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", app::port_from_env())).await?;
    println!("warp contract app on http://{}", listener.local_addr()?);
    serve(listener, config).await?;
    Ok(())
}
