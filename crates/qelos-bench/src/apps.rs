//! The apps under load: per framework, the bare framework, a hand-written lower bound, and the
//! qelos-rs adapter. All answer `GET /me` with the same JSON shape.

use std::net::SocketAddr;
use std::sync::Arc;

use qelos_integrator_core::{QelosConfig, QelosContext};

/// What an app does per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The framework alone: a fixed JSON answer, no upstream call.
    Bare,
    /// The two upstream calls a signed-in request needs, concurrently, on one pooled client.
    Lower,
    /// The qelos-rs adapter.
    Adapter,
    /// The adapter with the identity cache on.
    Cached,
    /// axum only: a minimal layer and extractor, the floor of any middleware design.
    Floor,
}

impl Mode {
    pub(crate) fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "bare" => Mode::Bare,
            "lower" => Mode::Lower,
            "adapter" => Mode::Adapter,
            "cached" => Mode::Cached,
            "floor" => Mode::Floor,
            _ => return None,
        })
    }
}

/// The answer of every app: who is calling and in which workspace. Every app (bare, lower
/// bound, adapter) serializes it the same way, borrowing its fields: the ratios then measure the
/// integrator, not a difference between two handlers (the signed-in answer carries four strings
/// the anonymous one does not, and copying them would be the handler's cost, not the adapter's).
#[derive(serde::Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct MeBody<'a> {
    user_id: Option<&'a str>,
    username: Option<&'a str>,
    workspace_id: Option<&'a str>,
    workspace_name: Option<&'a str>,
    workspace_count: usize,
}

impl MeBody<'_> {
    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The anonymous body, also the bare framework's answer.
pub(crate) fn anonymous_body() -> String {
    MeBody::default().to_json()
}

pub(crate) fn me_body(ctx: &QelosContext) -> String {
    let user = ctx.user();
    let ws = ctx.workspace();
    MeBody {
        user_id: user.map(|u| u.id.as_str()),
        username: user.map(|u| u.username.as_str()),
        workspace_id: ws.map(|w| w.id.as_str()),
        workspace_name: ws.map(|w| w.name.as_str()),
        workspace_count: ctx.workspaces().len(),
    }
    .to_json()
}

/// The hand-written lower bound: exactly `/api/me` and `/api/workspaces`, concurrently.
#[derive(Clone)]
pub(crate) struct Lower {
    client: reqwest::Client,
    qelos: Arc<str>,
}

impl Lower {
    pub(crate) fn new(qelos: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            qelos: Arc::from(qelos.trim_end_matches('/')),
        }
    }

    pub(crate) async fn me(&self, authorization: Option<String>) -> String {
        let Some(auth) = authorization else {
            return anonymous_body();
        };
        let get = |path: &str| {
            self.client
                .get(format!("{}{path}", self.qelos))
                .header("authorization", auth.clone())
                .send()
        };
        let (me, list) = futures_util::future::join(get("/api/me"), get("/api/workspaces")).await;
        let me: serde_json::Value = match me {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        let list: serde_json::Value = match list {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => serde_json::Value::Null,
        };
        MeBody {
            user_id: me.get("_id").and_then(serde_json::Value::as_str),
            username: me.get("username").and_then(serde_json::Value::as_str),
            workspace_id: me
                .pointer("/workspace/_id")
                .and_then(serde_json::Value::as_str),
            workspace_name: me
                .pointer("/workspace/name")
                .and_then(serde_json::Value::as_str),
            workspace_count: list.as_array().map_or(0, Vec::len),
        }
        .to_json()
    }
}

fn config(qelos: &str, mode: Mode) -> Result<QelosConfig, Box<dyn std::error::Error>> {
    let mut b = QelosConfig::builder(qelos);
    if mode == Mode::Cached {
        b = b.identity_cache(std::time::Duration::from_secs(60));
    }
    Ok(b.build()?)
}

/// Serves one app until the process is killed.
pub(crate) fn serve(
    framework: &str,
    mode: Mode,
    addr: SocketAddr,
    qelos: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    if mode == Mode::Floor && framework != "axum" {
        return Err("the floor app is axum's only".into());
    }
    match framework {
        "axum" => axum_app(mode, addr, qelos),
        "actix" => actix_app(mode, addr, qelos),
        "poem" => poem_app(mode, addr, qelos),
        "warp" => warp_app(mode, addr, qelos),
        "rocket" => rocket_app(mode, addr, qelos),
        other => Err(format!("unknown framework {other}").into()),
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn auth_of(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn axum_app(mode: Mode, addr: SocketAddr, qelos: &str) -> Result<(), Box<dyn std::error::Error>> {
    use axum::routing::get;
    use qelos_integrator_axum::{Qelos, QelosLayer};
    let json = |body: String| ([(http::header::CONTENT_TYPE, "application/json")], body);
    let app = match mode {
        Mode::Floor => axum::Router::new()
            .route(
                "/me",
                get(move |_: axum::Extension<floor::Marker>| async move { json(anonymous_body()) }),
            )
            .layer(floor::FloorLayer),
        Mode::Bare => {
            axum::Router::new().route("/me", get(move || async move { json(anonymous_body()) }))
        }
        Mode::Lower => {
            let lower = Lower::new(qelos);
            axum::Router::new().route(
                "/me",
                get(move |headers: http::HeaderMap| {
                    let lower = lower.clone();
                    async move { json(lower.me(auth_of(&headers)).await) }
                }),
            )
        }
        Mode::Adapter | Mode::Cached => axum::Router::new()
            .route("/me", get(move |q: Qelos| async move { json(me_body(&q)) }))
            .layer(QelosLayer::new(config(qelos, mode)?)),
    };
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        axum::serve(listener, app).await
    })?;
    Ok(())
}

fn actix_app(mode: Mode, addr: SocketAddr, qelos: &str) -> Result<(), Box<dyn std::error::Error>> {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    use qelos_integrator_actix::{Qelos, QelosMiddleware};
    fn json(body: String) -> HttpResponse {
        HttpResponse::Ok()
            .content_type("application/json")
            .body(body)
    }
    // One server per mode: the adapter wraps the whole `App`, as the crate's docs show, so
    // the three apps differ only by the middleware and the handler.
    let lower = Lower::new(qelos);
    let qelos_mw = match mode {
        Mode::Adapter | Mode::Cached => Some(QelosMiddleware::new(config(qelos, mode)?)),
        _ => None,
    };
    actix_web::rt::System::new().block_on(async move {
        match (mode, qelos_mw) {
            (_, Some(mw)) => {
                HttpServer::new(move || {
                    App::new().wrap(mw.clone()).route(
                        "/me",
                        web::get().to(|q: Qelos| async move { json(me_body(&q)) }),
                    )
                })
                .workers(2)
                .bind(addr)?
                .run()
                .await
            }
            (Mode::Lower, None) => {
                HttpServer::new(move || {
                    let lower = lower.clone();
                    App::new().route(
                        "/me",
                        web::get().to(move |req: HttpRequest| {
                            let lower = lower.clone();
                            let auth = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            async move { json(lower.me(auth).await) }
                        }),
                    )
                })
                .workers(2)
                .bind(addr)?
                .run()
                .await
            }
            (_, None) => {
                HttpServer::new(|| {
                    App::new().route("/me", web::get().to(|| async { json(anonymous_body()) }))
                })
                .workers(2)
                .bind(addr)?
                .run()
                .await
            }
        }
    })?;
    Ok(())
}

fn poem_app(mode: Mode, addr: SocketAddr, qelos: &str) -> Result<(), Box<dyn std::error::Error>> {
    use poem::{EndpointExt, Response, Route, get, handler, web::Data};
    use qelos_integrator_poem::{Qelos, QelosMiddleware};
    fn json(body: String) -> Response {
        Response::builder()
            .content_type("application/json")
            .body(body)
    }
    #[handler]
    fn bare() -> Response {
        json(anonymous_body())
    }
    #[handler]
    async fn lower(req: &poem::Request, l: Data<&Lower>) -> Response {
        json(l.me(auth_of(req.headers())).await)
    }
    #[handler]
    fn adapter(q: Qelos) -> Response {
        json(me_body(&q))
    }
    let ep = match mode {
        Mode::Bare | Mode::Floor => Route::new().at("/me", get(bare)).boxed(),
        Mode::Lower => Route::new()
            .at("/me", get(lower))
            .data(Lower::new(qelos))
            .boxed(),
        Mode::Adapter | Mode::Cached => Route::new()
            .at("/me", get(adapter))
            .with(QelosMiddleware::new(config(qelos, mode)?))
            .boxed(),
    };
    runtime()?.block_on(async move {
        poem::Server::new(poem::listener::TcpListener::bind(addr))
            .run(ep)
            .await
    })?;
    Ok(())
}

fn warp_app(mode: Mode, addr: SocketAddr, qelos: &str) -> Result<(), Box<dyn std::error::Error>> {
    use qelos_integrator_warp::{Layer, Qelos, QelosLayer, recover};
    use warp::{Filter, Reply};
    let json = |body: String| {
        warp::reply::with_header(body, "content-type", "application/json").into_response()
    };
    let routes = match mode {
        Mode::Bare | Mode::Floor => warp::path!("me")
            .map(move || json(anonymous_body()))
            .boxed(),
        Mode::Lower => {
            let lower = Lower::new(qelos);
            warp::path!("me")
                .and(warp::header::optional::<String>("authorization"))
                .then(move |auth: Option<String>| {
                    let lower = lower.clone();
                    async move { json(lower.me(auth).await) }
                })
                .boxed()
        }
        Mode::Adapter | Mode::Cached => {
            let layer = QelosLayer::new(config(qelos, mode)?);
            let routes = warp::path!("me")
                .and(qelos_integrator_warp::qelos())
                .map(move |q: Qelos| json(me_body(&q)))
                .recover(recover)
                .unify()
                .recover(|_| async {
                    Ok::<_, std::convert::Infallible>(
                        warp::http::StatusCode::NOT_FOUND.into_response(),
                    )
                })
                .unify();
            let service = layer.layer(warp::service(routes));
            runtime()?.block_on(async move {
                let listener = tokio::net::TcpListener::bind(addr).await?;
                qelos_integrator_warp::serve(listener, service).await
            })?;
            return Ok(());
        }
    };
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        warp::serve(routes).incoming(listener).run().await;
        Ok::<_, std::io::Error>(())
    })?;
    Ok(())
}

fn rocket_app(mode: Mode, addr: SocketAddr, qelos: &str) -> Result<(), Box<dyn std::error::Error>> {
    use qelos_integrator_rocket::{Qelos, QelosFairing};
    use rocket::http::ContentType;
    #[rocket::get("/me")]
    fn bare() -> (ContentType, String) {
        (ContentType::JSON, anonymous_body())
    }
    struct Auth(Option<String>);
    #[rocket::async_trait]
    impl<'r> rocket::request::FromRequest<'r> for Auth {
        type Error = std::convert::Infallible;
        async fn from_request(
            req: &'r rocket::Request<'_>,
        ) -> rocket::request::Outcome<Self, Self::Error> {
            rocket::request::Outcome::Success(Auth(
                req.headers().get_one("authorization").map(str::to_owned),
            ))
        }
    }
    #[rocket::get("/me")]
    async fn lower(auth: Auth, l: &rocket::State<Lower>) -> (ContentType, String) {
        (ContentType::JSON, l.me(auth.0).await)
    }
    #[rocket::get("/me")]
    fn adapter(q: &Qelos) -> (ContentType, String) {
        (ContentType::JSON, me_body(q))
    }
    let figment = rocket::Config::figment()
        .merge(("port", addr.port()))
        .merge(("address", addr.ip().to_string()))
        .merge(("workers", 2))
        .merge(("log_level", "off"));
    let base = rocket::custom(figment);
    let app = match mode {
        Mode::Bare | Mode::Floor => base.mount("/", rocket::routes![bare]),
        Mode::Lower => base
            .mount("/", rocket::routes![lower])
            .manage(Lower::new(qelos)),
        Mode::Adapter | Mode::Cached => base
            .mount("/", rocket::routes![adapter])
            .attach(QelosFairing::new(config(qelos, mode)?)),
    };
    rocket::execute(app.launch()).map_err(|e| e.to_string())?;
    Ok(())
}

/// The least any middleware-plus-extractor design costs in axum: a layer that leaves one
/// shared value in the request's extensions, and a handler that extracts it. `qelos-bench app
/// axum floor …` serves it, for profiling beside the bare app and the adapter (see
/// `docs/benchmarks.md`).
mod floor {
    use std::sync::Arc;
    use std::task::{Context, Poll};

    #[derive(Clone)]
    pub(crate) struct Marker(#[allow(dead_code)] Arc<u8>);

    #[derive(Clone)]
    pub(crate) struct FloorLayer;

    impl<S> tower::Layer<S> for FloorLayer {
        type Service = Floor<S>;
        fn layer(&self, inner: S) -> Floor<S> {
            Floor(inner)
        }
    }

    #[derive(Clone)]
    pub(crate) struct Floor<S>(S);

    impl<S, B> tower::Service<http::Request<B>> for Floor<S>
    where
        S: tower::Service<http::Request<B>>,
    {
        type Response = S::Response;
        type Error = S::Error;
        type Future = S::Future;
        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            self.0.poll_ready(cx)
        }
        fn call(&mut self, mut req: http::Request<B>) -> S::Future {
            req.extensions_mut().insert(Marker(Arc::new(1)));
            self.0.call(req)
        }
    }
}
