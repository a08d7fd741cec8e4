//! What operators see: the `qelos.resolve` span's fields and the rate-limited outage warning,
//! captured per test by a thread-local subscriber (no global subscriber: the tests hold under
//! `cargo test` as under nextest).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
use qelos_mock::{MintRequest, MockServer};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Everything the subscriber wrote, one line per event or closed span.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The closed `qelos.resolve` spans, in order.
    fn resolve_spans(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains("qelos.resolve{") && l.contains("pipeline: close"))
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// A `debug` subscriber for this thread only, printing spans when they close (with every field
/// recorded by then).
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

fn assert_fields(line: &str, fields: &[&str]) {
    for field in fields {
        assert!(line.contains(field), "{field} missing in: {line}");
    }
}

#[tokio::test]
async fn the_resolve_span_records_signed_in_the_cache_source_and_elapsed() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let integrator = Integrator::new(
        QelosConfig::builder(mock.url())
            .identity_cache(Duration::from_secs(30))
            .build()
            .unwrap(),
    );
    let head = RequestHead::new("/orders").header("authorization", &format!("Bearer {}", t.access));
    let (captured, _guard) = capture();
    assert!(matches!(integrator.resolve(&head).await, Ok(c) if c.is_authenticated()));
    assert!(matches!(integrator.resolve(&head).await, Ok(c) if c.is_authenticated()));
    let spans = captured.resolve_spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    assert_fields(
        &spans[0],
        &[
            "path=/orders",
            "outcome=\"signed_in\"",
            "reason=\"none\"",
            "cache=\"upstream\"",
            "refreshed=false",
            "elapsed_us=",
        ],
    );
    assert_fields(
        &spans[1],
        &[
            "outcome=\"signed_in\"",
            "cache=\"memory\"",
            "refreshed=false",
        ],
    );
    let all = captured.lines().join("\n");
    assert!(!all.contains(&t.access), "a token reached the log");
}

#[tokio::test]
async fn the_resolve_span_says_when_a_refresh_ran() {
    let mock = MockServer::start().await.unwrap();
    let mut req = MintRequest::for_user("test@test.com");
    req.expired = true;
    let t = mock.mint_tokens(&req);
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap());
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let (captured, _guard) = capture();
    let outcome = integrator
        .resolve(&RequestHead::new("/").header("cookie", &cookie))
        .await;
    assert!(matches!(outcome, Ok(c) if c.is_authenticated()));
    let spans = captured.resolve_spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_fields(&spans[0], &["outcome=\"signed_in\"", "refreshed=true"]);
    let all = captured.lines().join("\n");
    assert!(
        !all.contains(&t.refresh) && !all.contains(&t.access),
        "a token reached the log"
    );
}

#[tokio::test]
async fn anonymous_and_refused_requests_carry_their_reason() {
    let mock = MockServer::start().await.unwrap();
    let open = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap());
    let strict = Integrator::new(
        QelosConfig::builder(mock.url())
            .require_auth(true)
            .build()
            .unwrap(),
    );
    // Qelos refuses it, and refusing the refresh with it too ends the session.
    let bad_token = RequestHead::new("/").header("authorization", "Bearer not-a-token");
    let (captured, _guard) = capture();
    let _ = open.resolve(&RequestHead::new("/")).await;
    let _ = open.resolve(&bad_token).await;
    let _ = strict.resolve(&RequestHead::new("/")).await;
    let spans = captured.resolve_spans();
    assert_eq!(spans.len(), 3, "{spans:#?}");
    assert_fields(
        &spans[0],
        &[
            "outcome=\"anonymous\"",
            "reason=\"no_credentials\"",
            "cache=\"none\"",
        ],
    );
    assert_fields(
        &spans[1],
        &[
            "outcome=\"anonymous\"",
            "reason=\"session_expired\"",
            "cache=\"upstream\"",
            "refreshed=true",
        ],
    );
    assert_fields(
        &spans[2],
        &["outcome=\"refused\"", "reason=\"unauthorized\""],
    );
}

#[tokio::test]
async fn an_outage_logs_one_warning_for_many_requests_and_counts_the_rest_at_debug() {
    // A port nothing listens on: every identification fails as "unavailable".
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
    let (captured, _guard) = capture();
    for _ in 0..12 {
        let outcome = integrator.resolve(&head).await;
        assert!(matches!(outcome, Ok(c) if !c.is_authenticated()));
    }
    let lines = captured.lines();
    let warnings: Vec<&String> = lines.iter().filter(|l| l.contains(" WARN ")).collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(
        warnings[0].contains("Qelos unavailable") && warnings[0].contains("suppressed=0"),
        "{}",
        warnings[0]
    );
    let quiet = lines
        .iter()
        .filter(|l| {
            l.contains(" DEBUG ") && l.contains("Qelos unavailable while resolving the user")
        })
        .count();
    assert_eq!(quiet, 11, "the other outage reports stay at debug");
    let spans = captured.resolve_spans();
    assert_eq!(spans.len(), 12);
    assert!(
        spans.iter().all(|s| s.contains("reason=\"unavailable\"")),
        "{spans:#?}"
    );
}
