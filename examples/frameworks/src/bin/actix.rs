//! actix-web: `cargo run -p framework-examples --bin actix`.

use actix_web::{App, HttpServer, web};
use qelos_integrator_actix::{Qelos, QelosMiddleware, RequireUser};

async fn index(q: Qelos) -> String {
    framework_examples::greeting(&q)
}

async fn secret(user: RequireUser) -> String {
    user.user().id.clone()
}

#[actix_web::main]
async fn main() -> Result<(), framework_examples::Error> {
    let (config, _mock) = framework_examples::qelos().await?;
    // Built once: every worker shares one integrator (one client, one refresh coordinator).
    let qelos = QelosMiddleware::new(config);
    let port = framework_examples::port();
    framework_examples::announce("actix", port);
    HttpServer::new(move || {
        App::new()
            .route("/", web::get().to(index))
            .route("/secret", web::get().to(secret))
            .configure(qelos.auth_routes())
            .service(qelos.api_proxy())
            .wrap(qelos.clone())
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await?;
    Ok(())
}
