//! The same-origin front against a hostile web, in a real headless Chromium (`browser_tests!`).
//!
//! Chromium resolves two host names to loopback (`--host-resolver-rules`): `app.test` is the
//! adapter's contract app, `evil.test` a page server of this module's own that auto-submits
//! forms to the app. Different registrable domains, so to the browser they are different sites,
//! exactly as on the web. The scenarios check where the browser actually lands and which cookies
//! it actually holds, not what a header says.
//!
//! Needs `chromium` and `chromium-driver` (`cargo xtask test` installs them). Run one adapter's
//! with `cargo nextest run -p qelos-integrator-<fw> --test contract w0`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Html;
use serde_json::json;

use crate::harness::ContractApp;
use crate::scenarios::Setup;
use crate::webdriver::{Browser, Chromedriver};

/// The scenario names, in order (for the CI table).
pub const BROWSER_SCENARIOS: [&str; 3] = [
    "w01_browser_never_leaves_the_app_whatever_the_next_payload",
    "w02_browser_cross_site_pages_cannot_sign_in_sign_out_or_post_through_the_proxy",
    "w03_browser_same_site_login_proxy_call_and_logout_still_work",
];

/// Expands to one `#[test]` per browser scenario for the adapter type `$app`.
#[macro_export]
macro_rules! browser_tests {
    ($app:ty) => {
        $crate::browser_tests!(@each $app;
            w01_browser_never_leaves_the_app_whatever_the_next_payload,
            w02_browser_cross_site_pages_cannot_sign_in_sign_out_or_post_through_the_proxy,
            w03_browser_same_site_login_proxy_call_and_logout_still_work,
        );
    };
    (@each $app:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::run($crate::browser::$name::<$app>());
            }
        )*
    };
}

type Pages = Arc<Mutex<HashMap<String, String>>>;

/// The hostile site: serves the HTML registered for a path, or a page saying where the browser
/// ended up.
struct EvilSite {
    port: u16,
    pages: Pages,
}

impl EvilSite {
    async fn start() -> Self {
        let pages = Pages::default();
        let app = Router::new()
            .fallback(|State(pages): State<Pages>, req: Request| async move {
                let path = req.uri().path().to_owned();
                let page = pages
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&path)
                    .cloned();
                Html(page.unwrap_or_else(|| format!("<h1 id=evil>evil.test{path}</h1>")))
            })
            .with_state(Arc::clone(&pages));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("evil site binds");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { port, pages }
    }

    /// Registers a page that submits a `POST` form to `action` as soon as it loads.
    fn auto_post(&self, path: &str, action: &str, fields: &[(&str, &str)]) {
        let inputs: String = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "<input type=hidden name=\"{}\" value=\"{}\">",
                    html_escape(k),
                    html_escape(v)
                )
            })
            .collect();
        let html = format!(
            "<!doctype html><title>win a prize</title>\
             <form id=f method=post action=\"{}\">{inputs}</form>\
             <script>document.getElementById('f').submit()</script>",
            html_escape(action)
        );
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_owned(), html);
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The contract app, the mock, the evil site and a Chromium that maps both names to loopback.
struct World {
    s: Setup,
    evil: EvilSite,
    browser: Browser,
    // Dropped last: ends the browser session, then the driver.
    _driver: Chromedriver,
}

impl World {
    async fn start<A: ContractApp>() -> Self {
        let s = Setup::start::<A>(|b| b).await;
        let evil = EvilSite::start().await;
        let driver = Chromedriver::start().await.expect("chromedriver starts");
        let browser = driver
            .new_session_with(&[
                "--host-resolver-rules=MAP app.test 127.0.0.1, MAP evil.test 127.0.0.1",
            ])
            .await
            .expect("a headless Chromium session starts");
        Self {
            s,
            evil,
            browser,
            _driver: driver,
        }
    }

    /// `http://app.test:<port><path>`.
    fn app(&self, path: &str) -> String {
        format!("http://app.test:{}{path}", self.s.app.addr().port())
    }

    /// `http://evil.test:<port><path>`.
    fn evil(&self, path: &str) -> String {
        format!("http://evil.test:{}{path}", self.evil.port)
    }

    /// From a page of the app itself (`start`), submits a `POST` form to `action` (what the
    /// app's own sign-in form does) and waits until the browser has left `start`.
    async fn post_from_app(&self, start: &str, action: &str, fields: &[(&str, &str)]) -> String {
        let b = &self.browser;
        let start = self.app(start);
        b.goto(&start).await.expect("app page loads");
        let fields: Vec<[&str; 2]> = fields.iter().map(|(k, v)| [*k, *v]).collect();
        b.execute(
            "const [action, fields] = arguments;
             const f = document.createElement('form');
             f.method = 'post'; f.action = action;
             for (const [k, v] of fields) {
               const i = document.createElement('input');
               i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
             }
             document.body.appendChild(f); f.submit();",
            json!([action, fields]),
        )
        .await
        .expect("the form is submitted");
        b.wait_for_url(|u| u != start)
            .await
            .expect("the form post navigates")
    }

    /// Opens a page of the evil site that auto-submits a form, and waits until the browser
    /// is on the app (where the form posted).
    async fn visit_evil(&self, path: &str) -> String {
        let b = &self.browser;
        b.goto(&self.evil(path)).await.expect("evil page loads");
        let app = self.app("/");
        b.wait_for_url(|u| u.starts_with(&app))
            .await
            .expect("the evil form posted to the app")
    }

    async fn sign_in_from_app(&self) {
        let admin = self.s.mock.seed().admin.clone();
        let landed = self
            .post_from_app(
                "/health?sign-in",
                "/login",
                &[
                    ("username", &admin.username),
                    ("password", &admin.password),
                    ("next", "/me"),
                ],
            )
            .await;
        assert_eq!(landed, self.app("/me"));
        assert!(
            self.browser
                .cookie("q_access_token")
                .await
                .expect("cookies")
                .is_some(),
            "the same-site sign-in set the access cookie"
        );
    }

    async fn username_on_me(&self) -> Option<String> {
        self.browser
            .goto(&self.app("/me"))
            .await
            .expect("/me loads");
        let text = self.browser.body_text().await.expect("page text");
        let json: serde_json::Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("/me is JSON: {e}: {text}"));
        json["username"].as_str().map(str::to_owned)
    }

    async fn shot(&self, name: &str) {
        if let Ok(path) = self.browser.save_screenshot(name).await {
            eprintln!("screenshot: {}", path.display());
        }
    }

    async fn finish(self) {
        let World { browser, .. } = self;
        browser.quit().await.expect("the browser session ends");
    }
}

/// The sign-in form's `next`, posted from the app's own page with a tab, a newline, backslashes,
/// percent-encoded and protocol-relative forms, absolute URLs and `javascript:`: with the right
/// password and with a wrong one, Chromium always lands on the app (never on `evil.test`).
pub async fn w01_browser_never_leaves_the_app_whatever_the_next_payload<A: ContractApp>() {
    let w = World::start::<A>().await;
    let admin = w.s.mock.seed().admin.clone();
    let evil_host = format!("evil.test:{}", w.evil.port);
    let payloads = [
        format!("/\t/{evil_host}/tab"),
        format!("/\n/{evil_host}/newline"),
        format!("/\r\n/{evil_host}/crlf"),
        format!("//{evil_host}/scheme-relative"),
        format!("/\\{evil_host}/backslash"),
        format!("\\\\{evil_host}/backslashes"),
        format!("/\t\\{evil_host}/tab-backslash"),
        format!("/%2F{evil_host}/encoded"),
        format!("//%65vil.test:{}/encoded-host", w.evil.port),
        format!("http://{evil_host}/absolute"),
        format!("https:{evil_host}/scheme-only"),
        format!(" //{evil_host}/space"),
        format!("http://app.test@{evil_host}/userinfo"),
        "javascript:document.title='pwned'".to_owned(),
    ];
    let app_origin = w.app("/");
    for (i, payload) in payloads.iter().enumerate() {
        for (password, wrong) in [(admin.password.as_str(), false), ("wrong-password", true)] {
            let landed = w
                .post_from_app(
                    &format!("/health?payload={i}&wrong={wrong}"),
                    "/login",
                    &[
                        ("username", &admin.username),
                        ("password", password),
                        ("next", payload),
                    ],
                )
                .await;
            assert!(
                landed.starts_with(&app_origin),
                "next={payload:?} (wrong password: {wrong}) sent the browser to {landed}"
            );
            if wrong {
                assert!(landed.contains("error=INVALID_CREDENTIALS"), "{landed}");
            }
            let title = w
                .browser
                .execute("return document.title;", json!([]))
                .await
                .expect("title");
            assert_ne!(title, "pwned", "no script ran from next={payload:?}");
        }
    }
    w.shot(&format!("{}-w01-redirects", A::NAME)).await;
    w.finish().await;
}

/// Pages on `evil.test` that auto-submit forms: a sign-in with the attacker's credentials, a
/// sign-out, and a state-changing call through the `/api/**` proxy. None takes effect: the
/// browser stays anonymous after the first, signed in after the other two, and Qelos never sees
/// a proxied call carrying the victim's credentials.
pub async fn w02_browser_cross_site_pages_cannot_sign_in_sign_out_or_post_through_the_proxy<
    A: ContractApp,
>() {
    let w = World::start::<A>().await;
    let b = &w.browser;
    let attacker = w.s.mock.seed().admin.clone();

    // Login CSRF: the victim's browser would be signed in to the attacker's account.
    w.evil.auto_post(
        "/login-csrf",
        &w.app("/login"),
        &[
            ("username", &attacker.username),
            ("password", &attacker.password),
            ("next", "/me"),
        ],
    );
    w.s.mock.reset_calls();
    let landed = w.visit_evil("/login-csrf").await;
    assert_eq!(landed, w.app("/login"), "the refusal is answered in place");
    let text = b.body_text().await.expect("text");
    assert!(text.contains("CROSS_SITE_REQUEST"), "{text}");
    w.shot(&format!("{}-w02-login-csrf", A::NAME)).await;
    assert_eq!(b.cookie("q_access_token").await.expect("cookies"), None);
    assert_eq!(b.cookie("q_refresh_token").await.expect("cookies"), None);
    assert_eq!(w.s.mock.total_calls(), 0, "Qelos was not asked to sign in");
    assert_eq!(w.username_on_me().await, None, "still anonymous");

    // The victim signs in on the app itself.
    w.sign_in_from_app().await;
    let access = b.cookie("q_access_token").await.expect("cookies");

    // Logout CSRF.
    w.evil.auto_post("/logout-csrf", &w.app("/logout"), &[]);
    w.s.mock.reset_calls();
    let landed = w.visit_evil("/logout-csrf").await;
    assert_eq!(landed, w.app("/logout"));
    assert!(
        b.body_text()
            .await
            .expect("text")
            .contains("CROSS_SITE_REQUEST")
    );
    assert_eq!(w.s.mock.calls("POST /api/logout"), 0);
    assert_eq!(b.cookie("q_access_token").await.expect("cookies"), access);
    assert_eq!(
        w.username_on_me().await.as_deref(),
        Some(attacker.username.as_str()),
        "still signed in"
    );

    // A state-changing call through the proxy. The app also holds a Qelos-style session
    // cookie set without SameSite (browsers may send those on a cross-site POST).
    b.goto(&w.app("/health?cookie")).await.expect("app page");
    b.execute(
        "document.cookie = 'qlt_0=victim-session; path=/';",
        json!([]),
    )
    .await
    .expect("cookie set");
    w.evil
        .auto_post("/proxy-csrf", &w.app("/api/logout"), &[("x", "1")]);
    w.s.mock.reset_calls();
    let landed = w.visit_evil("/proxy-csrf").await;
    assert_eq!(landed, w.app("/api/logout"));
    let text = b.body_text().await.expect("text");
    w.shot(&format!("{}-w02-proxy-csrf", A::NAME)).await;
    let with_credentials =
        w.s.mock
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/api/logout")
            .filter(|r| {
                r.headers.iter().any(|(k, _)| {
                    k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie")
                })
            })
            .count();
    assert_eq!(
        with_credentials, 0,
        "no proxied logout carried the victim's credentials (page: {text})"
    );
    if w.s.mock.calls("POST /api/logout") == 0 {
        assert!(text.contains("CROSS_SITE_REQUEST"), "{text}");
    }
    b.execute("document.cookie = 'qlt_0=; max-age=0; path=/';", json!([]))
        .await
        .expect("cookie dropped");
    assert_eq!(
        w.username_on_me().await.as_deref(),
        Some(attacker.username.as_str()),
        "still signed in after the proxied post"
    );
    w.finish().await;
}

/// The app's own pages keep working in the same browser that has a hostile site open: a
/// sign-in form with a local `next`, a `fetch` through the `/api/**` proxy (a `POST` with the
/// integrator's cookies), and a sign-out.
pub async fn w03_browser_same_site_login_proxy_call_and_logout_still_work<A: ContractApp>() {
    let w = World::start::<A>().await;
    let b = &w.browser;
    let admin = w.s.mock.seed().admin.clone();
    b.goto(&w.evil("/elsewhere")).await.expect("evil page");

    let landed = w
        .post_from_app(
            "/health?own-sign-in",
            "/login",
            &[
                ("username", &admin.username),
                ("password", &admin.password),
                ("next", "/me?from=form#top"),
            ],
        )
        .await;
    assert_eq!(landed, w.app("/me?from=form#top"));
    assert_eq!(
        w.username_on_me().await.as_deref(),
        Some(admin.username.as_str())
    );

    w.s.mock.reset_calls();
    let answer = b
        .execute(
            "return fetch('/api/me', { method: 'GET', credentials: 'same-origin' })
               .then(r => r.json())
               .then(me => fetch('/api/logout', { method: 'POST', credentials: 'same-origin' })
                 .then(r => ({ me: me.username, logout: r.status })));",
            json!([]),
        )
        .await
        .expect("fetch runs");
    assert_eq!(answer["me"], json!(admin.username), "{answer}");
    assert_eq!(answer["logout"], 200, "{answer}");
    let authorized =
        w.s.mock
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/api/logout")
            .filter(|r| {
                r.headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            })
            .count();
    assert_eq!(
        authorized, 1,
        "the same-origin POST was signed in through the proxy"
    );

    // A fresh session (the proxied logout ended the last one in Qelos), then the form sign-out.
    w.sign_in_from_app().await;
    let landed = w
        .post_from_app("/health?own-sign-out", "/logout", &[])
        .await;
    assert_eq!(landed, w.app("/"));
    assert_eq!(b.cookie("q_access_token").await.expect("cookies"), None);
    assert_eq!(w.username_on_me().await, None);
    w.shot(&format!("{}-w03-same-site", A::NAME)).await;
    w.finish().await;
}
