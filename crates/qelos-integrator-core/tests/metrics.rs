//! The metrics (feature `metrics`), read through a debugging recorder installed for this
//! thread only (`metrics::with_local_recorder`: no global recorder, so the test holds under
//! `cargo test` as under nextest).

#![cfg(feature = "metrics")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use qelos_integrator_core::proxy::{Inbound, Proxy};
use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
use qelos_mock::{MintRequest, MockServer};

/// One snapshot (taking one drains the histograms, so every check reads the same one).
type Snapshot = Vec<(
    CompositeKey,
    Option<metrics::Unit>,
    Option<metrics::SharedString>,
    DebugValue,
)>;

/// The value of the counter `name` with exactly these labels (0 when never recorded).
fn counter(snapshot: &Snapshot, name: &str, labels: &[(&str, &str)]) -> u64 {
    let mut total = 0;
    for (key, _, _, value) in snapshot {
        let key = key.key();
        let mut have: Vec<(&str, &str)> = key.labels().map(|l| (l.key(), l.value())).collect();
        let mut want = labels.to_vec();
        have.sort_unstable();
        want.sort_unstable();
        if let DebugValue::Counter(n) = value
            && key.name() == name
            && have == want
        {
            total += *n;
        }
    }
    total
}

/// How many samples the histogram `name` with this label holds.
fn samples(snapshot: &Snapshot, name: &str, label: (&str, &str)) -> usize {
    snapshot
        .iter()
        .filter(|(key, ..)| {
            key.key().name() == name && key.key().labels().any(|l| (l.key(), l.value()) == label)
        })
        .map(|(.., value)| match value {
            DebugValue::Histogram(values) => values.len(),
            _ => 0,
        })
        .sum()
}

fn signed_in(
    outcome: &Result<qelos_integrator_core::QelosContext, qelos_integrator_core::Rejection>,
) -> bool {
    matches!(outcome, Ok(ctx) if ctx.is_authenticated())
}

#[test]
fn requests_upstream_calls_refreshes_cache_hits_and_proxy_traffic_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        // One thread: every task (the mock's too) records into this thread's recorder.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mock = MockServer::start().await.unwrap();
            let config = QelosConfig::builder(mock.url())
                .identity_cache(Duration::from_secs(30))
                .build()
                .unwrap();
            let integrator = Integrator::new(config.clone());

            // Anonymous: decided without a call.
            let _ = integrator.resolve(&RequestHead::new("/")).await;

            // Signed in twice: Qelos first, the memory cache second.
            let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
            let bearer =
                RequestHead::new("/").header("authorization", &format!("Bearer {}", t.access));
            assert!(signed_in(&integrator.resolve(&bearer).await));
            assert!(signed_in(&integrator.resolve(&bearer).await));

            // An expired access token: one refresh.
            let mut expired = MintRequest::for_user("test@test.com");
            expired.expired = true;
            let e = mock.mint_tokens(&expired);
            let cookie = format!("q_access_token={}; q_refresh_token={}", e.access, e.refresh);
            assert!(signed_in(
                &integrator
                    .resolve(&RequestHead::new("/").header("cookie", &cookie))
                    .await
            ));

            // Through the proxy: one request, its body counted both ways.
            let body = r#"{"username":"test@test.com","password":"admin"}"#;
            let request = http::Request::builder()
                .method("POST")
                .uri("/api/signin")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let proxy = Proxy::with_target(&config, Some(&mock.url()));
            let response = proxy.forward(request, Inbound::default()).await;
            assert_eq!(response.status(), 200);
            let answer = response.into_body().collect().await.unwrap().to_bytes();
            assert!(!answer.is_empty());

            let s = &snapshotter.snapshot().into_vec();
            assert_eq!(
                counter(
                    s,
                    "qelos_requests_total",
                    &[("outcome", "anonymous"), ("reason", "no_credentials")]
                ),
                1
            );
            assert_eq!(
                counter(
                    s,
                    "qelos_requests_total",
                    &[("outcome", "signed_in"), ("reason", "none")]
                ),
                3
            );
            assert_eq!(
                counter(s, "qelos_identity_lookups_total", &[("source", "upstream")]),
                2
            );
            assert_eq!(
                counter(s, "qelos_identity_lookups_total", &[("source", "memory")]),
                1
            );
            assert_eq!(
                counter(
                    s,
                    "qelos_upstream_calls_total",
                    &[("call", "me"), ("result", "ok")]
                ),
                2
            );
            assert_eq!(
                counter(
                    s,
                    "qelos_upstream_calls_total",
                    &[("call", "workspaces"), ("result", "ok")]
                ),
                2
            );
            assert_eq!(
                counter(
                    s,
                    "qelos_upstream_calls_total",
                    &[("call", "refresh"), ("result", "ok")]
                ),
                1
            );
            assert_eq!(counter(s, "qelos_refreshes_total", &[("result", "ok")]), 1);
            assert_eq!(
                samples(s, "qelos_upstream_duration_seconds", ("call", "me")),
                2
            );
            assert_eq!(
                samples(
                    s,
                    "qelos_resolve_duration_seconds",
                    ("outcome", "signed_in")
                ),
                3
            );
            assert_eq!(
                counter(s, "qelos_proxy_requests_total", &[("status", "2xx")]),
                1
            );
            assert_eq!(
                counter(s, "qelos_proxy_bytes_total", &[("direction", "request")]),
                body.len() as u64
            );
            assert_eq!(
                counter(s, "qelos_proxy_bytes_total", &[("direction", "response")]),
                answer.len() as u64
            );
        });
    });
}

#[test]
fn an_outage_is_counted_as_unavailable_calls_and_anonymous_requests() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let integrator = Integrator::new(
                QelosConfig::builder(format!("http://127.0.0.1:{port}"))
                    .build()
                    .unwrap(),
            );
            let head = RequestHead::new("/").header("authorization", "Bearer a.b.c");
            for _ in 0..3 {
                let _ = integrator.resolve(&head).await;
            }
        });
    });
    let s = &snapshotter.snapshot().into_vec();
    assert_eq!(
        counter(
            s,
            "qelos_requests_total",
            &[("outcome", "anonymous"), ("reason", "unavailable")]
        ),
        3
    );
    assert_eq!(
        counter(
            s,
            "qelos_upstream_calls_total",
            &[("call", "me"), ("result", "unavailable")]
        ),
        3
    );
}
