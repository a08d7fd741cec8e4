//! warp: `cargo run -p framework-examples --bin warp`.

use qelos_integrator_warp::{Qelos, QelosFilters, RequireUser, recover, reply};
use warp::{Filter, Reply};

#[tokio::main]
async fn main() -> Result<(), framework_examples::Error> {
    let (config, _mock) = framework_examples::qelos().await?;
    let qelos = QelosFilters::new(config);
    let index = warp::path::end()
        .and(qelos.context())
        .map(|q: Qelos| reply(&q, framework_examples::greeting(&q)).into_response());
    let secret = warp::path!("secret")
        .and(qelos.require_user())
        .map(|u: RequireUser| reply(u.context(), u.user().id.clone()).into_response());
    let routes = index
        .or(secret)
        .unify()
        .or(qelos.auth_routes())
        .unify()
        .recover(recover)
        .unify()
        .or(qelos.api_proxy());
    let port = framework_examples::port();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    framework_examples::announce("warp", port);
    warp::serve(routes).incoming(listener).run().await;
    Ok(())
}
