//! Two plugin processes sharing a real `redis-server`: registrations, single-use refresh and
//! tenant SDK tokens hold across them.

#![cfg(feature = "redis")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    dead_code
)]

#[path = "frameworks/apps.rs"]
mod apps;
#[path = "../../qelos-integrator-core/tests/support/redis_server.rs"]
mod redis_server;
#[path = "frameworks/scenarios.rs"]
mod scenarios;

use std::net::TcpListener;
use std::sync::Arc;

use qelos_plugin::{Plugin, RedisStore, RegistrationStore, StoredRegistration};
use redis_server::RedisServer;
use serde_json::Value;

const KEY: &str = "registration key shared by both";

fn second_process(redis: &RedisServer) -> (Plugin, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let plugin = Plugin::builder("todo", &url)
        .minted_tokens(scenarios::ACCESS_SECRET, scenarios::REFRESH_SECRET)
        .encryption_key(KEY)
        .store(Arc::new(RedisStore::new(&redis.url()).unwrap()))
        .build()
        .unwrap();
    apps::axum(plugin.clone(), listener);
    (plugin, url)
}

async fn first_process(redis: &RedisServer) -> scenarios::Stack {
    let store = Arc::new(RedisStore::new(&redis.url()).unwrap());
    let s = scenarios::stack(apps::axum, move |b| b.encryption_key(KEY).store(store)).await;
    let (status, _) = s
        .call(reqwest::Method::GET, "/api/on/todo/whoami", None)
        .await;
    assert_eq!(status, 200, "registered through process A");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_made_by_one_process_is_honoured_by_the_other() {
    let redis = RedisServer::start();
    let a = first_process(&redis).await;
    let (b, b_url) = second_process(&redis);
    let access = a.mock.plugin_token("0", "todo").unwrap();
    let r = a
        .http
        .get(format!("{b_url}/api/play/whoami"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["tenant"], "0");
    let me = b
        .sdk_for_tenant("0")
        .await
        .unwrap()
        .get_logged_in_user()
        .await
        .unwrap();
    assert!(me.roles.iter().any(|r| r == "plugin"));
    // What Redis holds is sealed.
    let raw = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut raw = raw;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("qelos-plugin:registration:*")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    let record: String = redis::cmd("HGET")
        .arg(&keys[0])
        .arg("record")
        .query_async(&mut raw)
        .await
        .unwrap();
    let reg = b.registration("0").await.unwrap().unwrap();
    assert!(!record.contains(reg.password.expose()));
    assert!(!record.contains(&reg.username));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_token_presented_to_both_processes_at_once_works_once() {
    let redis = RedisServer::start();
    let a = first_process(&redis).await;
    let (_b, b_url) = second_process(&redis);
    let refresh = a.mock.plugin_refresh_token("0", "todo").unwrap();
    let post = |url: String| {
        let http = a.http.clone();
        let refresh = refresh.clone();
        async move {
            http.post(format!("{url}/api/token/refresh"))
                .bearer_auth(refresh)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (x, y) = tokio::join!(post(a.url.clone()), post(b_url.clone()));
    let mut statuses = [x, y];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401], "exactly one process rotated it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_one_process_rotates_are_used_by_the_other() {
    let redis = RedisServer::start();
    let a = first_process(&redis).await;
    let (b, _) = second_process(&redis);
    let before = a
        .plugin
        .registration("0")
        .await
        .unwrap()
        .unwrap()
        .qelos_tokens;
    a.mock
        .expire_token(before.access.as_ref().unwrap().expose());
    let sdk_b = b.sdk_for_tenant("0").await.unwrap();
    let sdk_a = a.plugin.sdk_for_tenant("0").await.unwrap();
    sdk_b.get_logged_in_user().await.unwrap();
    let refreshes = a.mock.calls("POST /api/token/refresh");
    // A's SDK still holds the expired pair: on its 401 it takes B's stored pair instead of
    // spending the (now used) refresh token.
    sdk_a.get_logged_in_user().await.unwrap();
    assert_eq!(a.mock.calls("POST /api/token/refresh"), refreshes);
    assert_eq!(sdk_a.tokens(), sdk_b.tokens());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_and_swap_refuses_a_stale_revision() {
    let redis = RedisServer::start();
    let store = RedisStore::new(&redis.url()).unwrap().with_prefix("t:");
    let rec = |revision| StoredRegistration {
        id: "r1".into(),
        tenant: "0".into(),
        revision,
        access_epoch: 0,
        refresh_identifier: "h".into(),
        sealed: "s".into(),
    };
    assert!(store.compare_and_swap(None, rec(1)).await.unwrap());
    assert!(!store.compare_and_swap(None, rec(1)).await.unwrap());
    assert!(store.compare_and_swap(Some(1), rec(2)).await.unwrap());
    assert!(!store.compare_and_swap(Some(1), rec(2)).await.unwrap());
    assert_eq!(store.find_tenant("0").await.unwrap().unwrap().revision, 2);
    assert_eq!(store.load("r1").await.unwrap(), Some(rec(2)));
    assert_eq!(store.load("nope").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_with_another_encryption_key_gets_a_clear_store_error() {
    let redis = RedisServer::start();
    let _a = first_process(&redis).await;
    let other = Plugin::builder("todo", "http://127.0.0.1:1")
        .minted_tokens(scenarios::ACCESS_SECRET, scenarios::REFRESH_SECRET)
        .encryption_key("a different key, 32 bytes long..")
        .store(Arc::new(RedisStore::new(&redis.url()).unwrap()))
        .build()
        .unwrap();
    let err = other.registration("0").await.unwrap_err();
    assert!(err.to_string().contains("did not decrypt"), "{err}");
}
