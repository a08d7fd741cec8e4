//! Two instances of the axum contract app behind one Redis and one qelos-mock, as in a
//! deployment behind a load balancer (`docs/scaling.md`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

#[path = "../examples/contract.rs"]
#[allow(dead_code)]
mod contract;

// One `redis-server` harness for the workspace's Redis tests (core's and this one).
#[path = "../../qelos-integrator-core/tests/support/redis_server.rs"]
mod redis_server;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use qelos_contract::app::config_builder;
use qelos_contract::{QelosConfig, RunningApp};
use qelos_integrator_core::store::redis::RedisStore;
use qelos_mock::{MintRequest, MintedTokens, MockServer};
use redis_server::RedisServer;
use serde_json::{Value, json};

const REFRESH: &str = "POST /api/token/refresh";

fn spawn(config: QelosConfig) -> RunningApp {
    contract::spawn(config).expect("contract app starts")
}

/// One instance: the contract app with its own Redis connection, as a separate process has.
fn instance(mock: &MockServer, redis_url: &str) -> RunningApp {
    let store = RedisStore::new(redis_url)
        .expect("valid Redis URL")
        .with_timeout(Duration::from_millis(500));
    let config = config_builder(&mock.url())
        .shared_store(Arc::new(store))
        .shared_identity_cache(Duration::from_secs(30))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("valid config");
    spawn(config)
}

fn admin_tokens(mock: &MockServer, expired: bool) -> MintedTokens {
    let mut req = MintRequest::for_user(&mock.seed().admin.username);
    req.expired = expired;
    mock.mint_tokens(&req)
}

struct Reply {
    status: u16,
    body: Value,
    set_cookies: Vec<String>,
}

impl Reply {
    fn cookie_value(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        let c = self.set_cookies.iter().find(|c| c.starts_with(&prefix))?;
        Some(c.split(';').next()?.split_once('=')?.1.to_owned())
    }
}

async fn get(http: &reqwest::Client, app: &RunningApp, header: (&str, &str)) -> Reply {
    let resp = http
        .get(format!("{}/me", app.url()))
        .header(header.0, header.1)
        .send()
        .await
        .expect("the app answers");
    let status = resp.status().as_u16();
    let set_cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let body = serde_json::from_slice(&resp.bytes().await.expect("body")).unwrap_or(Value::Null);
    Reply {
        status,
        body,
        set_cookies,
    }
}

fn cookies(t: &MintedTokens) -> String {
    format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

fn assert_signed_in(mock: &MockServer, r: &Reply) {
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["userId"],
        json!(mock.seed().admin.id),
        "{:?}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_requests_over_two_instances_refresh_once_and_all_sign_in() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.expect("mock starts");
    let apps = [instance(&mock, &redis.url()), instance(&mock, &redis.url())];
    let http = client();
    let t = admin_tokens(&mock, true);
    mock.reset_calls();
    let cookie = cookies(&t);
    let replies = futures_util::future::join_all(
        (0..50).map(|i| get(&http, &apps[i % 2], ("cookie", &cookie))),
    )
    .await;
    let mut pairs = HashSet::new();
    for r in &replies {
        assert_signed_in(&mock, r);
        pairs.insert((
            r.cookie_value("q_access_token"),
            r.cookie_value("q_refresh_token"),
        ));
    }
    assert_eq!(
        mock.calls(REFRESH),
        1,
        "exactly one upstream refresh for 50 requests on two instances"
    );
    assert_eq!(
        pairs.len(),
        1,
        "every response sets the same pair: {pairs:?}"
    );
    assert!(pairs.iter().all(|(a, r)| a.is_some() && r.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_redis_mid_run_fails_no_request() {
    let logs = qelos_contract::capture_logs();
    let mut redis = RedisServer::start();
    let mock = MockServer::start().await.expect("mock starts");
    let apps = [instance(&mock, &redis.url()), instance(&mock, &redis.url())];
    let http = client();
    let signed_in = admin_tokens(&mock, false);
    // Ten sessions whose access token has expired: each needs one refresh. A session's
    // requests go to one instance (once Redis is gone, only in-process coordination is left).
    let expired: Vec<MintedTokens> = (0..10).map(|_| admin_tokens(&mock, true)).collect();
    let bearer = format!("Bearer {}", signed_in.access);
    let expired_cookies: Vec<String> = expired.iter().map(cookies).collect();
    let done = AtomicUsize::new(0);
    let redis_cell = std::sync::Mutex::new(&mut redis);
    let replies: Vec<Reply> = futures_util::stream::iter(0..200)
        .map(|i| {
            let (app, header) = if i % 2 == 0 {
                (&apps[(i / 2) % 2], ("authorization", bearer.as_str()))
            } else {
                let session = (i / 20) % 10;
                (
                    &apps[session % 2],
                    ("cookie", expired_cookies[session].as_str()),
                )
            };
            let http = &http;
            let done = &done;
            let redis_cell = &redis_cell;
            async move {
                let reply = get(http, app, header).await;
                if done.fetch_add(1, Ordering::SeqCst) + 1 == 100 {
                    // Half-way, with requests still in flight: Redis dies.
                    redis_cell.lock().unwrap().kill();
                }
                reply
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(replies.len(), 200);
    for r in &replies {
        assert_signed_in(&mock, r);
    }
    assert_eq!(mock.calls(REFRESH), 10, "one refresh per expired session");
    let logs = logs.text();
    assert!(
        logs.contains("WARN") && logs.contains("Redis"),
        "the fallback to in-process is logged as a warning"
    );
    for t in expired.iter().chain([&signed_in]) {
        assert!(
            !logs.contains(&t.access) && !logs.contains(&t.refresh),
            "no token in the logs"
        );
    }
}
