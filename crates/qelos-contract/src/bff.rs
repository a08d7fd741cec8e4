//! The same-origin front scenarios: the `/api/**` proxy and the auth routes, run against every
//! adapter like the core scenarios (`bff_tests!`).

use std::time::Duration;

use futures_util::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::ContractApp;
use crate::memory;
use crate::scenarios::Setup;
use crate::upstream;

/// The scenario names, in order (for the CI table).
pub const BFF_SCENARIOS: [&str; 15] = [
    "b01_proxy_streams_large_bodies_both_ways_in_flat_memory",
    "b02_proxy_keeps_query_string_and_method_including_head",
    "b03_proxy_sets_forwarded_headers_and_drops_hop_by_hop",
    "b04_proxy_rewrites_every_set_cookie_domain_to_the_inbound_host",
    "b05_proxy_errors_are_503_502_504_json",
    "b06_own_api_routes_win_and_proxied_traffic_is_not_probed",
    "b07_login_then_protected_route_then_logout",
    "b08_social_login_redirect_and_callback_forward_the_session_cookie",
    "b09_proxy_signs_in_with_the_integrator_cookies_and_rotates_them",
    "b10_form_login_redirects_never_leave_the_site_with_or_without_a_valid_password",
    "b11_cross_site_login_and_logout_are_refused_and_same_site_ones_work",
    "b12_proxy_refuses_cross_site_unsafe_calls_that_carry_cookies",
    "b13_social_callback_refuses_a_sign_in_started_in_another_browser",
    "b14_responses_that_rotate_or_expire_tokens_are_never_stored",
    "b15_x_forwarded_proto_follows_one_rule_in_every_adapter",
];

/// Expands to one `#[test]` per same-origin scenario for the adapter type `$app`.
#[macro_export]
macro_rules! bff_tests {
    ($app:ty) => {
        $crate::bff_tests!(@each $app;
            b01_proxy_streams_large_bodies_both_ways_in_flat_memory,
            b02_proxy_keeps_query_string_and_method_including_head,
            b03_proxy_sets_forwarded_headers_and_drops_hop_by_hop,
            b04_proxy_rewrites_every_set_cookie_domain_to_the_inbound_host,
            b05_proxy_errors_are_503_502_504_json,
            b06_own_api_routes_win_and_proxied_traffic_is_not_probed,
            b07_login_then_protected_route_then_logout,
            b08_social_login_redirect_and_callback_forward_the_session_cookie,
            b09_proxy_signs_in_with_the_integrator_cookies_and_rotates_them,
            b10_form_login_redirects_never_leave_the_site_with_or_without_a_valid_password,
            b11_cross_site_login_and_logout_are_refused_and_same_site_ones_work,
            b12_proxy_refuses_cross_site_unsafe_calls_that_carry_cookies,
            b13_social_callback_refuses_a_sign_in_started_in_another_browser,
            b14_responses_that_rotate_or_expire_tokens_are_never_stored,
            b15_x_forwarded_proto_follows_one_rule_in_every_adapter,
        );
    };
    (@each $app:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::run($crate::bff::$name::<$app>());
            }
        )*
    };
}

async fn with_upstream<A: ContractApp>() -> Setup {
    let target = upstream::start().await.expect("upstream starts");
    Setup::start::<A>(|b| b.proxy_target(target)).await
}

async fn upload(s: &Setup, len: u64) -> Value {
    let chunks = futures_util::stream::unfold(0u64, move |offset| async move {
        (offset < len).then(|| {
            let n = (len - offset).min(64 * 1024) as usize;
            (
                Ok::<_, std::io::Error>(upstream::pattern_chunk(offset, n)),
                offset + n as u64,
            )
        })
    });
    let resp = s
        .http
        .post(format!("{}/api/blob", s.app.url()))
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .expect("upload answers");
    assert_eq!(resp.status(), 200, "upload is forwarded");
    resp.json().await.expect("upload answer is JSON")
}

async fn download(s: &Setup, len: u64) -> (u64, String) {
    let resp = s
        .http
        .get(format!("{}/api/blob?bytes={len}", s.app.url()))
        .send()
        .await
        .expect("download answers");
    assert_eq!(resp.status(), 200);
    let mut hash = Sha256::new();
    let mut got = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("download streams");
        got += chunk.len() as u64;
        hash.update(&chunk);
    }
    (got, hex::encode(hash.finalize()))
}

/// Binary bodies of 48 MiB go up and come down intact while the app's peak memory grows by far
/// less than one body; a JSON body of several MiB arrives byte for byte.
///
/// The app runs alone in a child process (this test binary, re-run in serving mode by
/// [`memory::ChildApp`]), so its peak memory is its own, whatever else the test runner runs in
/// this process at the same time.
pub async fn b01_proxy_streams_large_bodies_both_ways_in_flat_memory<A: ContractApp>() {
    if memory::ChildApp::is_requested() {
        memory::ChildApp::serve::<A>();
        return;
    }
    let target = upstream::start().await.expect("upstream starts");
    let mock = qelos_mock::MockServer::start()
        .await
        .expect("qelos-mock starts");
    let child = memory::ChildApp::start(&mock.url(), &target).expect("the app starts in a child");
    let s = Setup {
        app: crate::harness::RunningApp::at(child.addr()),
        mock,
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("test client builds"),
    };
    // Warm up every buffer and pool first.
    let warm = upload(&s, 1 << 20).await;
    assert_eq!(warm["received"], json!(1 << 20));
    let _ = download(&s, 1 << 20).await;
    let before = child.peak_rss();

    let len: u64 = 48 << 20;
    let up = upload(&s, len).await;
    assert_eq!(up["received"], json!(len), "every byte arrives: {up}");
    assert_eq!(up["sha256"], json!(upstream::pattern_sha256(len)));
    let (got, sha) = download(&s, len).await;
    assert_eq!(got, len, "every byte comes back");
    assert_eq!(sha, upstream::pattern_sha256(len));

    if let (Some(before), Some(after)) = (before, child.peak_rss()) {
        let grown = after.saturating_sub(before);
        eprintln!(
            "b01: the app's peak memory went from {} to {} MiB moving 48 MiB each way",
            before >> 20,
            after >> 20
        );
        assert!(
            grown < 24 << 20,
            "the app's peak memory grew by {} MiB moving 48 MiB each way: bodies must stream",
            grown >> 20
        );
    } else {
        if cfg!(target_os = "linux") {
            panic!("the child's peak memory is readable on Linux");
        }
        eprintln!("b01: peak memory not measured (no /proc on this platform)");
    }

    let doc = json!({ "items": vec!["x".repeat(1024); 3 * 1024] });
    let bytes = serde_json::to_vec(&doc).expect("json");
    let resp = s
        .http
        .put(format!("{}/api/blob", s.app.url()))
        .header("content-type", "application/json")
        .body(bytes.clone())
        .send()
        .await
        .expect("json upload answers");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["received"], json!(bytes.len()));
    assert_eq!(v["sha256"], json!(hex::encode(Sha256::digest(&bytes))));
}

/// The query string and the method reach the upstream unchanged; HEAD answers headers only.
pub async fn b02_proxy_keeps_query_string_and_method_including_head<A: ContractApp>() {
    let s = with_upstream::<A>().await;
    for method in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
        let resp = s
            .http
            .request(
                method.clone(),
                format!("{}/api/echo?x=1&y=a%20b&x=2", s.app.url()),
            )
            .send()
            .await
            .expect("echo answers");
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["method"], method.as_str());
        assert_eq!(v["path"], "/api/echo");
        assert_eq!(v["query"], "x=1&y=a%20b&x=2");
    }
    let head = s
        .http
        .head(format!("{}/api/blob?bytes=4096", s.app.url()))
        .send()
        .await
        .expect("head answers");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "4096");
    assert!(head.bytes().await.expect("head body").is_empty());
}

/// `Host` is the target's; `X-Forwarded-For/Host/Proto` and `tenanthost` describe the inbound
/// request; hop-by-hop headers (and those named in `Connection`) go neither way.
pub async fn b03_proxy_sets_forwarded_headers_and_drops_hop_by_hop<A: ContractApp>() {
    let s = with_upstream::<A>().await;
    let resp = s
        .http
        .get(format!("{}/api/echo", s.app.url()))
        .header("host", "shop.example.com:8443")
        .header("connection", "keep-alive, x-private")
        .header("x-private", "secret-hop")
        .header("te", "trailers")
        .header("x-custom", "kept")
        .send()
        .await
        .expect("echo answers");
    let v: Value = resp.json().await.expect("json");
    let h = &v["headers"];
    assert_ne!(
        h["host"], "shop.example.com:8443",
        "Host is the target's: {h}"
    );
    assert_eq!(h["x-forwarded-host"], "shop.example.com:8443");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(
        h["tenanthost"], "shop.example.com:8443",
        "the raw inbound Host"
    );
    assert_eq!(h["x-forwarded-for"], "127.0.0.1", "the client address: {h}");
    assert_eq!(h["x-custom"], "kept");
    for dropped in ["x-private", "te"] {
        assert!(h.get(dropped).is_none(), "{dropped} is hop-by-hop: {h}");
    }
    let resp = s
        .http
        .get(format!("{}/api/cookies", s.app.url()))
        .send()
        .await
        .expect("cookies answer");
    assert_eq!(resp.headers()["x-upstream"], "1");
    assert!(
        resp.headers().get("keep-alive").is_none(),
        "hop-by-hop dropped on the way back"
    );
}

/// Every upstream `Set-Cookie` keeps its attributes, stays a separate header, and gets
/// `Domain` = the inbound host without its port.
pub async fn b04_proxy_rewrites_every_set_cookie_domain_to_the_inbound_host<A: ContractApp>() {
    let s = with_upstream::<A>().await;
    let resp = s
        .http
        .get(format!("{}/api/cookies", s.app.url()))
        .header("host", "shop.example.com:8443")
        .send()
        .await
        .expect("cookies answer");
    let cookies: Vec<String> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert_eq!(
        cookies,
        [
            "qlt_up=one; Max-Age=60; Domain=shop.example.com; Path=/; HttpOnly; SameSite=None; Secure",
            "other=two; Domain=shop.example.com; Path=/api",
        ]
    );
}

/// No target: 503 `QELOS_PROXY_NOT_CONFIGURED`; a non-http target: 502
/// `QELOS_PROXY_BAD_TARGET`; nobody listening: 502 `QELOS_PROXY_UPSTREAM_ERROR`; too slow: 504.
pub async fn b05_proxy_errors_are_503_502_504_json<A: ContractApp>() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let upstream = upstream::start().await.expect("upstream");
    let cases: [(String, &str, u16, &str); 4] = [
        (
            String::new(),
            "/api/echo",
            503,
            "QELOS_PROXY_NOT_CONFIGURED",
        ),
        (
            "ftp://files.example.com".into(),
            "/api/echo",
            502,
            "QELOS_PROXY_BAD_TARGET",
        ),
        (
            format!("http://{dead}"),
            "/api/echo",
            502,
            "QELOS_PROXY_UPSTREAM_ERROR",
        ),
        (upstream, "/api/slow", 504, "QELOS_PROXY_TIMEOUT"),
    ];
    for (target, path, status, code) in cases {
        let s = Setup::start::<A>(|b| {
            b.proxy_target(target.clone())
                .proxy_timeout(Duration::from_millis(300))
        })
        .await;
        let r = s.get(path, &[]).await;
        assert_eq!(r.status, status, "target {target:?}: {r:?}");
        assert_eq!(r.body["code"], code, "{r:?}");
        assert!(r.content_type.starts_with("application/json"));
    }
}

/// `/api/own` is the app's route (it wins over the proxy and still gets the caller's context);
/// a forwarded call reaches Qelos once and costs no `/api/me` + `/api/workspaces` probe.
pub async fn b06_own_api_routes_win_and_proxied_traffic_is_not_probed<A: ContractApp>() {
    let s = Setup::start::<A>(|b| b).await;
    let tokens = s.admin_tokens(false);
    let auth = format!("Bearer {}", tokens.access);
    let own = s.get("/api/own", &[("authorization", &auth)]).await;
    assert_eq!(own.status, 200, "{own:?}");
    assert_eq!(own.body["username"], json!(s.mock.seed().admin.username));
    assert_eq!(
        s.mock.calls("GET /api/workspaces"),
        1,
        "own route resolved once"
    );

    s.mock.reset_calls();
    let forwarded = s.get("/api/me", &[("authorization", &auth)]).await;
    assert_eq!(forwarded.status, 200, "{forwarded:?}");
    assert_eq!(
        forwarded.body["username"],
        json!(s.mock.seed().admin.username)
    );
    assert_eq!(s.mock.calls("GET /api/me"), 1, "only the forwarded call");
    assert_eq!(s.mock.calls("GET /api/workspaces"), 0, "no identity probe");

    let anonymous = s.get("/api/own", &[]).await;
    assert_eq!(anonymous.status, 200);
    assert_eq!(anonymous.body["userId"], Value::Null);
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn cookie_header(set_cookies: &[String]) -> String {
    set_cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `POST /login` with a JSON body.
async fn login(s: &Setup, username: &str, password: &str) -> crate::scenarios::Reply {
    s.send(
        Method::POST,
        "/login",
        &[],
        Some(json!({"username": username, "password": password})),
    )
    .await
}

/// `POST /login` (JSON and form) sets the token cookies; the protected route then answers;
/// `POST /logout` calls Qelos and expires them; a wrong password is a 401 with no cookies.
pub async fn b07_login_then_protected_route_then_logout<A: ContractApp>() {
    let s = Setup::start::<A>(|b| b).await;
    let admin = s.mock.seed().admin.clone();
    let wrong = login(&s, &admin.username, "nope").await;
    assert_eq!(wrong.status, 401, "{wrong:?}");
    assert_eq!(wrong.body["code"], "INVALID_CREDENTIALS");
    assert!(wrong.set_cookies.is_empty());

    let login = login(&s, &admin.username, &admin.password).await;
    assert_eq!(login.status, 200, "{login:?}");
    assert_eq!(login.body["user"]["username"], json!(admin.username));
    for name in ["q_access_token", "q_refresh_token"] {
        let c = login
            .cookie(name)
            .unwrap_or_else(|| panic!("{name} set: {login:?}"));
        for attr in ["Path=/", "HttpOnly", "SameSite=Lax"] {
            assert!(c.contains(attr), "{c}");
        }
    }
    let jar = cookie_header(&login.set_cookies);
    let secret = s.get("/secret", &[("cookie", &jar)]).await;
    assert_eq!(secret.status, 200, "{secret:?}");
    assert_eq!(secret.body["username"], json!(admin.username));

    let logout = s
        .send(Method::POST, "/logout", &[("cookie", jar.as_bytes())], None)
        .await;
    assert_eq!(logout.status, 200, "{logout:?}");
    assert_eq!(s.mock.calls("POST /api/logout"), 1);
    for name in ["q_access_token", "q_refresh_token"] {
        let c = logout
            .cookie(name)
            .unwrap_or_else(|| panic!("{name} expired: {logout:?}"));
        assert!(c.contains("Max-Age=0"), "{c}");
    }
    let after = s.get("/secret", &[]).await;
    assert_eq!(after.status, 401);

    let form = no_redirects()
        .post(format!("{}/login", s.app.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "username={}&password={}&next=%2Fdashboard",
            admin.username, admin.password
        ))
        .send()
        .await
        .expect("form login answers");
    assert_eq!(form.status(), 303);
    assert_eq!(form.headers()["location"], "/dashboard");
    assert_eq!(form.headers().get_all("set-cookie").iter().count(), 2);
}

/// `GET /auth/github` redirects to Qelos's social login; Qelos's callback `rt` exchanged at
/// `/auth/callback` forwards the session cookie with `Domain` = the inbound host.
pub async fn b08_social_login_redirect_and_callback_forward_the_session_cookie<A: ContractApp>() {
    let s = Setup::start::<A>(|b| b).await;
    let no_redirects = no_redirects();
    let start = no_redirects
        .get(format!(
            "{}/auth/github?returnUrl=%2Fauth%2Fcallback",
            s.app.url()
        ))
        .send()
        .await
        .expect("redirect answers");
    assert_eq!(start.status(), 302);
    assert_eq!(start.headers()["cache-control"], "no-store");
    let state_jar = set_cookie_jar(start.headers());
    assert!(state_jar.starts_with("q_auth_state="), "{state_jar}");
    let to_qelos = start.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        to_qelos.starts_with(&format!("{}/api/auth/github?", s.mock.url())),
        "{to_qelos}"
    );
    let bad = s.get("/auth/..%2Fadmin", &[]).await;
    assert_eq!(bad.status, 400, "{bad:?}");

    // The browser's trip through Qelos and the provider.
    let provider = no_redirects
        .get(&to_qelos)
        .send()
        .await
        .expect("qelos answers");
    let provider_url = provider.headers()["location"]
        .to_str()
        .expect("loc")
        .to_owned();
    let back = no_redirects
        .get(&provider_url)
        .send()
        .await
        .expect("provider answers");
    let back_to = back.headers()["location"].to_str().expect("loc").to_owned();
    assert!(back_to.starts_with("/auth/callback?rt="), "{back_to}");

    let done = no_redirects
        .get(format!("{}{back_to}", s.app.url()))
        .header("host", "shop.example.com:8443")
        .header("cookie", &state_jar)
        .send()
        .await
        .expect("callback answers");
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/");
    assert_eq!(done.headers()["cache-control"], "no-store");
    let session: Vec<String> = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        session
            .iter()
            .any(|c| c.starts_with("qlt_") && c.contains("Domain=shop.example.com;")),
        "{session:?}"
    );
    let reused = s.get(&back_to, &[("cookie", &state_jar)]).await;
    assert_eq!(reused.status, 401, "a used rt is refused: {reused:?}");
}

/// A page signed in through `/login` calls Qelos through the proxy with nothing but the
/// integrator's cookies: the proxy sends the access token as `Authorization: Bearer`. With an
/// expired access JWT it refreshes first (once) and rotates both cookies on the proxied answer.
pub async fn b09_proxy_signs_in_with_the_integrator_cookies_and_rotates_them<A: ContractApp>() {
    let s = Setup::start::<A>(|b| b).await;
    let admin = s.mock.seed().admin.clone();
    let login = login(&s, &admin.username, &admin.password).await;
    assert_eq!(login.status, 200, "{login:?}");
    let jar = cookie_header(&login.set_cookies);
    let me = s.get("/api/me", &[("cookie", &jar)]).await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.body["username"], json!(admin.username));
    assert!(
        me.cookie("q_access_token").is_none(),
        "no churn without a refresh"
    );

    let expired = s.admin_tokens(true);
    s.mock.reset_calls();
    let stale = format!(
        "q_access_token={}; q_refresh_token={}",
        expired.access, expired.refresh
    );
    let me = s.get("/api/me", &[("cookie", &stale)]).await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.body["username"], json!(admin.username));
    assert_eq!(s.mock.calls("POST /api/token/refresh"), 1, "one refresh");
    assert_eq!(s.mock.calls("GET /api/workspaces"), 0, "no identity probe");
    let access = me
        .cookie_value("q_access_token")
        .expect("rotated access cookie");
    let refresh = me
        .cookie_value("q_refresh_token")
        .expect("rotated refresh cookie");
    assert_ne!(access, expired.access);
    assert_ne!(refresh, expired.refresh);
}

/// The `name=value` pairs of every `Set-Cookie` in `headers`, as a `Cookie` header.
fn set_cookie_jar(headers: &reqwest::header::HeaderMap) -> String {
    let all: Vec<String> = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    cookie_header(&all)
}

/// A form post to the app with extra headers, not following redirects.
async fn post_form(
    s: &Setup,
    path: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = no_redirects()
        .post(format!("{}{path}", s.app.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("the app answers")
}

/// The headers a browser sends with a form posted from this application's own page.
const SAME_ORIGIN: [(&str, &str); 1] = [("sec-fetch-site", "same-origin")];

/// Form login with a `next` made to leave the site (a tab or newline inside `//`, backslashes,
/// percent-encoded forms, scheme-relative and absolute URLs, `javascript:`): with the right
/// password and with a wrong one, the `Location` is always on the application itself, and the
/// redirect is `Cache-Control: no-store`. A local `next` is kept.
pub async fn b10_form_login_redirects_never_leave_the_site_with_or_without_a_valid_password<
    A: ContractApp,
>() {
    let s = Setup::start::<A>(|b| b).await;
    let admin = s.mock.seed().admin.clone();
    let payloads = [
        "/\t/evil.test/x",
        "/\n/evil.test/x",
        "/\r\n/evil.test",
        "//evil.test/x",
        "///evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "/\t\\evil.test",
        "https://evil.test/x",
        "https:evil.test",
        "HTTPS://EVIL.TEST",
        "//%65vil.test",
        "http://app.test@evil.test/",
        " //evil.test",
        "javascript:alert(document.domain)",
    ];
    for payload in payloads {
        let next: String = payload.bytes().map(|b| format!("%{b:02X}")).collect();
        for (password, want) in [
            (admin.password.as_str(), "/"),
            ("wrong-password", "/?error=INVALID_CREDENTIALS"),
        ] {
            let body = format!(
                "username={}&password={password}&next={next}",
                admin.username
            );
            let resp = post_form(&s, "/login", &body, &SAME_ORIGIN).await;
            assert_eq!(resp.status(), 303, "{payload:?}");
            assert_eq!(resp.headers()["location"], want, "next={payload:?}");
            assert_eq!(resp.headers()["cache-control"], "no-store");
        }
    }
    let body = format!(
        "username={}&password={}&next=%2Forders%3Fpage%3D2",
        admin.username, admin.password
    );
    let kept = post_form(&s, "/login", &body, &SAME_ORIGIN).await;
    assert_eq!(kept.headers()["location"], "/orders?page=2");
    assert_eq!(kept.headers().get_all("set-cookie").iter().count(), 2);
}

/// A page on another site that posts to `/login` or `/logout` (a form with `Sec-Fetch-Site:
/// cross-site`, or an older browser's `Origin` / `Referer` naming another host) gets
/// `403 {"code":"CROSS_SITE_REQUEST"}`: no cookie is set or cleared and Qelos is never called.
/// The same posts from the application's own page (and from non-browser clients) still work.
pub async fn b11_cross_site_login_and_logout_are_refused_and_same_site_ones_work<A: ContractApp>() {
    let s = Setup::start::<A>(|b| b).await;
    let admin = s.mock.seed().admin.clone();
    let creds = format!("username={}&password={}", admin.username, admin.password);
    let host = s.app.url().trim_start_matches("http://").to_owned();
    let own_origin = format!("http://{host}");
    let hostile: [&[(&str, &str)]; 4] = [
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.test"),
        ],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://evil.app.test"),
        ],
        &[("origin", "http://evil.test")],
        &[("referer", "http://evil.test/page")],
    ];
    for headers in hostile {
        s.mock.reset_calls();
        let resp = post_form(&s, "/login", &creds, headers).await;
        assert_eq!(resp.status(), 403, "{headers:?}");
        assert_eq!(resp.headers().get_all("set-cookie").iter().count(), 0);
        let body: Value = resp.json().await.expect("JSON refusal");
        assert_eq!(body["code"], "CROSS_SITE_REQUEST", "{headers:?}");
        assert_eq!(s.mock.total_calls(), 0, "Qelos is not called: {headers:?}");
    }

    let signed_in = post_form(&s, "/login", &creds, &SAME_ORIGIN).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/");
    let jar = set_cookie_jar(signed_in.headers());
    assert!(jar.contains("q_access_token="), "{jar}");
    let by_origin = post_form(&s, "/login", &creds, &[("origin", &own_origin)]).await;
    assert_eq!(
        by_origin.status(),
        303,
        "an Origin naming this host is ours"
    );
    let json = login(&s, &admin.username, &admin.password).await;
    assert_eq!(
        json.status, 200,
        "a client without browser headers: {json:?}"
    );

    for headers in hostile {
        s.mock.reset_calls();
        let mut with_cookies = headers.to_vec();
        with_cookies.push(("cookie", &jar));
        let resp = post_form(&s, "/logout", "", &with_cookies).await;
        assert_eq!(resp.status(), 403, "{headers:?}");
        assert_eq!(resp.headers().get_all("set-cookie").iter().count(), 0);
        assert_eq!(s.mock.calls("POST /api/logout"), 0);
    }
    let still = s.get("/secret", &[("cookie", &jar)]).await;
    assert_eq!(still.status, 200, "still signed in: {still:?}");

    let mut own = SAME_ORIGIN.to_vec();
    own.push(("cookie", &jar));
    let out = post_form(&s, "/logout", "", &own).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["cache-control"], "no-store");
    assert_eq!(s.mock.calls("POST /api/logout"), 1);
    let expired: Vec<String> = out
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(
        expired
            .iter()
            .any(|c| c.starts_with("q_access_token=;") && c.contains("Max-Age=0")),
        "{expired:?}"
    );
}

/// Through the `/api/**` proxy, a cross-site `POST`, `PUT`, `PATCH` or `DELETE` that carries
/// cookies is refused with `403 {"code":"CROSS_SITE_REQUEST"}` and never reaches Qelos. The same
/// call from the application's own page, a cross-site call without cookies, and a cross-site
/// `GET` are forwarded unchanged.
pub async fn b12_proxy_refuses_cross_site_unsafe_calls_that_carry_cookies<A: ContractApp>() {
    let s = Setup::start::<A>(|b| b).await;
    let admin = s.mock.seed().admin.clone();
    let jar = cookie_header(
        &login(&s, &admin.username, &admin.password)
            .await
            .set_cookies,
    );
    let proxied = |method: Method, headers: Vec<(&'static str, String)>| {
        let url = format!("{}/api/logout", s.app.url());
        async move {
            let mut req = no_redirects().request(method, url);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            req.send().await.expect("the proxy answers")
        }
    };
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        s.mock.reset_calls();
        let resp = proxied(
            method.clone(),
            vec![
                ("sec-fetch-site", "cross-site".into()),
                ("origin", "http://evil.test".into()),
                ("cookie", jar.clone()),
            ],
        )
        .await;
        assert_eq!(resp.status(), 403, "{method}");
        let body: Value = resp.json().await.expect("JSON refusal");
        assert_eq!(body["code"], "CROSS_SITE_REQUEST");
        assert_eq!(s.mock.total_calls(), 0, "{method} never reaches Qelos");
        s.mock.reset_calls();
        let resp = proxied(
            method.clone(),
            vec![
                ("origin", "http://evil.test".into()),
                ("cookie", jar.clone()),
            ],
        )
        .await;
        assert_eq!(resp.status(), 403, "{method} by Origin alone");
        assert_eq!(s.mock.total_calls(), 0);
    }

    s.mock.reset_calls();
    let cookieless = proxied(
        Method::POST,
        vec![
            ("sec-fetch-site", "cross-site".into()),
            ("origin", "http://evil.test".into()),
        ],
    )
    .await;
    assert_ne!(cookieless.status(), 403, "a cookie-less call passes");
    assert_eq!(s.mock.calls("POST /api/logout"), 1);

    let read = no_redirects()
        .get(format!("{}/api/me", s.app.url()))
        .header("sec-fetch-site", "cross-site")
        .header("cookie", &jar)
        .send()
        .await
        .expect("proxy answers");
    assert_eq!(read.status(), 200, "a cross-site GET is forwarded");

    s.mock.reset_calls();
    let own = proxied(
        Method::POST,
        vec![
            ("sec-fetch-site", "same-origin".into()),
            ("cookie", jar.clone()),
        ],
    )
    .await;
    assert_eq!(own.status(), 200, "the application's own page may post");
    assert_eq!(s.mock.calls("POST /api/logout"), 1);
}

/// Login CSRF through social login: an `rt` obtained in one browser (the attacker's) and
/// delivered to another browser's `/auth/callback` is refused (`403 CROSS_SITE_REQUEST`),
/// without spending it; the browser that started the sign-in completes it.
pub async fn b13_social_callback_refuses_a_sign_in_started_in_another_browser<A: ContractApp>() {
    let s = Setup::start::<A>(|b| b).await;
    let client = no_redirects();
    let location = |r: &reqwest::Response| {
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    };
    let start = client
        .get(format!(
            "{}/auth/github?returnUrl=%2Fauth%2Fcallback",
            s.app.url()
        ))
        .send()
        .await
        .expect("start answers");
    let attacker_jar = set_cookie_jar(start.headers());
    let provider = client.get(location(&start)).send().await.expect("qelos");
    let back = client
        .get(location(&provider))
        .send()
        .await
        .expect("provider");
    let back_to = location(&back);
    assert!(back_to.starts_with("/auth/callback?rt="), "{back_to}");

    // The victim's browser: no state cookie, then a state cookie of its own.
    let victim_start = client
        .get(format!("{}/auth/github", s.app.url()))
        .send()
        .await
        .expect("start answers");
    let victim_jar = set_cookie_jar(victim_start.headers());
    assert_ne!(victim_jar, attacker_jar);
    s.mock.reset_calls();
    for jar in [None, Some(victim_jar.as_str())] {
        let mut req = client.get(format!("{}{back_to}", s.app.url()));
        if let Some(jar) = jar {
            req = req.header("cookie", jar);
        }
        let refused = req.send().await.expect("callback answers");
        assert_eq!(refused.status(), 403, "{jar:?}");
        assert!(
            refused
                .headers()
                .get_all("set-cookie")
                .iter()
                .all(|c| !c.to_str().unwrap_or_default().starts_with("qlt_")),
            "no session cookie"
        );
        let body: Value = refused.json().await.expect("JSON");
        assert_eq!(body["code"], "CROSS_SITE_REQUEST");
    }
    assert_eq!(s.mock.total_calls(), 0, "the rt was not spent");

    let done = client
        .get(format!("{}{back_to}", s.app.url()))
        .header("cookie", &attacker_jar)
        .send()
        .await
        .expect("callback answers");
    assert_eq!(
        done.status(),
        303,
        "the starting browser completes its sign-in"
    );
    assert_eq!(done.headers()["cache-control"], "no-store");
}

/// The middleware's own token writes carry `Cache-Control: no-store` too: a page answered
/// after a refresh (new cookies), under `require_auth` and not, and the answer that expires a
/// dead session's cookies. A page that writes no cookie is left alone.
pub async fn b14_responses_that_rotate_or_expire_tokens_are_never_stored<A: ContractApp>() {
    for strict in [false, true] {
        let s = Setup::start::<A>(|b| b.require_auth(strict)).await;
        let get_me = |jar: String| {
            let url = format!("{}/me", s.app.url());
            async move {
                no_redirects()
                    .get(url)
                    .header("cookie", jar)
                    .send()
                    .await
                    .expect("the app answers")
            }
        };
        let expired = s.admin_tokens(true);
        let jar = format!(
            "q_access_token={}; q_refresh_token={}",
            expired.access, expired.refresh
        );
        let rotated = get_me(jar).await;
        assert_eq!(rotated.status(), 200);
        assert!(rotated.headers().get_all("set-cookie").iter().count() >= 2);
        assert_eq!(
            rotated.headers()["cache-control"],
            "no-store",
            "strict={strict}"
        );

        let fresh = s.admin_tokens(false);
        let plain = get_me(format!("q_access_token={}", fresh.access)).await;
        assert_eq!(plain.status(), 200);
        assert_eq!(plain.headers().get_all("set-cookie").iter().count(), 0);
        assert!(plain.headers().get("cache-control").is_none());

        let dead = s.admin_tokens(true);
        s.mock.expire_token(&dead.refresh);
        let ended = get_me(format!(
            "q_access_token={}; q_refresh_token={}",
            dead.access, dead.refresh
        ))
        .await;
        assert_eq!(ended.status(), if strict { 401 } else { 200 });
        assert!(ended.headers().get_all("set-cookie").iter().count() >= 2);
        assert_eq!(
            ended.headers()["cache-control"],
            "no-store",
            "strict={strict}"
        );
    }
}

/// B15: `X-Forwarded-Proto` on a proxied call follows the core's one rule in every adapter:
/// `http` on a plain connection, the value a front proxy reported when it is `https`, and
/// `http` again for anything else.
pub async fn b15_x_forwarded_proto_follows_one_rule_in_every_adapter<A: ContractApp>() {
    let s = with_upstream::<A>().await;
    for (reported, expected) in [
        (None, "http"),
        (Some("https"), "https"),
        (Some("gopher"), "http"),
    ] {
        let mut request = s.http.get(format!("{}/api/echo", s.app.url()));
        if let Some(proto) = reported {
            request = request.header("x-forwarded-proto", proto);
        }
        let resp = request.send().await.expect("echo answers");
        let v: Value = resp.json().await.expect("json");
        assert_eq!(
            v["headers"]["x-forwarded-proto"], expected,
            "inbound X-Forwarded-Proto {reported:?}: {v}"
        );
    }
}
