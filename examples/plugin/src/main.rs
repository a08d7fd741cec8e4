//! A small Qelos plugin backend behind an embedded fake Qelos (qelos-mock) acting as the plugin
//! gateway. `cargo run -p plugin-example`, then run the printed curl command.
//!
//! The plugin uses minted tokens (option B): on the first proxied call the gateway registers
//! at `/api/register`, the plugin signs in back to the fake Qelos to prove the service user's
//! credentials, and answers a token pair the gateway then sends as `Authorization: Bearer`.

use axum::routing::get;
use axum::{Extension, Json, Router};
use qelos_mock::{MintRequest, MockServer, PluginSpec};
use qelos_plugin::{Plugin, PluginRequest};
use serde_json::{Value, json};

/// `GET /api/play/hello`: reachable as `/api/on/hello/hello` through Qelos.
async fn hello(req: PluginRequest) -> Json<Value> {
    let greeting = req.user().map_or_else(
        || "hello, anonymous".to_owned(),
        |u| format!("hello, {}", u.username),
    );
    Json(json!({
        "greeting": greeting,
        "userId": req.user().map(|u| u.id.clone()),
        "tenant": req.tenant,
        "tenantHost": req.tenant_host,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let qelos = MockServer::start().await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let plugin_url = format!("http://{}", listener.local_addr()?);
    let plugin = Plugin::builder("hello", &plugin_url)
        .minted_tokens(
            std::env::var("ACCESS_TOKEN_SECRET")
                .unwrap_or_else(|_| "example access secret, change me".into()),
            std::env::var("REFRESH_TOKEN_SECRET")
                .unwrap_or_else(|_| "example refresh secret, change me".into()),
        )
        .build()?;
    let app = Router::new()
        .route("/api/play/hello", get(hello))
        .layer(Extension(plugin.clone()))
        .merge(plugin.router());
    tokio::spawn(async move { axum::serve(listener, app).await });

    // What Qelos does when a plugin is created from its manifest URL.
    let manifest = serde_json::to_value(plugin.manifest())?;
    qelos.add_plugin(PluginSpec::from_manifest(&manifest)?)?;

    let admin = qelos.seed().admin.clone();
    let token = qelos
        .mint_tokens(&MintRequest::for_user(&admin.username))
        .access;
    println!("fake Qelos (gateway) at {}", qelos.url());
    println!("plugin at {plugin_url} (manifest: {plugin_url}/api/play-manifest)");
    println!();
    println!("signed in as {}:", admin.username);
    println!(
        "  curl -s -H 'Authorization: Bearer {token}' {}/api/on/hello/hello",
        qelos.url()
    );
    println!("anonymous:");
    println!("  curl -s {}/api/on/hello/hello", qelos.url());
    println!("straight to the plugin with a forged user header (refused with 407):");
    println!(
        "  curl -si -H 'user: {{\"_id\":\"x\",\"username\":\"forged\"}}' {plugin_url}/api/play/hello"
    );
    println!();
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
