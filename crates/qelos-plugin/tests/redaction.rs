//! Tokens, passwords and secrets never reach logs, `Debug` output or response bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use qelos_plugin::Plugin;
use support::{ACCESS_SECRET, API_PATH, REFRESH_SECRET, STATIC_TOKEN, TokenOption, stack};

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

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// Current-thread runtime: the gateway and the plugin run on this thread, under the subscriber.
#[tokio::test(flavor = "current_thread")]
async fn registration_refresh_and_revocation_log_no_token_password_or_secret() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = stack(TokenOption::Minted).await;
    let bearer = s.admin_bearer();
    assert_eq!(s.get("/api/on/todo/whoami", Some(&bearer)).await.0, 200);
    let first_refresh = s.mock.plugin_refresh_token("0", API_PATH).unwrap();
    let first_access = s.mock.plugin_token("0", API_PATH).unwrap();
    s.app.plugin.revoke_access("0").await.unwrap();
    assert_eq!(s.get("/api/on/todo/whoami", Some(&bearer)).await.0, 407);
    assert_eq!(s.get("/api/on/todo/whoami", Some(&bearer)).await.0, 200);
    let reg = s.app.plugin.registration("0").await.unwrap().unwrap();
    let stored = s
        .app
        .plugin
        .store()
        .find_tenant("0")
        .await
        .unwrap()
        .unwrap();
    let stored_text = serde_json::to_string(&stored).unwrap();
    assert!(
        !stored_text.contains(reg.password.expose()) && !stored_text.contains(&reg.username),
        "credentials are sealed at rest"
    );
    for t in [
        reg.qelos_tokens.access.as_ref(),
        reg.qelos_tokens.refresh.as_ref(),
    ] {
        assert!(
            !stored_text.contains(t.unwrap().expose()),
            "tokens are sealed at rest"
        );
    }

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("qelos_plugin.signin"),
        "the sign-in span is logged"
    );
    for secret in [
        first_refresh.as_str(),
        first_access.as_str(),
        reg.password.expose(),
        ACCESS_SECRET,
        REFRESH_SECRET,
        bearer.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret leaked into the logs");
    }
    let debug = format!("{reg:?} {:?}", s.app.plugin);
    assert!(!debug.contains(reg.password.expose()));
    assert!(!debug.contains(reg.qelos_tokens.access.as_ref().unwrap().expose()));
}

#[test]
fn debug_of_the_plugin_and_its_builder_hides_the_token_and_secrets() {
    let builder = Plugin::builder("todo", "http://127.0.0.1:1").static_token(STATIC_TOKEN);
    assert!(!format!("{builder:?}").contains(STATIC_TOKEN));
    let plugin = builder.build().unwrap();
    assert!(!format!("{plugin:?}").contains(STATIC_TOKEN));
    let minted = Plugin::builder("todo", "http://127.0.0.1:1")
        .minted_tokens(ACCESS_SECRET, REFRESH_SECRET)
        .build()
        .unwrap();
    let debug = format!("{minted:?}");
    assert!(!debug.contains(ACCESS_SECRET) && !debug.contains(REFRESH_SECRET));
}

#[test]
fn short_secrets_are_refused_at_build() {
    let weak = Plugin::builder("todo", "http://127.0.0.1:1")
        .static_token("short")
        .build();
    assert!(matches!(weak, Err(qelos_plugin::ConfigError::WeakSecret)));
    let none = Plugin::builder("todo", "http://127.0.0.1:1").build();
    assert!(matches!(
        none,
        Err(qelos_plugin::ConfigError::NoTokenOption)
    ));
}
