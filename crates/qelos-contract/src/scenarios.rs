//! The 27 scenarios of the integrator contract, written once and run against every adapter.
//!
//! Each function starts its own `qelos-mock` and contract app on free ports and talks real HTTP.

use std::time::{Duration, Instant};

use qelos_integrator_core::QelosConfigBuilder;
use qelos_mock::{Fault, MintRequest, MintedTokens, MockServer};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::app::config_builder;
use crate::harness::{ContractApp, RunningApp, capture_logs};

const REFRESH: &str = "POST /api/token/refresh";
const COOKIE_REFRESH: &str = "POST /api/cookie/refresh";

/// One scenario's world: a fake Qelos, the app under test, and an HTTP client.
pub struct Setup {
    /// The fake Qelos.
    pub mock: MockServer,
    /// The contract app.
    pub app: RunningApp,
    /// A client with no cookie store and no proxy.
    pub http: reqwest::Client,
}

/// A response as the scenarios look at it.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed JSON body (`Null` when the body is not JSON).
    pub body: Value,
    /// Every `Set-Cookie` value.
    pub set_cookies: Vec<String>,
    /// The `Content-Type`.
    pub content_type: String,
}

impl Reply {
    /// The `Set-Cookie` for cookie `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies
            .iter()
            .find(|c| c.starts_with(&prefix))
            .map(String::as_str)
    }

    /// The value of cookie `name` in its `Set-Cookie`.
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        let c = self.cookie(name)?;
        let first = c.split(';').next()?;
        Some(first.split_once('=')?.1.to_owned())
    }
}

impl Setup {
    /// Starts the mock and the app `A`, whose config comes from [`config_builder`] and `tweak`.
    pub async fn start<A: ContractApp>(
        tweak: impl FnOnce(QelosConfigBuilder) -> QelosConfigBuilder,
    ) -> Setup {
        let mock = MockServer::start().await.expect("qelos-mock starts");
        let config = tweak(config_builder(&mock.url()))
            .build()
            .expect("contract config is valid");
        Self::with_config::<A>(mock, config)
    }

    /// Starts the app `A` with a ready config against an already running mock.
    pub fn with_config<A: ContractApp>(
        mock: MockServer,
        config: qelos_integrator_core::QelosConfig,
    ) -> Setup {
        let app = A::spawn(config).expect("contract app starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("test client builds");
        Setup { mock, app, http }
    }

    /// Mints tokens for the seeded admin, active workspace "Beta Labs" (not the first).
    pub fn admin_tokens(&self, expired: bool) -> MintedTokens {
        let beta = self.workspace_id("Beta Labs");
        let mut req = MintRequest::for_user(&self.mock.seed().admin.username);
        req.workspace = Some(beta);
        req.expired = expired;
        self.mock.mint_tokens(&req)
    }

    /// The seeded workspace id with this name.
    pub fn workspace_id(&self, name: &str) -> String {
        self.mock
            .seed()
            .workspaces
            .iter()
            .find(|w| w.name == name)
            .map(|w| w.id.clone())
            .unwrap_or_else(|| panic!("seed has workspace {name}"))
    }

    /// Sends a request with raw headers.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        headers: &[(&str, &[u8])],
        body: Option<Value>,
    ) -> Reply {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_bytes(v).expect("header value"),
            );
        }
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.app.url()))
            .headers(map);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the app answers");
        let status = resp.status().as_u16();
        let set_cookies = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = resp.bytes().await.expect("body reads");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            set_cookies,
            content_type,
        }
    }

    /// `GET path` with text headers.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let raw: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        self.send(reqwest::Method::GET, path, &raw, None).await
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn cookies(tokens: &MintedTokens) -> String {
    format!(
        "q_access_token={}; q_refresh_token={}",
        tokens.access, tokens.refresh
    )
}

fn assert_signed_in_admin(s: &Setup, r: &Reply) {
    assert_eq!(r.status, 200, "signed-in /me answers 200: {r:?}");
    assert_eq!(r.body["userId"], json!(s.mock.seed().admin.id), "{r:?}");
    assert_eq!(r.body["username"], json!(s.mock.seed().admin.username));
}

fn assert_anonymous(r: &Reply) {
    assert_eq!(r.status, 200, "anonymous /me answers 200: {r:?}");
    assert_eq!(r.body["userId"], Value::Null, "{r:?}");
    assert_eq!(r.body["workspaceCount"], json!(0));
}

fn assert_expired_cookie(r: &Reply, name: &str) {
    let c = r
        .cookie(name)
        .unwrap_or_else(|| panic!("{name} is expired in the response: {:?}", r.set_cookies));
    assert!(
        c.contains("Max-Age=0"),
        "{name} expires with Max-Age=0: {c}"
    );
}

fn assert_token_cookie_attributes(r: &Reply, name: &str) {
    let c = r
        .cookie(name)
        .unwrap_or_else(|| panic!("{name} is set: {:?}", r.set_cookies));
    for attr in ["Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(c.contains(attr), "{name} has {attr}: {c}");
    }
    assert!(!c.contains("Secure"), "no Secure on an http:// Qelos: {c}");
    assert!(
        !c.contains("Domain="),
        "integrator cookies are host-only: {c}"
    );
}

/// Scenario 1: A Bearer token resolves the user, the active workspace and the workspace count.
pub async fn s01_bearer_token_resolves_user<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    let r = s.get("/me", &[("authorization", &bearer(&t.access))]).await;
    assert_signed_in_admin(&s, &r);
    assert_eq!(r.body["workspaceId"], json!(s.workspace_id("Beta Labs")));
    assert_eq!(r.body["workspaceName"], json!("Beta Labs"));
    assert_eq!(r.body["workspaceCount"], json!(2));
}

/// Scenario 2: The access cookie alone resolves the same identity.
pub async fn s02_access_cookie_resolves_user<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    let cookie = format!("q_access_token={}", t.access);
    let r = s.get("/me", &[("cookie", &cookie)]).await;
    assert_signed_in_admin(&s, &r);
    assert_eq!(r.body["workspaceName"], json!("Beta Labs"));
    assert_eq!(r.body["workspaceCount"], json!(2));
}

/// Scenario 3: An anonymous request is served with no upstream call at all.
pub async fn s03_anonymous_makes_no_upstream_call<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    s.mock.reset_calls();
    let r = s.get("/me", &[("cookie", "theme=dark")]).await;
    assert_anonymous(&r);
    assert_eq!(
        s.mock.total_calls(),
        0,
        "no upstream call for a request without credentials"
    );
}

/// Scenario 4: Under `require_auth`, an anonymous request gets `401 {"code":"UNAUTHORIZED"}`.
pub async fn s04_require_auth_rejects_anonymous<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c.require_auth(true)).await;
    let r = s.get("/me", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, json!({"code": "UNAUTHORIZED"}));
    assert!(
        r.content_type.starts_with("application/json"),
        "{}",
        r.content_type
    );
    let t = s.admin_tokens(false);
    let ok = s.get("/me", &[("authorization", &bearer(&t.access))]).await;
    assert_signed_in_admin(&s, &ok);
}

/// Scenario 5: A route guarded by `RequireUser` answers 401 anonymous and 200 signed in.
pub async fn s05_require_user_guard<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let r = s.get("/secret", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, json!({"code": "UNAUTHORIZED"}));
    let t = s.admin_tokens(false);
    let r = s
        .get("/secret", &[("authorization", &bearer(&t.access))])
        .await;
    assert_signed_in_admin(&s, &r);
}

/// Scenario 6: Skip paths run the handler with no context and no upstream call; prefixes match whole
/// segments, so `/healthz` is not skipped by `/health`.
pub async fn s06_skip_paths_match_whole_segments<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    let auth = bearer(&t.access);
    s.mock.reset_calls();
    for path in ["/health", "/health/db"] {
        let r = s.get(path, &[("authorization", &auth)]).await;
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.body["hasContext"], json!(false), "{path} gets no context");
    }
    assert_eq!(
        s.mock.total_calls(),
        0,
        "skipped paths cause no upstream call"
    );
    let r = s.get("/healthz", &[("authorization", &auth)]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["hasContext"],
        json!(true),
        "/healthz is not under /health"
    );
    assert!(s.mock.calls("GET /api/me") >= 1);
}

/// Scenario 7: An expired access token with a valid refresh cookie is refreshed: signed in, two new
/// cookies with the contract's attributes, and the new cookies alone work afterwards.
pub async fn s07_expired_access_is_refreshed_and_cookies_rotate<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(true);
    s.mock.reset_calls();
    let r = s.get("/me", &[("cookie", &cookies(&t))]).await;
    assert_signed_in_admin(&s, &r);
    assert_eq!(s.mock.calls(REFRESH), 1, "one refresh");
    assert_token_cookie_attributes(&r, "q_access_token");
    assert_token_cookie_attributes(&r, "q_refresh_token");
    let access = r.cookie_value("q_access_token").expect("new access cookie");
    let refresh = r
        .cookie_value("q_refresh_token")
        .expect("new refresh cookie");
    assert_ne!(access, t.access);
    assert_ne!(refresh, t.refresh);
    let follow = format!("q_access_token={access}; q_refresh_token={refresh}");
    let r2 = s.get("/me", &[("cookie", &follow)]).await;
    assert_signed_in_admin(&s, &r2);
    assert_eq!(
        s.mock.calls(REFRESH),
        1,
        "the new access token needs no refresh"
    );
    assert!(
        r2.cookie("q_access_token").is_none(),
        "no cookie churn without a refresh"
    );
}

/// Scenario 8: 50 concurrent requests with one expired access token and one refresh token: all signed
/// in, exactly one upstream refresh, all given the same new pair.
pub async fn s08_concurrent_refresh_is_single_flight<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(true);
    s.mock.reset_calls();
    let cookie = cookies(&t);
    let headers = [("cookie", cookie.as_str())];
    let replies = futures_util::future::join_all((0..50).map(|_| s.get("/me", &headers))).await;
    let mut pairs = std::collections::HashSet::new();
    for r in &replies {
        assert_signed_in_admin(&s, r);
        pairs.insert((
            r.cookie_value("q_access_token"),
            r.cookie_value("q_refresh_token"),
        ));
    }
    assert_eq!(
        s.mock.calls(REFRESH),
        1,
        "exactly one upstream refresh for 50 requests"
    );
    assert_eq!(
        pairs.len(),
        1,
        "all 50 responses set the same pair: {pairs:?}"
    );
    assert!(pairs.iter().all(|(a, r)| a.is_some() && r.is_some()));
}

/// Scenario 9: A refresh token Qelos refuses ends the session: anonymous (or 401 under `require_auth`),
/// both cookies expired, no hang.
pub async fn s09_dead_refresh_token_expires_cookies<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c.timeout(Duration::from_secs(5))).await;
    let t = s.admin_tokens(true);
    s.mock.expire_token(&t.refresh);
    let started = Instant::now();
    let r = s.get("/me", &[("cookie", &cookies(&t))]).await;
    assert!(started.elapsed() < Duration::from_secs(5), "no hang");
    assert_anonymous(&r);
    assert_expired_cookie(&r, "q_access_token");
    assert_expired_cookie(&r, "q_refresh_token");

    let strict = Setup::start::<A>(|c| c.require_auth(true)).await;
    let t = strict.admin_tokens(true);
    strict.mock.expire_token(&t.refresh);
    let r = strict.get("/me", &[("cookie", &cookies(&t))]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, json!({"code": "UNAUTHORIZED"}));
    assert_expired_cookie(&r, "q_access_token");
    assert_expired_cookie(&r, "q_refresh_token");
}

/// Scenario 10: A 403 or 404 from an SDK call never triggers a refresh.
pub async fn s10_forbidden_and_not_found_never_refresh<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let user = s.mock.seed().user.username.clone();
    let t = s.mock.mint_tokens(&MintRequest::for_user(&user));
    let c = cookies(&t);
    s.mock.reset_calls();
    let forbidden = s.get("/entities/audit", &[("cookie", &c)]).await;
    assert_eq!(forbidden.status, 403, "{forbidden:?}");
    let missing = s
        .get(
            "/entities/products/00000000-0000-7000-8000-000000000000",
            &[("cookie", &c)],
        )
        .await;
    assert_eq!(missing.status, 404, "{missing:?}");
    assert_eq!(s.mock.calls(REFRESH), 0, "no refresh on 403/404");
    assert_eq!(
        s.mock.calls(COOKIE_REFRESH),
        0,
        "no cookie refresh on 403/404"
    );
    assert!(forbidden.set_cookies.is_empty() && missing.set_cookies.is_empty());
}

/// Scenario 11: In `api_token` mode every upstream call carries `x-api-key`; nothing is refreshed and
/// no cookie is written.
pub async fn s11_api_token_mode_uses_x_api_key<A: ContractApp>() {
    let mock = MockServer::start().await.expect("qelos-mock starts");
    let admin = {
        let mut req = MintRequest::for_user(&mock.seed().admin.username);
        req.workspace = None;
        mock.mint_tokens(&req)
    };
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let created: Value = http
        .post(format!("{}/api/me/api-tokens", mock.url()))
        .bearer_auth(&admin.access)
        .json(&json!({"nickname": "contract", "expiresAt": "2099-01-01T00:00:00.000Z"}))
        .send()
        .await
        .expect("mock answers")
        .json()
        .await
        .expect("json");
    let api_token = created["token"].as_str().expect("token created").to_owned();
    let config = config_builder(&mock.url())
        .api_token(api_token.clone())
        .build()
        .expect("config");
    let s = Setup::with_config::<A>(mock, config);
    let t = s.admin_tokens(true);
    s.mock.reset_calls();
    let r = s.get("/me", &[("cookie", &cookies(&t))]).await;
    assert_signed_in_admin(&s, &r);
    assert!(
        r.set_cookies.is_empty(),
        "no cookies in api-token mode: {:?}",
        r.set_cookies
    );
    assert_eq!(s.mock.calls(REFRESH), 0);
    let upstream: Vec<_> = s
        .mock
        .requests()
        .into_iter()
        .filter(|req| req.path.starts_with("/api/"))
        .collect();
    assert!(!upstream.is_empty());
    for req in &upstream {
        let has = |name: &str| {
            req.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        assert!(
            has("x-api-key"),
            "{} {} carries x-api-key",
            req.method,
            req.path
        );
        assert!(
            !has("authorization"),
            "{} {} carries no bearer",
            req.method,
            req.path
        );
    }
}

/// Scenario 12: A custom resolver picks the workspace named by `x-tenant`; the default picks the
/// active one (which is not the first in the list).
pub async fn s12_workspace_resolution<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    let auth = bearer(&t.access);
    let r = s
        .get(
            "/tenant/me",
            &[("authorization", &auth), ("x-tenant", "Acme Inc")],
        )
        .await;
    assert_eq!(r.body["workspaceName"], json!("Acme Inc"), "{r:?}");
    assert_eq!(r.body["workspaceId"], json!(s.workspace_id("Acme Inc")));
    let r = s.get("/tenant/me", &[("authorization", &auth)]).await;
    assert_eq!(
        r.body["workspaceName"],
        json!("Beta Labs"),
        "default = active: {r:?}"
    );
}

/// Scenario 13: Entities through the request SDK: create, get, list, update, delete; a permission
/// error comes back as a typed SDK error, not a panic.
pub async fn s13_entities_through_request_sdk<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    let auth = bearer(&t.access);
    let h: &[(&str, &[u8])] = &[("authorization", auth.as_bytes())];
    use reqwest::Method;
    let created = s
        .send(
            Method::POST,
            "/entities/products",
            h,
            Some(json!({"name": "Widget", "price": 10})),
        )
        .await;
    assert_eq!(created.status, 200, "{created:?}");
    let id = created.body["id"]
        .as_str()
        .expect("created entity has an id")
        .to_owned();
    assert_eq!(created.body["name"], json!("Widget"));

    let got = s
        .send(Method::GET, &format!("/entities/products/{id}"), h, None)
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["price"], json!(10));

    let list = s.send(Method::GET, "/entities/products", h, None).await;
    assert!(
        list.body
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["id"] == json!(id))),
        "the list holds the new entity: {list:?}"
    );

    let updated = s
        .send(
            Method::PUT,
            &format!("/entities/products/{id}"),
            h,
            Some(json!({"price": 12})),
        )
        .await;
    assert_eq!(updated.status, 200, "{updated:?}");
    let got = s
        .send(Method::GET, &format!("/entities/products/{id}"), h, None)
        .await;
    assert_eq!(got.body["price"], json!(12));
    assert_eq!(got.body["name"], json!("Widget"));

    let deleted = s
        .send(Method::DELETE, &format!("/entities/products/{id}"), h, None)
        .await;
    assert_eq!(deleted.status, 200);
    let gone = s
        .send(Method::GET, &format!("/entities/products/{id}"), h, None)
        .await;
    assert_eq!(gone.status, 404);

    let user = s
        .mock
        .mint_tokens(&MintRequest::for_user(&s.mock.seed().user.username));
    let user_auth = bearer(&user.access);
    let denied = s
        .send(
            Method::POST,
            "/entities/audit",
            &[("authorization", user_auth.as_bytes())],
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.body["code"], json!("QELOS_API_ERROR"));
    assert_eq!(denied.body["status"], json!(403));
}

/// Scenario 14: The access token expires while the handler runs: the handler's own SDK call refreshes,
/// and the response carries the new cookies.
pub async fn s14_token_expiring_mid_request_is_refreshed_by_the_sdk<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    s.mock.reset_calls();
    let cookie = cookies(&t);
    let headers = [("cookie", cookie.as_str())];
    let request = s.get("/sdk/me?delay_ms=1500", &headers);
    let expire = async {
        // Wait until the middleware's identity calls were answered, then expire the token.
        let deadline = Instant::now() + Duration::from_secs(5);
        while (s.mock.calls("GET /api/me") < 1 || s.mock.calls("GET /api/workspaces") < 1)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        s.mock.expire_token(&t.access);
    };
    let (r, ()) = tokio::join!(request, expire);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["userId"], json!(s.mock.seed().admin.id));
    assert_eq!(
        s.mock.calls(REFRESH),
        1,
        "the handler's call refreshed once"
    );
    let access = r
        .cookie_value("q_access_token")
        .expect("new access cookie reaches the response");
    assert_ne!(access, t.access);
    assert!(r.cookie("q_refresh_token").is_some());
}

/// Scenario 15: A request carrying the Qelos session cookie has it forwarded; the rotated `Set-Cookie`
/// comes back with `Domain` set to the inbound host (port stripped), other attributes kept.
pub async fn s15_session_cookie_rotation_is_relayed_with_inbound_domain<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let mut req = MintRequest::for_user(&s.mock.seed().admin.username);
    req.cookie_age = Some(Duration::from_secs(2 * 3600));
    let t = s.mock.mint_tokens(&req);
    let cookie = format!("theme=dark; qlt_0={}", t.cookie);
    let r = s
        .get(
            "/me",
            &[("cookie", &cookie), ("host", "app.example.test:8443")],
        )
        .await;
    assert_signed_in_admin(&s, &r);
    let rotated = r
        .cookie("qlt_0")
        .unwrap_or_else(|| panic!("rotation relayed: {:?}", r.set_cookies));
    assert!(rotated.contains("Domain=app.example.test"), "{rotated}");
    assert!(
        !rotated.contains(":8443") && !rotated.contains("127.0.0.1"),
        "{rotated}"
    );
    for attr in ["Path=/api", "HttpOnly", "Secure", "SameSite=None"] {
        assert!(
            rotated.contains(attr),
            "upstream attribute {attr} kept: {rotated}"
        );
    }
    assert_ne!(r.cookie_value("qlt_0").as_deref(), Some(t.cookie.as_str()));
}

async fn assert_outage_answers(s: &Setup, auth: &str, within: Duration) {
    let started = Instant::now();
    let r = s.get("/me", &[("authorization", auth)]).await;
    assert!(
        started.elapsed() < within,
        "answered in {:?}",
        started.elapsed()
    );
    assert_anonymous(&r);
    let started = Instant::now();
    let r = s.get("/secret", &[("authorization", auth)]).await;
    assert!(
        started.elapsed() < within,
        "answered in {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.body, json!({"code": "QELOS_UNAVAILABLE"}));
}

/// Scenario 16: Qelos down (port closed): anonymous routes answer 200 with no user, required routes
/// 503 `QELOS_UNAVAILABLE`.
pub async fn s16_qelos_down_is_unavailable_not_logged_out<A: ContractApp>() {
    let mock = MockServer::start().await.expect("qelos-mock starts");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let config = config_builder(&format!("http://127.0.0.1:{port}"))
        .timeout(Duration::from_secs(2))
        .build()
        .expect("config");
    let s = Setup::with_config::<A>(mock, config);
    let t = s.admin_tokens(false);
    assert_outage_answers(&s, &bearer(&t.access), Duration::from_secs(3)).await;
}

/// Scenario 17: Qelos slower than the timeout: answered within timeout + 1 s, as when it is down.
pub async fn s17_slow_qelos_is_cut_at_the_timeout<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c.timeout(Duration::from_secs(1))).await;
    for endpoint in ["GET /api/me", "GET /api/workspaces"] {
        s.mock
            .set_fault(endpoint, Fault::Latency(Duration::from_secs(4)));
    }
    let t = s.admin_tokens(false);
    assert_outage_answers(&s, &bearer(&t.access), Duration::from_secs(2)).await;
}

/// Scenario 18: Garbage JSON or a 5xx from `/api/me` is an outage, never a panic or a 500.
pub async fn s18_garbage_or_5xx_from_qelos_is_unavailable<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c.timeout(Duration::from_secs(3))).await;
    let t = s.admin_tokens(false);
    let auth = bearer(&t.access);
    s.mock.set_fault("GET /api/me", Fault::GarbageJson);
    assert_outage_answers(&s, &auth, Duration::from_secs(4)).await;
    s.mock.clear_faults();
    s.mock.set_fault("GET /api/me", Fault::Status(502));
    assert_outage_answers(&s, &auth, Duration::from_secs(4)).await;
    s.mock.clear_faults();
    s.mock.set_fault("GET /api/me", Fault::DropConnection);
    assert_outage_answers(&s, &auth, Duration::from_secs(4)).await;
}

/// Scenario 19: Malformed input (bad percent-encoding, non-UTF-8 header bytes, a 16 KiB bearer,
/// `Bearer` with no token) is answered 4xx or anonymous, never 500.
pub async fn s19_malformed_input_is_never_a_500<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let big = format!("Bearer {}", "a".repeat(16 * 1024));
    type Headers<'a> = Vec<(&'a str, Vec<u8>)>;
    let cases: Vec<(&str, Headers)> = vec![
        (
            "bad percent-encoding",
            vec![(
                "cookie",
                b"q_access_token=%E0%A4%A; q_refresh_token=%".to_vec(),
            )],
        ),
        (
            "non-UTF-8 cookie",
            vec![("cookie", b"q_access_token=\xff\xfe\xfd".to_vec())],
        ),
        (
            "non-UTF-8 bearer",
            vec![("authorization", b"Bearer \xe9\xe9".to_vec())],
        ),
        ("16 KiB bearer", vec![("authorization", big.into_bytes())]),
        (
            "Bearer without token",
            vec![("authorization", b"Bearer".to_vec())],
        ),
        (
            "garbage bearer",
            vec![("authorization", b"Bearer not.a.jwt".to_vec())],
        ),
    ];
    for (what, headers) in &cases {
        let raw: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        for path in ["/me", "/secret"] {
            let r = s.send(reqwest::Method::GET, path, &raw, None).await;
            assert!(r.status < 500, "{what} on {path} answered {}", r.status);
            if r.status == 200 {
                assert_eq!(r.body["userId"], Value::Null, "{what} is anonymous");
            }
            if path == "/secret" {
                assert!(
                    (400..500).contains(&r.status),
                    "{what} on /secret: {}",
                    r.status
                );
            }
        }
    }
}

/// Scenario 20: Tokens never appear in the app's logs, at any level.
pub async fn s20_tokens_never_appear_in_logs<A: ContractApp>() {
    let logs = capture_logs();
    let s = Setup::start::<A>(|c| c).await;
    let mut secrets = Vec::new();
    // Bearer, cookie refresh, session cookie, dead session, handler refresh.
    let t = s.admin_tokens(false);
    s.get("/me", &[("authorization", &bearer(&t.access))]).await;
    secrets.extend([t.access.clone(), t.refresh.clone(), t.cookie.clone()]);
    let expired = s.admin_tokens(true);
    let r = s.get("/me", &[("cookie", &cookies(&expired))]).await;
    secrets.extend([expired.access.clone(), expired.refresh.clone()]);
    secrets.extend(r.cookie_value("q_access_token"));
    secrets.extend(r.cookie_value("q_refresh_token"));
    let mut old = MintRequest::for_user(&s.mock.seed().admin.username);
    old.cookie_age = Some(Duration::from_secs(7200));
    let session = s.mock.mint_tokens(&old);
    let r = s
        .get("/me", &[("cookie", &format!("qlt_0={}", session.cookie))])
        .await;
    secrets.push(session.cookie.clone());
    secrets.extend(r.cookie_value("qlt_0"));
    let dead = s.admin_tokens(true);
    s.mock.expire_token(&dead.refresh);
    s.get("/me", &[("cookie", &cookies(&dead))]).await;
    secrets.extend([dead.access.clone(), dead.refresh.clone()]);
    s.get("/entities/audit", &[("authorization", &bearer(&t.access))])
        .await;

    let text = logs.text();
    assert!(
        text.contains("qelos"),
        "the capture saw the integrator's own log lines ({} bytes)",
        text.len()
    );
    for secret in secrets.iter().filter(|s| s.len() >= 16) {
        // Any 16-character window of a token would be a leak.
        let needle = &secret[secret.len() / 2 - 8..secret.len() / 2 + 8];
        assert!(
            !text.contains(needle),
            "a token fragment leaked into the logs"
        );
    }
}

/// Scenario 21: A handler asking for the context without the middleware gets
/// `500 {"code":"QELOS_MIDDLEWARE_MISSING"}`.
pub async fn s21_missing_middleware_is_a_clear_500<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let r = s.get("/bare/me", &[]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.body["code"], json!("QELOS_MIDDLEWARE_MISSING"), "{r:?}");
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// Scenario 22: A handler written the plainest way (no Qelos extractor, a plain string answer)
/// still sends both rotated cookies after the middleware refreshed the caller's tokens.
///
/// Where routes without a Qelos extractor resolve nothing ([`ContractApp::RESOLVES_ON_DEMAND`],
/// rocket), the plain handler spends no refresh and sends no cookie, and the next route that
/// asks for the context refreshes and sends both.
pub async fn s22_plain_handler_after_a_refresh_sends_both_rotated_cookies<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(true);
    s.mock.reset_calls();
    let mut r = s.get("/plain", &[("cookie", &cookies(&t))]).await;
    assert_eq!(r.status, 200, "{r:?}");
    if A::RESOLVES_ON_DEMAND {
        assert_eq!(s.mock.calls(REFRESH), 0, "a plain route resolves nothing");
        assert!(r.set_cookies.is_empty(), "{r:?}");
        r = s.get("/me", &[("cookie", &cookies(&t))]).await;
        assert_signed_in_admin(&s, &r);
    }
    assert_eq!(s.mock.calls(REFRESH), 1, "one refresh");
    assert_token_cookie_attributes(&r, "q_access_token");
    assert_token_cookie_attributes(&r, "q_refresh_token");
    let follow = format!(
        "q_access_token={}; q_refresh_token={}",
        r.cookie_value("q_access_token").expect("new access"),
        r.cookie_value("q_refresh_token").expect("new refresh")
    );
    assert_signed_in_admin(&s, &s.get("/me", &[("cookie", &follow)]).await);
    assert_eq!(s.mock.calls(REFRESH), 1, "the rotated pair works as it is");
}

/// Scenario 23: Different routes hit at once with the same expired token (a plain handler, the
/// context, the signed-in guard, the SDK) make one upstream refresh, and all get the same pair
/// (except the plain handler where routes without an extractor resolve nothing: no cookies).
pub async fn s23_different_routes_at_once_share_one_refresh<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(true);
    s.mock.reset_calls();
    let cookie = cookies(&t);
    let headers = [("cookie", cookie.as_str())];
    let paths = ["/plain", "/me", "/secret", "/sdk/me"];
    let replies =
        futures_util::future::join_all((0..24).map(|i| s.get(paths[i % paths.len()], &headers)))
            .await;
    let mut pairs = std::collections::HashSet::new();
    for (i, r) in replies.iter().enumerate() {
        assert_eq!(r.status, 200, "{r:?}");
        if A::RESOLVES_ON_DEMAND && paths[i % paths.len()] == "/plain" {
            assert!(
                r.set_cookies.is_empty(),
                "a plain route resolves nothing: {r:?}"
            );
            continue;
        }
        pairs.insert((
            r.cookie_value("q_access_token"),
            r.cookie_value("q_refresh_token"),
        ));
    }
    assert_eq!(s.mock.calls(REFRESH), 1, "one refresh across every route");
    assert_eq!(pairs.len(), 1, "every route got the same pair: {pairs:?}");
    assert!(pairs.iter().all(|(a, r)| a.is_some() && r.is_some()));
}

/// Scenario 24: The app's own not-found handler still answers, under the middleware, for
/// anonymous and signed-in callers alike.
pub async fn s24_the_apps_own_not_found_handler_still_answers<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    for headers in [vec![], vec![("authorization", bearer(&t.access))]] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = s.get("/no/such/route", &headers).await;
        assert_eq!(r.status, 404, "{r:?}");
        assert_eq!(
            r.body["code"],
            json!("APP_NOT_FOUND"),
            "the app's own body: {r:?}"
        );
    }
}

/// Scenario 25: The extractors mean the same in every adapter: the context, the optional
/// context and the signed-in guard for anonymous, signed-in and skipped requests.
pub async fn s25_extractor_semantics_are_the_same_everywhere<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    let auth = bearer(&t.access);
    let signed_in = [("authorization", auth.as_str())];
    // Context: anonymous gets one without a user, signed in gets the user.
    assert_anonymous(&s.get("/me", &[]).await);
    assert_signed_in_admin(&s, &s.get("/me", &signed_in).await);
    // Optional context: `None` exactly where the middleware did not run (a skip path).
    assert_eq!(s.get("/healthz", &[]).await.body["hasContext"], json!(true));
    assert_eq!(
        s.get("/healthz", &signed_in).await.body["hasContext"],
        json!(true)
    );
    assert_eq!(
        s.get("/health", &signed_in).await.body["hasContext"],
        json!(false)
    );
    // The signed-in-only extractor: `Some` only for a signed-in caller.
    assert_eq!(
        s.get("/maybe-user", &[]).await.body["signedIn"],
        json!(false)
    );
    assert_eq!(
        s.get("/maybe-user", &signed_in).await.body["signedIn"],
        json!(true)
    );
    // Signed-in guard: 401 anonymous, the user when signed in, 401 on a skip path.
    let r = s.get("/secret", &[]).await;
    assert_eq!(
        (r.status, &r.body["code"]),
        (401, &json!("UNAUTHORIZED")),
        "{r:?}"
    );
    assert_signed_in_admin(&s, &s.get("/secret", &signed_in).await);
    for headers in [&[][..], &signed_in[..]] {
        let r = s.get("/health/user", headers).await;
        assert_eq!(
            (r.status, &r.body["code"]),
            (401, &json!("UNAUTHORIZED")),
            "{r:?}"
        );
    }
}

/// Scenario 26: A sub-tree under `require_auth_under("/private")` refuses anonymous callers with
/// `401 {"code":"UNAUTHORIZED"}`, on a route with the context extractor and on a plain route
/// alike, while the rest of the app stays open; signed-in callers pass, and one expired token
/// hitting the sub-tree and the rest of the app at once makes one upstream refresh.
pub async fn s26_require_auth_subtree_refuses_anonymous_and_shares_refresh<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c.require_auth_under("/private")).await;
    for path in ["/private/me", "/private/plain"] {
        let r = s.get(path, &[]).await;
        assert_eq!(r.status, 401, "{path}: {r:?}");
        assert_eq!(r.body, json!({"code": "UNAUTHORIZED"}), "{path}");
    }
    assert_anonymous(&s.get("/me", &[]).await);
    let t = s.admin_tokens(false);
    let signed_in = [("authorization", bearer(&t.access))];
    let signed_in: Vec<(&str, &str)> = signed_in.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_signed_in_admin(&s, &s.get("/private/me", &signed_in).await);
    let r = s.get("/private/plain", &signed_in).await;
    assert_eq!(r.status, 200, "{r:?}");
    let expired = s.admin_tokens(true);
    s.mock.reset_calls();
    let cookie = cookies(&expired);
    let headers = [("cookie", cookie.as_str())];
    let (private, open) = tokio::join!(s.get("/private/me", &headers), s.get("/me", &headers));
    assert_signed_in_admin(&s, &private);
    assert_signed_in_admin(&s, &open);
    assert_eq!(
        s.mock.calls(REFRESH),
        1,
        "one refresh for the sub-tree and the app"
    );
}

/// Scenario 27: The app's own 401 handler still answers a route without a Qelos extractor that
/// fails with the framework's "unauthorized" error, for anonymous and signed-in callers alike;
/// a Qelos refusal (the signed-in guard, anonymous) is still `401 {"code":"UNAUTHORIZED"}`.
pub async fn s27_the_apps_own_unauthorized_handler_still_answers<A: ContractApp>() {
    let s = Setup::start::<A>(|c| c).await;
    let t = s.admin_tokens(false);
    for headers in [vec![], vec![("authorization", bearer(&t.access))]] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = s.get("/own/unauthorized", &headers).await;
        assert_eq!(r.status, 401, "{r:?}");
        assert_eq!(
            r.body,
            json!({"code": "APP_UNAUTHORIZED"}),
            "the app's own body"
        );
    }
    let r = s.get("/secret", &[]).await;
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.body, json!({"code": "UNAUTHORIZED"}), "a Qelos refusal");
}

/// Scenario 28: An `on_token_refresh` hook given in the config sets a cookie of its own and keeps
/// the default ones: an expired access token answers with the hook's cookie, exactly as the hook
/// wrote it, and both rotated token cookies.
pub async fn s28_on_token_refresh_hook_sets_its_own_cookie<A: ContractApp>() {
    use qelos_integrator_core::TokenRefresh;
    use qelos_integrator_core::cookies::SetCookie;
    let s = Setup::start::<A>(|c| {
        c.on_token_refresh(|event: TokenRefresh| async move {
            // Something async before writing, as a hook that stores the pair would do.
            tokio::time::sleep(Duration::from_millis(20)).await;
            event.set_tokens();
            let marker = SetCookie::new("q_refreshed", "1").path("/").http_only(true);
            event.cookies().set(&marker).expect("a valid cookie");
        })
    })
    .await;
    let t = s.admin_tokens(true);
    s.mock.reset_calls();
    let r = s.get("/me", &[("cookie", &cookies(&t))]).await;
    assert_signed_in_admin(&s, &r);
    assert_eq!(s.mock.calls(REFRESH), 1, "one refresh");
    assert_eq!(
        r.cookie("q_refreshed"),
        Some("q_refreshed=1; Path=/; HttpOnly"),
        "the hook's cookie: {:?}",
        r.set_cookies
    );
    assert_token_cookie_attributes(&r, "q_access_token");
    assert_token_cookie_attributes(&r, "q_refresh_token");
    assert_ne!(r.cookie_value("q_access_token"), Some(t.access.clone()));
    assert_ne!(r.cookie_value("q_refresh_token"), Some(t.refresh.clone()));
    // Without a refresh the hook does not run.
    let fresh = s.admin_tokens(false);
    let r = s.get("/me", &[("cookie", &cookies(&fresh))]).await;
    assert_signed_in_admin(&s, &r);
    assert!(r.set_cookies.is_empty(), "{:?}", r.set_cookies);
}
