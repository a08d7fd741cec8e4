//! poem: `cargo run -p framework-examples --bin poem`.

use poem::listener::TcpListener;
use poem::{EndpointExt, Route, Server, get, handler};
use qelos_integrator_poem::{Qelos, QelosMiddleware, RequireUser};

#[handler]
fn index(q: Qelos) -> String {
    framework_examples::greeting(&q)
}

#[handler]
fn secret(user: RequireUser) -> String {
    user.user().id.clone()
}

#[tokio::main]
async fn main() -> Result<(), framework_examples::Error> {
    let (config, _mock) = framework_examples::qelos().await?;
    let qelos = QelosMiddleware::new(config);
    let routes = Route::new()
        .at("/", get(index))
        .at("/secret", get(secret))
        .at("/api/*path", qelos.api_proxy());
    let app = qelos.auth_routes(routes).with(qelos);
    let port = framework_examples::port();
    framework_examples::announce("poem", port);
    Server::new(TcpListener::bind(("127.0.0.1", port)))
        .run(app)
        .await?;
    Ok(())
}
