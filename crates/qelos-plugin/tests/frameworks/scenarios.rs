//! End-to-end scenarios, written once: client → qelos-mock gateway → a plugin app served by
//! one framework ([`Serve`]). `plugin_scenarios!` expands them per framework.

use std::net::TcpListener;
use std::time::Duration;

use base64::Engine as _;
use qelos_mock::{MintRequest, MockServer, PluginSpec};
use qelos_plugin::{
    Crud, EventFilter, Manifest, MemoryCrudStore, Plugin, PluginBuilder, QelosEvent,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::apps::Serve;

pub const ACCESS_SECRET: &str = "access secret of the test plugin";
pub const REFRESH_SECRET: &str = "refresh secret of the test plugin";

pub struct Stack {
    pub mock: MockServer,
    pub plugin: Plugin,
    pub url: String,
    pub http: reqwest::Client,
    pub plugin_id: String,
    pub events: mpsc::UnboundedReceiver<QelosEvent>,
}

/// A minted-token plugin with a `todo item` crud and a subscription to every blueprint
/// event, changed by `customize`, served by `serve`, registered with a fresh gateway.
pub async fn stack(serve: Serve, customize: impl FnOnce(PluginBuilder) -> PluginBuilder) -> Stack {
    let mock = MockServer::start().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, events) = mpsc::unbounded_channel();
    let builder = Plugin::builder("todo", &url)
        .minted_tokens(ACCESS_SECRET, REFRESH_SECRET)
        .crud(Crud::new("todo item", MemoryCrudStore::default()).public_keys(["title", "done"]))
        .on_event(
            EventFilter::any().source("blueprints"),
            move |_caller, event: QelosEvent| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(event);
                }
            },
        );
    let plugin = customize(builder).build().unwrap();
    serve(plugin.clone(), listener);
    let http = reqwest::Client::new();
    let manifest: Value = http
        .get(format!("{url}{}", plugin.manifest().manifest_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plugin_id = mock
        .add_plugin(PluginSpec::from_manifest(&manifest).unwrap())
        .unwrap();
    Stack {
        mock,
        plugin,
        url,
        http,
        plugin_id,
        events,
    }
}

impl Stack {
    pub fn admin_bearer(&self) -> String {
        self.mock
            .mint_tokens(&MintRequest::for_user(&self.mock.seed().admin.username))
            .access
    }

    /// A request through the gateway as the admin: (status, JSON body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.mock.url()))
            .bearer_auth(self.admin_bearer());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

pub async fn minted_plugin_registers_and_the_user_arrives_through_the_gateway(serve: Serve) {
    let s = stack(serve, |b| b).await;
    let (status, body) = s
        .call(reqwest::Method::GET, "/api/on/todo/whoami", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userId"], json!(s.mock.seed().admin.id));
    assert_eq!(body["tenant"], "0");
    assert_eq!(s.mock.calls("PLUGIN register todo"), 1);
    let (status, _) = s
        .call(reqwest::Method::GET, "/api/on/todo/whoami", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        s.mock.calls("PLUGIN register todo"),
        1,
        "the token is cached"
    );
}

pub async fn forged_call_straight_to_the_plugin_is_refused_407_with_x_q_auth(serve: Serve) {
    let s = stack(serve, |b| b).await;
    for auth in [None, Some("Bearer forged")] {
        let mut req = s
            .http
            .get(format!("{}/api/play/whoami", s.url))
            .header("user", r#"{"_id":"x","username":"forged@x.y"}"#);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 407, "{auth:?}");
        assert_eq!(r.headers()["x-q-auth"], "unauthorized");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["message"], "authorization token was not valid");
    }
}

pub async fn revoked_access_is_refreshed_once_and_a_used_refresh_token_is_refused(serve: Serve) {
    let s = stack(serve, |b| b).await;
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        200
    );
    let first_refresh = s.mock.plugin_refresh_token("0", "todo").unwrap();
    assert!(s.plugin.revoke_access("0").await.unwrap());
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        407
    );
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        200
    );
    assert_eq!(s.mock.calls("PLUGIN refresh todo"), 1);
    assert_eq!(s.mock.calls("PLUGIN register todo"), 1);
    let replay = s
        .http
        .post(format!("{}/api/token/refresh", s.url))
        .bearer_auth(&first_refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 401, "a refresh token works once");
}

pub async fn dead_refresh_token_makes_the_gateway_register_again(serve: Serve) {
    let s = stack(serve, |b| b).await;
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        200
    );
    assert!(s.plugin.revoke("0").await.unwrap());
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        407
    );
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        200
    );
    assert_eq!(s.mock.calls("PLUGIN register todo"), 2);
}

pub async fn handshake_is_served_at_the_urls_and_keys_the_manifest_names(serve: Serve) {
    let s = stack(serve, |b| {
        b.with_manifest(|m: Manifest| {
            m.handshake_urls("/auth/register", "/auth/refresh", "/auth/callback")
                .frontend_auth_urls("/auth/authorize", "/auth/un-authorize")
        })
        .token_keys("refreshToken", "accessToken")
    })
    .await;
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        200
    );
    assert_eq!(s.mock.calls("PLUGIN register todo"), 1);
    s.plugin.revoke_access("0").await.unwrap();
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        407
    );
    assert_eq!(
        s.call(reqwest::Method::GET, "/api/on/todo/whoami", None)
            .await
            .0,
        200
    );
    assert_eq!(
        s.mock.calls("PLUGIN refresh todo"),
        1,
        "refreshed at /auth/refresh"
    );
    let default_path = s
        .http
        .post(format!("{}/api/register", s.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        default_path.status().as_u16(),
        404,
        "not served at the default URL"
    );
    let refreshed = s
        .http
        .post(format!("{}/auth/refresh", s.url))
        .bearer_auth("x")
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status().as_u16(), 401);
}

fn cookie_pair(set_cookie: &str) -> (String, String) {
    let first = set_cookie.split(';').next().unwrap();
    let (n, v) = first.split_once('=').unwrap();
    (n.to_owned(), v.to_owned())
}

pub async fn micro_frontend_callback_authorize_cookie_crud_and_un_authorize(serve: Serve) {
    let s = stack(serve, |b| b).await;
    let return_url = format!("{}/board.html", s.url);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&return_url);
    // Qelos: the user opens the micro-frontend; Qelos calls the plugin's callbackUrl.
    let r = s
        .http
        .get(format!(
            "{}/api/plugins/{}/callback",
            s.mock.url(),
            s.plugin_id
        ))
        .query(&[("returnUrl", b64.as_str())])
        .bearer_auth(s.admin_bearer())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let answer: Value = r.json().await.unwrap();
    let (code, token) = (
        answer["code"].as_str().unwrap().to_owned(),
        answer["token"].as_str().unwrap().to_owned(),
    );
    // The micro-frontend trades the token for the cookie.
    let r = s
        .http
        .post(format!("{}/api/authorize", s.url))
        .json(&json!({"returnUrl": return_url, "token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    let (name, value) = cookie_pair(&set_cookie);
    assert_eq!(name, format!("token_{code}"));
    let who: Value = r.json().await.unwrap();
    assert_eq!(who["user"]["_id"], json!(s.mock.seed().admin.id));
    assert_eq!(who["tenant"], "0");
    // Another return URL, or a forged token, gets nothing.
    let r = s
        .http
        .post(format!("{}/api/authorize", s.url))
        .json(&json!({"returnUrl": "https://elsewhere.example/", "token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // With the cookie and the code header, the micro-frontend uses the crud directly.
    let cookie = format!("{name}={value}");
    let frontend = |method: reqwest::Method, path: &str| {
        s.http
            .request(method, format!("{}{path}", s.url))
            .header("code", &code)
            .header("cookie", &cookie)
    };
    let r = frontend(reqwest::Method::POST, "/api/play/todo-items")
        .json(&json!({"title": "milk", "secret": "kept inside"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["title"], "milk");
    assert!(created.get("secret").is_none(), "only public keys leave");
    let r = frontend(reqwest::Method::GET, "/api/play/todo-items")
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    // Without the cookie, or with another code, refused.
    let r = s
        .http
        .get(format!("{}/api/play/todo-items", s.url))
        .header("code", &code)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Un-authorize clears the cookie.
    let r = frontend(reqwest::Method::POST, "/api/un-authorize")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let cleared = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cleared.starts_with(&format!("token_{code}=;")), "{cleared}");
    assert!(cleared.contains("Max-Age=0"));
}

pub async fn crud_resource_round_trip_through_the_gateway(serve: Serve) {
    let s = stack(serve, |b| b).await;
    use reqwest::Method;
    let (status, created) = s
        .call(
            Method::POST,
            "/api/on/todo/todo-items",
            Some(json!({"title": "bread"})),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["_id"].as_str().unwrap().to_owned();
    let (_, list) = s
        .call(Method::GET, "/api/on/todo/todo-items?title=bread", None)
        .await;
    assert_eq!(list[0]["_id"], json!(id));
    let (status, updated) = s
        .call(
            Method::PUT,
            &format!("/api/on/todo/todo-items/{id}"),
            Some(json!({"done": true})),
        )
        .await;
    assert_eq!((status, updated["done"].clone()), (200, json!(true)));
    let (_, one) = s
        .call(Method::GET, &format!("/api/on/todo/todo-items/{id}"), None)
        .await;
    assert_eq!(
        (one["title"].clone(), one["done"].clone()),
        (json!("bread"), json!(true))
    );
    let (status, _) = s
        .call(
            Method::DELETE,
            &format!("/api/on/todo/todo-items/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = s
        .call(Method::GET, &format!("/api/on/todo/todo-items/{id}"), None)
        .await;
    assert_eq!(
        (status, body["message"].clone()),
        (404, json!("item not found"))
    );
    let (status, _) = s
        .call(
            Method::POST,
            "/api/on/todo/todo-items",
            Some(json!(["not", "an object"])),
        )
        .await;
    assert_eq!(status, 400);
}

pub async fn entity_changes_reach_the_subscribed_event_handler(serve: Serve) {
    let mut s = stack(serve, |b| b).await;
    let blueprint = "products".to_owned();
    let mut mint = MintRequest::for_user(&s.mock.seed().admin.username);
    mint.workspace = Some(s.mock.seed().workspaces[0].id.clone());
    let bearer = s.mock.mint_tokens(&mint).access;
    let (status, entity) = s
        .http
        .post(format!(
            "{}/api/blueprints/{blueprint}/entities",
            s.mock.url()
        ))
        .bearer_auth(bearer)
        .json(&json!({"metadata": {"name": "from qelos"}}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    let entity: Value = entity.json().await.unwrap();
    assert!(status < 300, "{status} {entity}");
    let event = tokio::time::timeout(Duration::from_secs(20), s.events.recv())
        .await
        .expect("the event arrives")
        .unwrap();
    assert_eq!(
        (
            event.source.as_str(),
            event.kind.as_str(),
            event.event_name.as_str()
        ),
        ("blueprints", blueprint.as_str(), "create")
    );
    assert_eq!(event.tenant, "0");
    assert_eq!(event.metadata["identifier"], entity["identifier"]);
    assert_eq!(s.mock.calls("PLUGIN event todo"), 1);
}

pub async fn a_body_over_the_limit_is_refused_413_even_without_a_length(serve: Serve) {
    let s = stack(serve, |b| b).await;
    // Chunked, no `Content-Length`: the limit must be counted while reading.
    let chunk = bytes::Bytes::from(vec![b'x'; 64 * 1024]);
    let chunks = qelos_plugin::MAX_BODY / chunk.len() + 4;
    let body = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let register = s.plugin.manifest().register_url.clone().unwrap();
    let answer = s
        .http
        .post(format!("{}{register}", s.url))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    // The server answers 413 mid-upload and may reset the connection before the client has
    // read that answer (unread data in its receive buffer): then the client sees a broken
    // connection instead, never a body that was read whole and handled.
    match answer {
        Ok(answer) => assert_eq!(answer.status().as_u16(), 413),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    // A new connection: the server may close the one it refused the upload on.
    let small = reqwest::Client::new()
        .post(format!("{}{register}", s.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_ne!(
        small.status().as_u16(),
        413,
        "a small body is still read after a refused one"
    );
}

/// Expands every scenario for one framework: `plugin_scenarios!(axum, apps::axum);`.
#[macro_export]
macro_rules! plugin_scenarios {
    ($name:ident, $serve:path) => {
        mod $name {
            use super::scenarios as s;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn minted_plugin_registers_and_the_user_arrives_through_the_gateway() {
                s::minted_plugin_registers_and_the_user_arrives_through_the_gateway($serve).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn forged_call_straight_to_the_plugin_is_refused_407_with_x_q_auth() {
                s::forged_call_straight_to_the_plugin_is_refused_407_with_x_q_auth($serve).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn revoked_access_is_refreshed_once_and_a_used_refresh_token_is_refused() {
                s::revoked_access_is_refreshed_once_and_a_used_refresh_token_is_refused($serve)
                    .await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dead_refresh_token_makes_the_gateway_register_again() {
                s::dead_refresh_token_makes_the_gateway_register_again($serve).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn handshake_is_served_at_the_urls_and_keys_the_manifest_names() {
                s::handshake_is_served_at_the_urls_and_keys_the_manifest_names($serve).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn micro_frontend_callback_authorize_cookie_crud_and_un_authorize() {
                s::micro_frontend_callback_authorize_cookie_crud_and_un_authorize($serve).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn crud_resource_round_trip_through_the_gateway() {
                s::crud_resource_round_trip_through_the_gateway($serve).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_body_over_the_limit_is_refused_413_even_without_a_length() {
                s::a_body_over_the_limit_is_refused_413_even_without_a_length($serve).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn entity_changes_reach_the_subscribed_event_handler() {
                s::entity_changes_reach_the_subscribed_event_handler($serve).await;
            }
        }
    };
}
