//! axum: `cargo run -p framework-examples --bin axum`.

use axum::Router;
use axum::routing::get;
use qelos_integrator_axum::{Qelos, QelosLayer, QelosRoutes, RequireUser};

#[tokio::main]
async fn main() -> Result<(), framework_examples::Error> {
    let (config, _mock) = framework_examples::qelos().await?;
    let qelos = QelosLayer::new(config);
    let app = Router::new()
        .route(
            "/",
            get(|q: Qelos| async move { framework_examples::greeting(&q) }),
        )
        .route(
            "/secret",
            get(|u: RequireUser| async move { u.user().id.clone() }),
        )
        .merge(qelos.auth_routes())
        .layer(qelos.clone())
        .merge(qelos.api_proxy());
    let port = framework_examples::port();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    framework_examples::announce("axum", port);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
