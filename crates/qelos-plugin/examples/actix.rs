//! The plugin from actix-web 4 (feature `actix`): `Plugin::actix_config()` serves the
//! handshake, micro-frontend authorization, cruds and hooks; handlers take a `PluginRequest`.
//!
//! `cargo run -p qelos-plugin --features actix --example actix`, then register it with a Qelos
//! (or qelos-mock) from `http://127.0.0.1:1087/api/play-manifest`.

use actix_web::{App, HttpResponse, HttpServer, web};
use qelos_plugin::{Crud, MemoryCrudStore, Plugin, PluginRequest};
use serde_json::json;

async fn whoami(req: PluginRequest) -> HttpResponse {
    HttpResponse::Ok()
        .json(json!({"user": req.user().map(|u| u.username.clone()), "tenant": req.tenant}))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plugin = Plugin::builder("todo-actix", "http://127.0.0.1:1087")
        .minted_tokens(
            std::env::var("ACCESS_TOKEN_SECRET")
                .unwrap_or_else(|_| "example access secret, change me".into()),
            std::env::var("REFRESH_TOKEN_SECRET")
                .unwrap_or_else(|_| "example refresh secret, change me".into()),
        )
        .crud(Crud::new("todo", MemoryCrudStore::default()))
        .build()?;
    println!(
        "plugin manifest at http://127.0.0.1:1087{}",
        plugin.manifest().manifest_url
    );
    HttpServer::new(move || {
        App::new()
            .app_data(plugin.clone())
            .configure(plugin.actix_config())
            .route("/api/play/whoami", web::get().to(whoami))
    })
    .bind(("127.0.0.1", 1087))?
    .run()
    .await?;
    Ok(())
}
