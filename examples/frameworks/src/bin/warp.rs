//! warp: `cargo run -p framework-examples --bin warp`. The routes run inside the Qelos layer
//! (`warp::service`), so the refreshed cookies are written whatever a handler returns.

use qelos_integrator_warp::{Layer, Qelos, QelosLayer, QelosRoutes, RequireUser};
use qelos_integrator_warp::{qelos, recover, require_user, serve};
use warp::Filter;

#[tokio::main]
async fn main() -> Result<(), framework_examples::Error> {
    let (config, _mock) = framework_examples::qelos().await?;
    let layer = QelosLayer::new(config);
    let index = warp::path::end()
        .and(qelos())
        .map(|q: Qelos| framework_examples::greeting(&q));
    let secret = warp::path!("secret")
        .and(require_user())
        .map(|u: RequireUser| u.user().id.clone());
    let routes = index
        .or(secret)
        .unify()
        .map(warp::Reply::into_response)
        .or(layer.auth_routes())
        .unify()
        .recover(recover)
        .unify()
        .or(layer.api_proxy())
        .unify()
        .recover(|_| async { Ok::<_, std::convert::Infallible>(warp::http::StatusCode::NOT_FOUND) })
        .map(warp::Reply::into_response);
    let port = framework_examples::port();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    framework_examples::announce("warp", port);
    serve(listener, layer.layer(warp::service(routes))).await?;
    Ok(())
}
