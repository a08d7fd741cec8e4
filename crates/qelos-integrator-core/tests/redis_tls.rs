//! The Redis backend over TLS (`rediss://`) against a real TLS-only `redis-server`, with
//! certificates generated per test.

#![cfg(feature = "redis-tls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support {
    pub(crate) mod redis_tls_server;
}

use std::sync::Arc;
use std::time::Duration;

use qelos_integrator_core::qelos_sdk::{Secret, TokenPair};
use qelos_integrator_core::store::SharedStore;
use qelos_integrator_core::store::StoreError;
use qelos_integrator_core::store::redis::{RedisStore, RedisTls};
use qelos_integrator_core::{QelosConfig, RefreshCoordinator};
use qelos_mock::{MintRequest, MockServer};
use support::redis_tls_server::RedisTlsServer;

fn trusting(server: &RedisTlsServer) -> RedisTls {
    RedisTls::new().root_certificate(server.pem("ca.pem"))
}

#[tokio::test]
async fn a_rediss_store_verified_by_a_private_ca_locks_and_round_trips_values() {
    let server = RedisTlsServer::start(false);
    let store = RedisStore::with_tls(&server.url(), trusting(&server))
        .unwrap()
        .with_timeout(Duration::from_secs(2));
    let ttl = Duration::from_secs(5);
    assert!(store.try_lock("l", "a", ttl).await.unwrap());
    assert!(!store.try_lock("l", "b", ttl).await.unwrap());
    store.unlock("l", "a").await.unwrap();
    assert!(store.try_lock("l", "b", ttl).await.unwrap());
    store.set("v", vec![7, 0, 255], ttl).await.unwrap();
    assert_eq!(store.get("v").await.unwrap(), Some(vec![7, 0, 255]));
}

#[tokio::test]
async fn a_server_certificate_from_an_unknown_ca_is_refused() {
    let server = RedisTlsServer::start(false);
    // The system's roots do not know the test CA.
    let store = RedisStore::new(&server.url())
        .unwrap()
        .with_timeout(Duration::from_secs(2));
    let answer = store.get("k").await;
    assert!(
        matches!(
            answer,
            Err(StoreError::Unavailable(_) | StoreError::Timeout)
        ),
        "{answer:?}"
    );
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() {
    let server = RedisTlsServer::start(true);
    let without = RedisStore::with_tls(&server.url(), trusting(&server))
        .unwrap()
        .with_timeout(Duration::from_secs(2));
    assert!(
        without.get("k").await.is_err(),
        "no client certificate: refused"
    );
    let with = RedisStore::with_tls(
        &server.url(),
        trusting(&server).client_identity(server.pem("client.pem"), server.pem("client.key")),
    )
    .unwrap()
    .with_timeout(Duration::from_secs(2));
    with.set("k", b"v".to_vec(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(with.get("k").await.unwrap(), Some(b"v".to_vec()));
}

#[tokio::test]
async fn a_plain_text_client_cannot_use_the_tls_port() {
    let server = RedisTlsServer::start(false);
    let plain = RedisStore::new(&server.plain_url())
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    assert!(plain.get("k").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_over_rediss_refresh_a_token_once() {
    let server = RedisTlsServer::start(false);
    let mock = MockServer::start().await.unwrap();
    let mut req = MintRequest::for_user("test@test.com");
    req.expired = true;
    let t = mock.mint_tokens(&req);
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    let instance = || {
        let store = RedisStore::with_tls(&server.url(), trusting(&server))
            .unwrap()
            .with_timeout(Duration::from_secs(2));
        Arc::new(RefreshCoordinator::new(Duration::from_secs(30)).with_store(Arc::new(store)))
    };
    let (a, b) = (instance(), instance());
    mock.reset_calls();
    let current = TokenPair::new(
        Some(Secret::new(t.access.clone())),
        Some(Secret::new(t.refresh.clone())),
    );
    let results = futures_util::future::join_all((0..20).map(|i| {
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
        mock.calls("POST /api/token/refresh"),
        1,
        "one refresh across both instances"
    );
}
