//! The same small plugin app in each framework: the plugin's own routes (handshake,
//! micro-frontend authorization, cruds, hooks) and `GET /api/play/whoami` behind the
//! framework's `PluginRequest` extractor. Each serves on its own thread and runtime.

use std::net::TcpListener;

use qelos_plugin::{Plugin, PluginRequest};
use serde_json::{Value, json};

/// Starts a plugin app on `listener` in the background.
pub type Serve = fn(Plugin, TcpListener);

fn whoami_json(req: &PluginRequest) -> Value {
    json!({
        "userId": req.user().map(|u| u.id.clone()),
        "username": req.user().map(|u| u.username.clone()),
        "tenant": req.tenant,
        "registration": req.registration,
    })
}

fn on_own_runtime<F: std::future::Future<Output = ()> + 'static>(
    name: &str,
    make: impl FnOnce() -> F + Send + 'static,
) {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, make());
        })
        .unwrap();
}

#[cfg(feature = "axum")]
pub fn axum(plugin: Plugin, listener: TcpListener) {
    use axum::routing::get;
    use axum::{Extension, Json, Router};
    async fn whoami(req: PluginRequest) -> Json<Value> {
        Json(whoami_json(&req))
    }
    on_own_runtime("axum-plugin", move || async move {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let app = Router::new()
            .route("/api/play/whoami", get(whoami))
            .layer(Extension(plugin.clone()))
            .merge(plugin.router());
        let _ = axum::serve(listener, app).await;
    });
}

#[cfg(feature = "actix")]
pub fn actix(plugin: Plugin, listener: TcpListener) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    async fn whoami(req: PluginRequest) -> HttpResponse {
        HttpResponse::Ok().json(whoami_json(&req))
    }
    std::thread::Builder::new()
        .name("actix-plugin".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(plugin.clone())
                        .configure(plugin.actix_config())
                        .route("/api/play/whoami", web::get().to(whoami))
                })
                .workers(1)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
                let _ = server.await;
            });
        })
        .unwrap();
}

#[cfg(feature = "poem")]
pub fn poem(plugin: Plugin, listener: TcpListener) {
    use poem::web::Json;
    use poem::{EndpointExt, get, handler};
    #[handler]
    fn whoami(req: PluginRequest) -> Json<Value> {
        Json(whoami_json(&req))
    }
    let addr = listener.local_addr().unwrap();
    drop(listener);
    on_own_runtime("poem-plugin", move || async move {
        let app = plugin
            .poem_route()
            .at("/api/play/whoami", get(whoami))
            .data(plugin.clone());
        let _ = poem::Server::new(poem::listener::TcpListener::bind(addr))
            .run(app)
            .await;
    });
    wait_for(addr);
}

#[cfg(feature = "warp")]
pub fn warp(plugin: Plugin, listener: TcpListener) {
    use qelos_plugin::{warp_recover, warp_request};
    use warp::Filter;
    on_own_runtime("warp-plugin", move || async move {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let whoami = warp::path!("api" / "play" / "whoami")
            .and(warp::get())
            .and(warp_request(plugin.clone()))
            .map(|req: PluginRequest| warp::reply::json(&whoami_json(&req)));
        let app = plugin.warp_filter().or(whoami).recover(warp_recover);
        warp::serve(app).incoming(listener).run().await;
    });
}

#[cfg(feature = "rocket")]
pub fn rocket(plugin: Plugin, listener: TcpListener) {
    #[rocket::get("/api/play/whoami")]
    fn whoami(req: PluginRequest) -> rocket::serde::json::Json<Value> {
        rocket::serde::json::Json(whoami_json(&req))
    }
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let figment = rocket::Config::figment()
        .merge(("port", addr.port()))
        .merge(("address", "127.0.0.1"))
        .merge(("workers", 1))
        .merge(("log_level", "off"))
        .merge(("cli_colors", false))
        .merge(("shutdown.ctrlc", false));
    std::thread::Builder::new()
        .name("rocket-plugin".into())
        .spawn(move || {
            let app = rocket::custom(figment)
                .manage(plugin.clone())
                .mount("/", plugin.rocket_routes())
                .mount("/", rocket::routes![whoami])
                .register("/", plugin.rocket_catchers());
            let _ = rocket::execute(app.launch());
        })
        .unwrap();
    wait_for(addr);
}

/// Waits until something accepts on `addr` (for servers that bind themselves).
#[allow(dead_code)]
fn wait_for(addr: std::net::SocketAddr) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
