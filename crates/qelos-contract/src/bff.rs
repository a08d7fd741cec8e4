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
pub const BFF_SCENARIOS: [&str; 9] = [
    "b01_proxy_streams_large_bodies_both_ways_in_flat_memory",
    "b02_proxy_keeps_query_string_and_method_including_head",
    "b03_proxy_sets_forwarded_headers_and_drops_hop_by_hop",
    "b04_proxy_rewrites_every_set_cookie_domain_to_the_inbound_host",
    "b05_proxy_errors_are_503_502_504_json",
    "b06_own_api_routes_win_and_proxied_traffic_is_not_probed",
    "b07_login_then_protected_route_then_logout",
    "b08_social_login_redirect_and_callback_forward_the_session_cookie",
    "b09_proxy_signs_in_with_the_integrator_cookies_and_rotates_them",
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
        assert!(
            !cfg!(target_os = "linux"),
            "the child's peak memory is readable on Linux"
        );
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
        .send()
        .await
        .expect("callback answers");
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/");
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
    let reused = s.get(&back_to, &[]).await;
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
