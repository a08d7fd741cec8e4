//! Golden JSON: the manifest serializes key for key as `@qelos/plugin-play` writes it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use qelos_plugin::{
    Crud, EventFilter, Injectable, Manifest, MemoryCrudStore, MicroFrontend, NavBarGroup,
    NavBarPosition, Plugin, QelosEvent,
};
use serde_json::{Value, json};

const ACCESS: &str = "access secret of the test plugin";
const REFRESH: &str = "refresh secret of the test plugin";

#[test]
fn default_manifest_is_plugin_plays_with_every_url_and_empty_lists() {
    let plugin = Plugin::builder("todo", "https://plugin.example.com/")
        .minted_tokens(ACCESS, REFRESH)
        .with_manifest(|m| m.description("Todo lists"))
        .build()
        .unwrap();
    let json = serde_json::to_value(plugin.manifest()).unwrap();
    assert_eq!(
        json,
        json!({
            "name": "todo", "description": "Todo lists",
            "appUrl": "https://plugin.example.com", "apiPath": "todo",
            "manifestUrl": "/api/play-manifest", "registerUrl": "/api/register",
            "callbackUrl": "/api/callback", "authorizeUrl": "/api/authorize",
            "unAuthorizeUrl": "/api/un-authorize", "proxyPath": "/api/play",
            "proxyUrl": "https://plugin.example.com/api/play",
            "subscribedEvents": [], "navBarGroups": [], "microFrontends": [],
            "injectables": [], "cruds": [],
            "authAcquire": {"refreshTokenUrl": "/api/token/refresh",
                "refreshTokenKey": "refresh_token", "accessTokenKey": "access_token"}
        })
    );
}

#[test]
fn crud_micro_frontends_groups_injectables_and_hooks_serialize_as_plugin_play() {
    let plugin = Plugin::builder("todo", "https://plugin.example.com")
        .minted_tokens(ACCESS, REFRESH)
        .crud(Crud::new("todo item", MemoryCrudStore::default()))
        .with_manifest(|m: Manifest| {
            m.micro_frontend(
                MicroFrontend::iframe("Board", "The todo board", "/board.html")
                    .route("Board", "board", NavBarPosition::UserDropdown)
                    .roles(["admin"])
                    .component("dashboard", "top"),
            )
            .grouped_micro_frontends(
                NavBarGroup::new("reports", "Reports")
                    .icon_name("chart")
                    .priority(3),
                [
                    MicroFrontend::iframe("Weekly", "Weekly report", "https://r.example.com/w")
                        .route("Weekly", "weekly", NavBarPosition::Bottom),
                ],
            )
            .injectable(Injectable::new("banner", "<div>hi</div>"))
        })
        .on_event(
            EventFilter::any().source("blueprints").event_name("create"),
            |_req, _event: QelosEvent| async {},
        )
        .build()
        .unwrap();
    let json = serde_json::to_value(plugin.manifest()).unwrap();
    assert_eq!(
        json["cruds"],
        json!([{"name": "todo-items", "display": {"name": "todo item", "plural": "todo items",
            "capitalized": "Todo Item", "capitalizedPlural": "Todo Items"}}])
    );
    assert_eq!(
        json["navBarGroups"],
        json!([
            {"name": "Todo Items", "key": "todo-items"},
            {"key": "reports", "name": "Reports", "iconName": "chart", "priority": 3}
        ])
    );
    let route = |name: &str, path: &str, position: Value, group: &str| json!({"name": name, "path": path, "navBarPosition": position, "group": group});
    assert_eq!(
        json["microFrontends"],
        json!([
            {"name": "List", "crud": "todo-items", "description": "List of Todo Items",
             "use": "rows-list", "route": route("List", "todo-items", json!("top"), "todo-items")},
            {"name": "Create", "crud": "todo-items", "description": "Create a new Todo Item",
             "use": "basic-form", "route": route("Create", "add-todo-item", json!("top"), "todo-items")},
            {"name": "Edit", "crud": "todo-items", "description": "Edit existing Todo Item",
             "use": "basic-form", "route": route("Edit", "edit-todo-item/:id", json!(false), "todo-items")},
            {"name": "Board", "description": "The todo board", "url": "/board.html",
             "roles": ["admin"], "component": {"page": "dashboard", "position": "top"},
             "route": {"name": "Board", "path": "board", "navBarPosition": "user-dropdown"}},
            {"name": "Weekly", "description": "Weekly report", "url": "https://r.example.com/w",
             "route": route("Weekly", "weekly", json!("bottom"), "reports")},
        ])
    );
    assert_eq!(
        json["injectables"],
        json!([{"name": "banner", "html": "<div>hi</div>"}])
    );
    let events = json["subscribedEvents"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (
            &events[0]["source"],
            &events[0]["kind"],
            &events[0]["eventName"]
        ),
        (&json!("blueprints"), &json!("*"), &json!("create"))
    );
    let hook = events[0]["hookUrl"].as_str().unwrap();
    assert!(
        hook.starts_with("https://plugin.example.com/api/hooks/"),
        "{hook}"
    );
    let path = hook.trim_start_matches("https://plugin.example.com");
    assert!(
        plugin.routes().iter().any(|r| r.path == path),
        "the hook is served where the manifest says"
    );
}

#[test]
fn a_manifest_read_back_from_json_keeps_unknown_keys_and_false_positions() {
    let text = json!({
        "name": "x", "appUrl": "https://p.example.com", "apiPath": "x",
        "manifestUrl": "/m", "proxyPath": "/p", "proxyUrl": "https://p.example.com/p",
        "microFrontends": [{"name": "E", "description": "", "use": "basic-form", "crud": "c",
            "route": {"name": "E", "path": "e/:id", "navBarPosition": false}}],
        "somethingNew": {"kept": true}
    });
    let m: Manifest = serde_json::from_value(text.clone()).unwrap();
    assert_eq!(
        m.micro_frontends[0]
            .route
            .as_ref()
            .map(|r| r.nav_bar_position),
        Some(NavBarPosition::Hidden)
    );
    let back = serde_json::to_value(&m).unwrap();
    assert_eq!(back["somethingNew"], text["somethingNew"]);
    assert_eq!(
        back["microFrontends"][0]["route"]["navBarPosition"],
        json!(false)
    );
}

#[test]
fn static_token_manifest_has_no_register_url_or_auth_acquire() {
    let plugin = Plugin::builder("todo", "https://plugin.example.com")
        .static_token("a static token of 32 bytes......")
        .build()
        .unwrap();
    let json = serde_json::to_value(plugin.manifest()).unwrap();
    assert!(json.get("registerUrl").is_none() && json.get("authAcquire").is_none());
    assert_eq!(json["callbackUrl"], "/api/callback");
}
