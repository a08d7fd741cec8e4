//! Rocket: `cargo run -p framework-examples --bin rocket`.

use qelos_integrator_rocket::{Qelos, QelosFairing, RequireUser};

#[rocket::get("/")]
fn index(q: &Qelos) -> String {
    framework_examples::greeting(q)
}

#[rocket::get("/secret")]
fn secret(user: RequireUser) -> String {
    user.user().id.clone()
}

#[rocket::main]
async fn main() -> Result<(), framework_examples::Error> {
    let (config, _mock) = framework_examples::qelos().await?;
    let qelos = QelosFairing::new(config);
    let port = framework_examples::port();
    let figment = rocket::Config::figment()
        .merge(("port", port))
        .merge(("address", "127.0.0.1"));
    framework_examples::announce("rocket", port);
    let _ = rocket::custom(figment)
        .mount("/", rocket::routes![index, secret])
        .mount("/", qelos.auth_routes())
        .mount("/", qelos.api_proxy())
        .attach(qelos)
        .launch()
        .await?;
    Ok(())
}
