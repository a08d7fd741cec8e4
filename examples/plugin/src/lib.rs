//! A small Qelos plugin built with `qelos-plugin`, and an embedded fake Qelos (qelos-mock) to
//! run it against.
//!
//! - a CRUD resource, "todo item", stored per tenant ([`MemoryCrudStore`]): REST endpoints
//!   under `/api/play/todo-items`, Qelos list/create/edit screens in a "Todo Items" nav group;
//! - an iframe micro-frontend, `/board.html`, that authorizes itself through the callback →
//!   authorize → `token_<code>` cookie flow and then calls the crud directly;
//! - a hook on Qelos `products` entity events: each new product adds a todo item;
//! - `GET /api/play/summary`, which calls Qelos back as the tenant's plugin user
//!   ([`Plugin::sdk_for`]) to count the tenant's products.

use std::net::SocketAddr;

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use qelos_mock::{MockServer, PluginSpec};
use qelos_plugin::{
    Crud, CrudStore, EventFilter, MemoryCrudStore, MicroFrontend, NavBarGroup, NavBarPosition,
    Plugin, PluginRequest, QelosEvent,
};
use serde_json::{Value, json};

/// The board page (served by the plugin, shown by Qelos in an iframe).
pub const BOARD_HTML: &str = include_str!("../static/board.html");

/// A running plugin and the fake Qelos it is registered with.
pub struct Running {
    /// The fake Qelos (the plugin gateway).
    pub qelos: MockServer,
    /// The plugin.
    pub plugin: Plugin,
    /// Where the plugin listens.
    pub plugin_url: String,
    /// The plugin's id in Qelos.
    pub plugin_id: String,
}

async fn summary(Extension(plugin): Extension<Plugin>, req: PluginRequest) -> impl IntoResponse {
    let sdk = match plugin.sdk_for(&req).await {
        Ok(sdk) => sdk,
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"message": e.to_string()})),
            );
        }
    };
    // Independent calls back to Qelos run concurrently.
    let products = sdk.entities::<Value>("products");
    let query = qelos_plugin::qelos_sdk::EntityQuery::new();
    let (me, listed) = tokio::join!(sdk.get_logged_in_user(), products.list(&query));
    match (me, listed) {
        (Ok(me), Ok(list)) => (
            StatusCode::OK,
            Json(json!({
                "tenant": req.tenant,
                "askedBy": req.user().map(|u| u.username.clone()),
                "qelosUser": me.username,
                "products": list.len(),
            })),
        ),
        _ => (
            StatusCode::BAD_GATEWAY,
            Json(json!({"message": "Qelos did not answer"})),
        ),
    }
}

async fn board() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        BOARD_HTML,
    )
}

/// Builds the plugin served at `plugin_url`.
///
/// # Errors
///
/// A configuration error.
pub fn build(plugin_url: &str) -> Result<Plugin, qelos_plugin::ConfigError> {
    let todos = MemoryCrudStore::default();
    let from_events = todos.clone();
    Plugin::builder("todo", plugin_url)
        .minted_tokens(
            std::env::var("ACCESS_TOKEN_SECRET")
                .unwrap_or_else(|_| "example access secret, change me".into()),
            std::env::var("REFRESH_TOKEN_SECRET")
                .unwrap_or_else(|_| "example refresh secret, change me".into()),
        )
        .with_manifest(|m| {
            m.description("Todo items next to your Qelos data")
                .grouped_micro_frontends(
                    NavBarGroup::new("todo-board", "Todo board").icon_name("list"),
                    [
                        MicroFrontend::iframe("Board", "The todo board", "/board.html").route(
                            "Board",
                            "board",
                            NavBarPosition::Top,
                        ),
                    ],
                )
        })
        .crud(Crud::new("todo item", todos).public_keys(["title", "done"]))
        .on_event(
            EventFilter::any()
                .source("blueprints")
                .kind("products")
                .event_name("create"),
            move |caller: PluginRequest, event: QelosEvent| {
                let todos = from_events.clone();
                async move {
                    let name = event.metadata["name"].as_str().unwrap_or("a product");
                    let item = json!({"title": format!("review {name}"), "done": false});
                    if let Value::Object(item) = item {
                        let _ = todos.create(&caller, item).await;
                    }
                }
            },
        )
        .build()
}

/// Starts a fake Qelos and the plugin on free ports, and registers the plugin with Qelos from
/// its manifest (what an admin does in Qelos with the manifest URL).
///
/// # Errors
///
/// Binding, configuration or registration errors.
pub async fn start() -> Result<Running, Box<dyn std::error::Error>> {
    let qelos = MockServer::start().await?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let plugin_url = format!("http://{}", listener.local_addr()?);
    let plugin = build(&plugin_url)?;
    let app = Router::new()
        .route("/api/play/summary", get(summary))
        .route("/board.html", get(board))
        .layer(Extension(plugin.clone()))
        .merge(plugin.router());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let manifest = serde_json::to_value(plugin.manifest())?;
    let plugin_id = qelos.add_plugin(PluginSpec::from_manifest(&manifest)?)?;
    Ok(Running {
        qelos,
        plugin,
        plugin_url,
        plugin_id,
    })
}
