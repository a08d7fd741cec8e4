//! Secrets never leak: not in `Debug`, not in error text, not in the trace of upstream calls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use qelos_mock::Fault;
use qelos_sdk::{Auth, Credentials, Error, NewApiToken, QelosSdk, Secret, TokenPair};
use support::*;

/// Asserts that none of `secrets` (or a long piece of one) appears in `text`.
fn assert_hidden(text: &str, secrets: &[&str]) {
    for secret in secrets {
        let piece = &secret[secret.len().saturating_sub(24)..];
        assert!(!text.contains(piece), "secret piece {piece:?} in:\n{text}");
    }
}

#[test]
fn debug_of_secrets_pairs_auth_and_the_sdk_is_redacted() {
    let access = "eyJhbGciOiJIUzI1NiJ9.access-token-value-1234567890";
    let refresh = "eyJhbGciOiJIUzI1NiJ9.refresh-token-value-1234567890";
    let pair = TokenPair::new(Some(access.into()), Some(refresh.into()));
    let sdk = QelosSdk::builder("http://localhost:3000")
        .oauth(pair.clone())
        .build()
        .unwrap();
    let texts = [
        format!("{:?}", Secret::new(access)),
        format!("{pair:?}"),
        format!("{:?}", Auth::OAuth(pair.clone())),
        format!("{:?}", Auth::CookieSession(Secret::new(access))),
        format!("{:?}", Auth::ApiToken(Secret::new(refresh))),
        format!("{sdk:?}"),
        format!("{:?}", sdk.tokens()),
        format!(
            "{:?}",
            QelosSdk::builder("http://localhost:3000").oauth(pair)
        ),
        format!("{:?}", Credentials::new("a@b.c", access)),
    ];
    for text in &texts {
        assert_hidden(text, &[access, refresh]);
    }
    assert_eq!(texts[0], "Secret(\"***\")");
    assert!(texts[5].contains("localhost:3000") && texts[5].contains("OAuth"));
}

#[tokio::test]
async fn results_that_carry_tokens_or_cookies_debug_without_them() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let signin = base
        .signin(&Credentials::new("test@test.com", "admin"))
        .await
        .unwrap();
    let cookie_value = signin.set_cookies[0]
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("qlt_0=")
        .to_owned();
    let oauth = base
        .oauth_signin(&Credentials::new("test@test.com", "admin"))
        .await
        .unwrap();
    let sdk = base.with_auth(Auth::OAuth(oauth.tokens.clone()), None);
    let created = sdk
        .create_api_token(&NewApiToken::new("debug", "2099-01-01T00:00:00.000Z"))
        .await
        .unwrap();
    let minted = mock.mint_tokens(&qelos_mock::MintRequest::for_user("test@test.com"));
    let refreshed = base
        .refresh_cookie_token(Some(&Secret::new(minted.cookie.clone())))
        .await
        .unwrap();
    let text = format!("{signin:?} {oauth:?} {created:?} {refreshed:?}");
    assert!(text.contains("qlt_0=***"), "{text}");
    assert_hidden(
        &text,
        &[
            &cookie_value,
            oauth.tokens.access.as_ref().unwrap().expose(),
            oauth.tokens.refresh.as_ref().unwrap().expose(),
            created.token.expose(),
            refreshed.cookie_token.expose(),
        ],
    );
}

#[tokio::test]
async fn error_text_never_holds_a_token() {
    let mock = mock().await;
    let pair = minted(&mock, true);
    let refresh = pair.refresh.clone().unwrap();
    mock.expire_token(refresh.expose());
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(pair.clone()), None);
    let mut errors = vec![
        sdk.get_logged_in_user().await.unwrap_err(),
        anonymous(&mock).exchange_tokens(&pair).await.unwrap_err(),
        anonymous(&mock)
            .exchange_auth_callback(&refresh)
            .await
            .unwrap_err(),
        anonymous(&mock)
            .api_token_signin(Secret::new("ql_0123456789abcdef0123456789abcdef"))
            .await
            .unwrap_err(),
    ];
    // Transport errors on a URL that carries the token in its query.
    mock.set_fault("POST /api/auth/callback", Fault::DropConnection);
    errors.push(
        anonymous(&mock)
            .exchange_auth_callback(&refresh)
            .await
            .unwrap_err(),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = QelosSdk::builder(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    errors.push(closed.exchange_auth_callback(&refresh).await.unwrap_err());
    assert!(matches!(errors[4], Error::Network(_)), "{:?}", errors[4]);
    assert!(matches!(errors[5], Error::Network(_)), "{:?}", errors[5]);
    let text: String = errors.iter().map(|e| format!("{e} | {e:?}\n")).collect();
    assert_hidden(
        &text,
        &[
            pair.access.as_ref().unwrap().expose(),
            refresh.expose(),
            "0123456789abcdef0123456789abcdef",
        ],
    );
}

#[tokio::test]
async fn decode_errors_hold_no_body_content() {
    let mock = mock().await;
    mock.set_fault("GET /api/workspaces", Fault::GarbageJson);
    let err = admin(&mock).await.workspaces().list().await.unwrap_err();
    let Error::Decode { status, detail } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, 200);
    assert!(detail.contains(" at line 1 column "), "{detail}");
    assert!(!format!("{err} {err:?}").contains("6650"), "no body text");
}

/// A `Write` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A subscriber that is this thread's default for as long as the guard lives, and sees every
/// callsite even when other tests of the same process ran them first.
///
/// `tracing-core` caches each callsite's interest. While exactly one dispatcher is registered it
/// treats that one as global and asks the *current thread's* default instead, so a callsite that
/// another test thread (without a subscriber) hits first, or one rebuilt while our dispatcher
/// registers, is cached as "never" and our subscriber misses it. A second, silent dispatcher kept
/// alive beside ours makes the cache consult every registered dispatcher, ours included.
struct ScopedCapture {
    _default: tracing::subscriber::DefaultGuard,
    _witness: tracing::Dispatch,
}

impl ScopedCapture {
    fn install(subscriber: impl tracing::Subscriber + Send + Sync + 'static) -> Self {
        let witness = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let default = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();
        ScopedCapture {
            _default: default,
            _witness: witness,
        }
    }
}

// Current-thread runtime: the SDK's calls run on this thread, under the scoped subscriber (no
// process-wide subscriber, so the test holds when other tests share the process).
#[tokio::test(flavor = "current_thread")]
async fn the_trace_names_calls_without_tokens_or_queries() {
    let mock = mock().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _capture = ScopedCapture::install(subscriber);

    let pair = minted(&mock, true);
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(pair.clone()), None);
    sdk.get_logged_in_user().await.unwrap();
    let fresh = sdk.tokens();
    let callback_rt = pair.refresh.clone().unwrap();
    let _ = anonymous(&mock).exchange_auth_callback(&callback_rt).await;

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("qelos.request"), "{text}");
    assert!(
        text.contains("path=\"/api/me\"") || text.contains("path=/api/me"),
        "{text}"
    );
    assert!(
        text.contains("status=401") && text.contains("status=200"),
        "{text}"
    );
    assert!(text.contains("/api/token/refresh"), "{text}");
    assert!(!text.contains("?rt="), "no query strings: {text}");
    assert_hidden(
        &text,
        &[
            pair.access.as_ref().unwrap().expose(),
            callback_rt.expose(),
            fresh.access.as_ref().unwrap().expose(),
            fresh.refresh.as_ref().unwrap().expose(),
        ],
    );
}
