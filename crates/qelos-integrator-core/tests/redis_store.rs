//! The Redis backend against a real `redis-server` (started on a free port per test).

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support {
    pub(crate) mod redis_server;
}

use std::sync::Arc;
use std::time::Duration;

use qelos_integrator_core::qelos_sdk::{Secret, TokenPair};
use qelos_integrator_core::store::SharedStore;
use qelos_integrator_core::store::redis::RedisStore;
use qelos_integrator_core::{
    Integrator, Outcome, QelosConfig, QelosContext, RefreshCoordinator, RequestHead,
};
use qelos_mock::{MintRequest, MintedTokens, MockServer};
use support::redis_server::RedisServer;

const REFRESH: &str = "POST /api/token/refresh";

fn expired_tokens(mock: &MockServer) -> MintedTokens {
    let mut req = MintRequest::for_user("test@test.com");
    req.expired = true;
    mock.mint_tokens(&req)
}

fn pair(t: &MintedTokens) -> TokenPair {
    TokenPair::new(
        Some(Secret::new(t.access.clone())),
        Some(Secret::new(t.refresh.clone())),
    )
}

fn store(redis: &RedisServer) -> Arc<RedisStore> {
    Arc::new(
        RedisStore::new(&redis.url())
            .unwrap()
            .with_timeout(Duration::from_secs(2)),
    )
}

fn signed_in(outcome: Outcome) -> QelosContext {
    match outcome {
        Outcome::Continue(ctx) => ctx,
        other => panic!("expected a context, got {other:?}"),
    }
}

async fn raw_redis(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn redis_locks_are_exclusive_owner_checked_and_values_round_trip() {
    let redis = RedisServer::start();
    let store = store(&redis);
    let ttl = Duration::from_secs(5);
    assert!(store.try_lock("l", "a", ttl).await.unwrap());
    assert!(!store.try_lock("l", "b", ttl).await.unwrap());
    store.unlock("l", "b").await.unwrap();
    assert!(
        !store.try_lock("l", "b", ttl).await.unwrap(),
        "only the owner releases"
    );
    store.unlock("l", "a").await.unwrap();
    assert!(store.try_lock("l", "b", ttl).await.unwrap());
    assert_eq!(store.get("v").await.unwrap(), None);
    store.set("v", vec![0, 1, 255], ttl).await.unwrap();
    assert_eq!(store.get("v").await.unwrap(), Some(vec![0, 1, 255]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis_refresh_a_token_once_and_share_the_pair() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    let a = Arc::new(RefreshCoordinator::new(Duration::from_secs(30)).with_store(store(&redis)));
    let b = Arc::new(RefreshCoordinator::new(Duration::from_secs(30)).with_store(store(&redis)));
    mock.reset_calls();
    let current = pair(&t);
    let results = futures_util::future::join_all((0..40).map(|i| {
        let coordinator = if i % 2 == 0 { &a } else { &b };
        coordinator.refresh(config.base_sdk(), &current)
    }))
    .await;
    let first = results[0].clone().unwrap();
    assert!(
        results.iter().all(|r| r.as_ref() == Ok(&first)),
        "{results:?}"
    );
    assert_eq!(
        mock.calls(REFRESH),
        1,
        "one upstream refresh for both instances"
    );
}

#[tokio::test]
async fn a_crashed_winners_lock_expires_and_a_waiter_refreshes_itself() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    let store = store(&redis);
    // An instance took the lock and died before publishing anything.
    let key = RefreshCoordinator::key_for(&pair(&t)).unwrap();
    let lock = format!("refresh:lock:{}", key.to_hex());
    assert!(
        store
            .try_lock(&lock, "crashed-instance", Duration::from_millis(300))
            .await
            .unwrap()
    );
    let survivor = RefreshCoordinator::new(Duration::from_secs(30))
        .with_store(store)
        .with_lock_ttl(Duration::from_millis(300));
    mock.reset_calls();
    let result = survivor.refresh(config.base_sdk(), &pair(&t)).await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(mock.calls(REFRESH), 1);
}

#[tokio::test]
async fn redis_holds_no_raw_token_in_keys_or_values() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    let config = QelosConfig::builder(mock.url())
        .shared_store(store(&redis))
        .shared_identity_cache(Duration::from_secs(30))
        .build()
        .unwrap();
    let integrator = Integrator::new(config);
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let ctx = signed_in(
        integrator
            .resolve(&RequestHead::new("/").header("cookie", &cookie))
            .await,
    );
    assert!(ctx.is_authenticated());
    let new = ctx.tokens();
    let mut conn = raw_redis(&redis).await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        keys.iter().any(|k| k.starts_with("qelos:refresh:pair:")),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.starts_with("qelos:identity:")),
        "{keys:?}"
    );
    let mut secrets = vec![t.access.clone(), t.refresh.clone()];
    secrets.extend(new.access.iter().map(|s| s.expose().to_owned()));
    secrets.extend(new.refresh.iter().map(|s| s.expose().to_owned()));
    for key in &keys {
        let value: Vec<u8> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        for secret in &secrets {
            assert!(!key.contains(secret.as_str()), "a token in key {key}");
            assert!(
                !value.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a token in the value of {key}"
            );
        }
        assert!(
            !value.windows(13).any(|w| w == b"test@test.com"),
            "the identity is encrypted too"
        );
    }
}

#[tokio::test]
async fn the_shared_identity_cache_serves_another_instance_without_upstream_calls() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let instance = || {
        Integrator::new(
            QelosConfig::builder(mock.url())
                .shared_store(store(&redis))
                .shared_identity_cache(Duration::from_secs(30))
                .build()
                .unwrap(),
        )
    };
    let (a, b) = (instance(), instance());
    let head = RequestHead::new("/").header("authorization", &format!("Bearer {}", t.access));
    mock.reset_calls();
    let first = signed_in(a.resolve(&head).await);
    assert_eq!(mock.calls("GET /api/me"), 1);
    let second = signed_in(b.resolve(&head).await);
    assert_eq!(
        mock.calls("GET /api/me"),
        1,
        "instance b read instance a's entry"
    );
    assert_eq!(first.user().map(|u| &u.id), second.user().map(|u| &u.id));
    assert_eq!(first.workspaces().len(), second.workspaces().len());
}

#[tokio::test]
async fn with_redis_down_requests_refresh_in_process_and_stay_signed_in() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.kill();
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    let config = QelosConfig::builder(mock.url())
        .shared_store(Arc::new(RedisStore::new(&url).unwrap()))
        .shared_identity_cache(Duration::from_secs(30))
        .build()
        .unwrap();
    let integrator = Integrator::new(config);
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let head = RequestHead::new("/").header("cookie", &cookie);
    mock.reset_calls();
    let results = futures_util::future::join_all((0..20).map(|_| integrator.resolve(&head))).await;
    for outcome in results {
        assert!(signed_in(outcome).is_authenticated());
    }
    assert_eq!(
        mock.calls(REFRESH),
        1,
        "in-process single flight still holds"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_token_is_tried_once_and_refused_on_every_instance() {
    let redis = RedisServer::start();
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    mock.expire_token(&t.refresh);
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    let a = RefreshCoordinator::new(Duration::from_secs(30)).with_store(store(&redis));
    let b = RefreshCoordinator::new(Duration::from_secs(30)).with_store(store(&redis));
    mock.reset_calls();
    let current = pair(&t);
    let results = futures_util::future::join_all((0..20).map(|i| {
        let coordinator = if i % 2 == 0 { &a } else { &b };
        coordinator.refresh(config.base_sdk(), &current)
    }))
    .await;
    assert!(
        results
            .iter()
            .all(|r| *r == Err(qelos_integrator_core::RefreshError::Rejected)),
        "{results:?}"
    );
    assert_eq!(mock.calls(REFRESH), 1, "the refusal is shared, not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_after_redis_restarted_uses_a_new_connection_instead_of_failing() {
    let mut redis = RedisServer::start();
    let store = store(&redis);
    store
        .set("k", b"before".to_vec(), Duration::from_secs(30))
        .await
        .unwrap();
    // Redis restarts while the instance is idle: its one connection is dead, and the next
    // burst of commands all go out on it.
    redis.restart();
    let answers = futures_util::future::join_all((0..20).map(|_| store.get("k"))).await;
    for answer in &answers {
        assert!(
            matches!(answer, Ok(None)),
            "every command of the burst reached the new Redis: {answer:?}"
        );
    }
    assert!(
        store
            .try_lock("l", "me", Duration::from_secs(5))
            .await
            .unwrap(),
        "not in a cool-down afterwards"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_refreshed_while_redis_was_down_is_published_once_it_is_back() {
    let mut redis = RedisServer::start();
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    let url = redis.url();
    let a = RefreshCoordinator::new(Duration::from_secs(30))
        .with_store(Arc::new(RedisStore::new(&url).unwrap()));
    redis.kill();
    mock.reset_calls();
    let fresh = a.refresh(config.base_sdk(), &pair(&t)).await;
    assert!(fresh.is_ok(), "refreshed in-process: {fresh:?}");
    redis.restart();
    // Another instance is refused the rotated token: it must find instance a's pair, offered
    // again once Redis answers, instead of ending the session.
    let b = RefreshCoordinator::new(Duration::from_secs(30))
        .with_store(Arc::new(RedisStore::new(&url).unwrap()));
    let found = b.refresh(config.base_sdk(), &pair(&t)).await;
    assert_eq!(found, fresh, "instance b hands out instance a's pair");
    assert!(
        mock.calls(REFRESH) <= 2,
        "a's refresh, and at most b's refused one"
    );
}

/// A store whose lock works and whose reads time out after the first `reads_ok`: an instance
/// that takes the lock and then cannot see what other instances publish.
#[derive(Debug, Default)]
struct ReadsFail {
    store: qelos_integrator_core::store::MemoryStore,
    reads_ok: usize,
    reads: std::sync::atomic::AtomicUsize,
}

impl ReadsFail {
    fn after(reads_ok: usize) -> Self {
        Self {
            reads_ok,
            ..Self::default()
        }
    }
}

impl SharedStore for ReadsFail {
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> futures_util::future::BoxFuture<'a, Result<bool, qelos_integrator_core::store::StoreError>>
    {
        self.store.try_lock(key, owner, ttl)
    }
    fn unlock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
    ) -> futures_util::future::BoxFuture<'a, Result<(), qelos_integrator_core::store::StoreError>>
    {
        self.store.unlock(key, owner)
    }
    fn get<'a>(
        &'a self,
        key: &'a str,
    ) -> futures_util::future::BoxFuture<
        'a,
        Result<Option<Vec<u8>>, qelos_integrator_core::store::StoreError>,
    > {
        let n = self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < self.reads_ok {
            self.store.get(key)
        } else {
            Box::pin(async { Err(qelos_integrator_core::store::StoreError::Timeout) })
        }
    }
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> futures_util::future::BoxFuture<'a, Result<(), qelos_integrator_core::store::StoreError>>
    {
        self.store.set(key, value, ttl)
    }
}

#[tokio::test]
async fn a_refusal_the_store_cannot_confirm_is_unavailable_not_the_end_of_the_session() {
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    // Qelos refuses the token, as it does once another instance has used it.
    mock.expire_token(&t.refresh);
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    // One look finds nothing, the lock is taken, Qelos refuses, and every look after that
    // fails: another instance's pair may be there unseen.
    let coordinator =
        RefreshCoordinator::new(Duration::from_secs(30)).with_store(Arc::new(ReadsFail::after(1)));
    let result = coordinator.refresh(config.base_sdk(), &pair(&t)).await;
    assert!(
        matches!(
            result,
            Err(qelos_integrator_core::RefreshError::Unavailable(_))
        ),
        "the cookies stay: {result:?}"
    );
}

#[tokio::test]
async fn a_store_whose_reads_keep_timing_out_does_not_hold_a_refresh_forever() {
    let mock = MockServer::start().await.unwrap();
    let t = expired_tokens(&mock);
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    let coordinator = RefreshCoordinator::new(Duration::from_secs(30))
        .with_store(Arc::new(ReadsFail::after(0)))
        .with_lock_ttl(Duration::from_millis(200));
    mock.reset_calls();
    // A guard against a hang only (the flight gives up after 1.5 lock TTLs).
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        coordinator.refresh(config.base_sdk(), &pair(&t)),
    )
    .await
    .expect("the flight went in-process instead of polling the store forever");
    assert!(result.is_ok(), "refreshed in-process: {result:?}");
    assert_eq!(mock.calls(REFRESH), 1);
}
