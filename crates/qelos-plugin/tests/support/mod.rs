//! A plugin app built with the crate, served on a real port, and the gateway (qelos-mock).

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Extension, Json, Router};
use qelos_mock::{MintRequest, MockServer, PluginSpec};
use qelos_plugin::{Plugin, PluginRequest};
use serde_json::{Value, json};

pub const STATIC_TOKEN: &str = "static plugin token, 32 bytes..";
pub const ACCESS_SECRET: &str = "access secret of the test plugin";
pub const REFRESH_SECRET: &str = "refresh secret of the test plugin";
pub const API_PATH: &str = "todo";

#[derive(Clone, Copy, Debug)]
pub enum TokenOption {
    Static,
    Minted,
}

/// What the plugin saw: the verified user, tenant, host, and a few raw headers.
async fn whoami(req: PluginRequest, headers: HeaderMap, uri: Uri) -> Json<Value> {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Json(json!({
        "userId": req.user().map(|u| u.id.clone()),
        "username": req.user().map(|u| u.username.clone()),
        "tenant": req.tenant,
        "tenantHost": req.tenant_host,
        "cookie": h("cookie"),
        "custom": h("x-custom"),
        "pathAndQuery": uri.path_and_query().map(ToString::to_string),
    }))
}

pub struct PluginApp {
    pub url: String,
    pub plugin: Plugin,
}

pub async fn start_plugin(option: TokenOption) -> PluginApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let builder = Plugin::builder(API_PATH, &url);
    let plugin = match option {
        TokenOption::Static => builder.static_token(STATIC_TOKEN),
        TokenOption::Minted => builder.minted_tokens(ACCESS_SECRET, REFRESH_SECRET),
    }
    .build()
    .unwrap();
    let app = Router::new()
        .route("/api/play/whoami", get(whoami))
        .route("/api/play/nested/whoami", get(whoami))
        .layer(Extension(plugin.clone()))
        .merge(plugin.router());
    tokio::spawn(async move { axum::serve(listener, app).await });
    PluginApp { url, plugin }
}

pub struct Stack {
    pub mock: MockServer,
    pub app: PluginApp,
    pub http: reqwest::Client,
    pub plugin_id: String,
}

/// Client → qelos-mock gateway → plugin. The plugin is registered with the gateway from the
/// manifest it serves (plus the static token for option A, which Qelos stores on its side).
pub async fn stack(option: TokenOption) -> Stack {
    let mock = MockServer::start().await.unwrap();
    let app = start_plugin(option).await;
    let http = reqwest::Client::new();
    let manifest: Value = http
        .get(format!("{}/api/play-manifest", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut spec = PluginSpec::from_manifest(&manifest).unwrap();
    if let TokenOption::Static = option {
        spec = spec.static_token(STATIC_TOKEN);
    }
    let plugin_id = mock.add_plugin(spec).unwrap();
    Stack {
        mock,
        app,
        http,
        plugin_id,
    }
}

impl Stack {
    pub fn admin_bearer(&self) -> String {
        self.mock
            .mint_tokens(&MintRequest::for_user(&self.mock.seed().admin.username))
            .access
    }

    /// `GET {gateway}{path}` with optional Bearer; returns (status, headers, JSON body).
    pub async fn get(&self, path: &str, bearer: Option<&str>) -> (u16, HeaderMap, Value) {
        let mut req = self.http.get(format!("{}{path}", self.mock.url()));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.json().await.unwrap_or(Value::Null))
    }
}
