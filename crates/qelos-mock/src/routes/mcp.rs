//! MCP authorisation of the auth service (`/api/auth/mcp/*`): authorize, consent, token.
//!
//! The tenant's `mcp-configuration` configuration (`/api/configurations`) turns it on:
//! `metadata.enabled` and `metadata.permittedCallbackUrls` (exact URLs, a trailing `*` for a
//! prefix, `:*` for any port). Without it every route answers `503`, as Qelos does. The fake
//! keeps Qelos's flow and refusals: `authorize` redirects an anonymous caller to
//! `/login?redirect=…` and a signed-in one to the consent page `/mcp/authorize?mcp_state=…`
//! (`mcp_state` is a signed JWT with Qelos's short claim names); `consent` (form `mcp_state`,
//! `action=accept|deny`) redirects back with `code` (PKCE), tokens (no PKCE) or
//! `error=access_denied`; `token` exchanges a code once, within 10 minutes, for an OAuth pair.
//! Dynamic client registration is not faked: any `client_id` is `400 Invalid client_id`, and
//! redirect URIs are not matched by known client family.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;

use super::verify::verify_user;
use crate::MockInner;
use crate::jwt;
use crate::state::Store;
use crate::util::{decode_component, json_response, message, now_ms, now_s, ok, tenant};

type Mock = State<Arc<MockInner>>;

const CODE_TTL_MS: u64 = 600_000;
const STATE_TTL_S: u64 = 600;

/// A stored authorisation code.
#[derive(Clone, Debug)]
struct StoredCode {
    user: String,
    tenant: String,
    redirect_uri: String,
    challenge: String,
    method: String,
    workspace: Option<String>,
    expires_ms: u64,
}

/// The MCP part of the mock's memory: codes not yet exchanged.
#[derive(Default)]
pub(crate) struct McpState {
    codes: Mutex<HashMap<String, StoredCode>>,
}

/// The MCP routes.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    Router::new()
        .route("/api/auth/mcp/authorize", get(authorize))
        .route("/api/auth/mcp/consent", post(consent))
        .route("/api/auth/mcp/token", post(token))
}

/// `(enabled, permitted callback URLs)` of `tenant`.
fn config(mock: &MockInner, tenant: &str) -> (bool, Vec<String>) {
    let Some(doc) = mock
        .admin
        .find("configurations", tenant, "key", "mcp-configuration")
    else {
        return (false, Vec::new());
    };
    let meta = &doc["metadata"];
    let urls = meta["permittedCallbackUrls"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    (meta["enabled"] == true, urls)
}

fn permitted(redirect: &str, urls: &[String]) -> bool {
    let redirect = redirect.trim();
    urls.iter().map(|u| u.trim()).any(|p| {
        if p.is_empty() {
            false
        } else if let Some((head, tail)) = p.split_once(":*") {
            redirect
                .strip_prefix(head)
                .and_then(|r| r.strip_prefix(':'))
                .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
                .is_some_and(|r| r == tail)
                && redirect.len() > head.len() + 1 + tail.len()
        } else if let Some(prefix) = p.strip_suffix('*') {
            redirect.starts_with(prefix)
        } else {
            redirect == p
        }
    })
}

/// `application/x-www-form-urlencoded` pairs.
fn form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            (
                decode_component(&k.replace('+', " ")),
                decode_component(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn redirect(to: &str) -> Response {
    match header::HeaderValue::from_str(to) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => message(StatusCode::BAD_REQUEST, "redirect_uri is invalid"),
    }
}

/// `path?k=v&…` with the pairs form-encoded.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let mut url = reqwest::Url::parse(base).ok()?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    Some(url.to_string())
}

fn relative(path: &str, pairs: &[(&str, &str)]) -> String {
    let url = with_query(&format!("http://relative.invalid{path}"), pairs).unwrap_or_default();
    url.strip_prefix("http://relative.invalid")
        .unwrap_or(path)
        .to_owned()
}

fn pkce_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// `GET /api/auth/mcp/authorize?redirect_uri=&state=&code_challenge=&code_challenge_method=&client_id=`.
async fn authorize(
    State(mock): Mock,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let tenant = tenant(&headers);
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let Some(redirect_uri) = get("redirect_uri") else {
        return message(StatusCode::BAD_REQUEST, "redirect_uri is required");
    };
    let (enabled, urls) = config(&mock, &tenant);
    if !enabled {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            "MCP OAuth is not enabled for this tenant",
        );
    }
    if get("client_id").is_some() {
        return message(StatusCode::BAD_REQUEST, "Invalid client_id");
    }
    if !permitted(&redirect_uri, &urls) {
        return message(StatusCode::BAD_REQUEST, "redirect_uri is not permitted");
    }
    let challenge = get("code_challenge");
    let method = get("code_challenge_method");
    if challenge.is_some() && !matches!(method.as_deref(), Some("S256" | "plain")) {
        return message(
            StatusCode::BAD_REQUEST,
            "code_challenge_method must be S256 or plain",
        );
    }
    let caller = verify_user(&mock.store, &headers).ok();
    let signed_in = caller.as_ref().is_some_and(|c| c.principal.is_some());
    let state = get("state");
    if !signed_in {
        let mut pairs = vec![("redirect_uri", redirect_uri.as_str())];
        for (k, v) in [
            ("state", &state),
            ("code_challenge", &challenge),
            ("code_challenge_method", &method),
        ] {
            if let Some(v) = v {
                pairs.push((k, v.as_str()));
            }
        }
        let path = relative("/api/auth/mcp/authorize", &pairs);
        return redirect(&relative("/login", &[("redirect", &path)]));
    }
    let mut claims =
        json!({"ru": redirect_uri, "t": tenant, "iat": now_s(), "exp": now_s() + STATE_TTL_S});
    for (k, v) in [("s", &state), ("cc", &challenge), ("ccm", &method)] {
        if let Some(v) = v {
            claims[k] = json!(v);
        }
    }
    let packed = jwt::sign(&claims, &mock.store.config.refresh_secret);
    let response = redirect(&relative("/mcp/authorize", &[("mcp_state", &packed)]));
    match caller {
        Some(c) => c.finish(response),
        None => response,
    }
}

/// `POST /api/auth/mcp/consent` (form `mcp_state`, `action`, `token_delivery`).
async fn consent(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = match caller.require() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let body = form(&body);
    let action = body.get("action").map(String::as_str);
    let (Some(raw), Some("accept" | "deny")) = (body.get("mcp_state"), action) else {
        return caller.finish(message(
            StatusCode::BAD_REQUEST,
            "mcp_state and action are required",
        ));
    };
    let Some(state) = jwt::verify(raw, &mock.store.config.refresh_secret, now_s())
        .filter(|s| s["ru"].is_string() && s["t"].is_string())
    else {
        return caller.finish(message(
            StatusCode::BAD_REQUEST,
            "mcp_state is invalid or expired",
        ));
    };
    let tenant = tenant(&headers);
    if state["t"] != tenant.as_str() {
        return caller.finish(message(StatusCode::BAD_REQUEST, "tenant mismatch"));
    }
    let (enabled, urls) = config(&mock, &tenant);
    if !enabled {
        return caller.finish(message(
            StatusCode::SERVICE_UNAVAILABLE,
            "MCP OAuth is not enabled for this tenant",
        ));
    }
    let ru = state["ru"].as_str().unwrap_or_default().to_owned();
    if !permitted(&ru, &urls) {
        return caller.finish(message(
            StatusCode::BAD_REQUEST,
            "redirect_uri is not permitted",
        ));
    }
    let client_state = state["s"].as_str();
    let mut back: Vec<(&str, String)> = Vec::new();
    if action == Some("deny") {
        back.push(("error", "access_denied".into()));
    } else if let (Some(cc), Some(ccm)) = (state["cc"].as_str(), state["ccm"].as_str()) {
        let code =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        mock.user_api
            .mcp
            .codes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                code.clone(),
                StoredCode {
                    user: p.user_id.clone(),
                    tenant: tenant.clone(),
                    redirect_uri: ru.clone(),
                    challenge: cc.to_owned(),
                    method: ccm.to_owned(),
                    workspace: p.workspace_id(),
                    expires_ms: now_ms() + CODE_TTL_MS,
                },
            );
        back.push(("code", code));
    } else {
        let Some(pair) = issue(&mock, &p.user_id, p.workspace_id()) else {
            return caller.finish(message(StatusCode::UNAUTHORIZED, "user not found"));
        };
        back.push((
            "access_token",
            pair["access_token"].as_str().unwrap_or_default().into(),
        ));
        back.push((
            "refresh_token",
            pair["refresh_token"].as_str().unwrap_or_default().into(),
        ));
        back.push(("token_type", "Bearer".into()));
        back.push(("expires_in", pair["expires_in"].to_string()));
    }
    if let Some(s) = client_state {
        back.push(("state", s.to_owned()));
    }
    let pairs: Vec<(&str, &str)> = back.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let to = if body.get("token_delivery").map(String::as_str) == Some("fragment")
        && pairs.iter().any(|(k, _)| *k == "access_token")
    {
        let query = relative("/", &pairs);
        format!(
            "{}#{}",
            ru.split('#').next().unwrap_or_default(),
            query.trim_start_matches("/?")
        )
    } else {
        with_query(&ru, &pairs).unwrap_or(ru)
    };
    caller.finish(redirect(&to))
}

/// A new OAuth pair for `user_id` (in `workspace`): the token endpoint's answer.
fn issue(mock: &MockInner, user_id: &str, workspace: Option<String>) -> Option<Value> {
    let store = &mock.store;
    let mut db = store.db();
    let claim = workspace
        .as_deref()
        .and_then(|ws| Store::workspace_claim(&db, user_id, ws, true));
    let user = db.users.iter_mut().find(|u| u.id == user_id)?;
    let access = store.access_jwt(user, claim, store.config.access_ttl, false);
    let refresh = store.refresh_jwt(user, &access, workspace);
    Some(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": store.config.access_ttl.as_secs(),
    }))
}

fn oauth_error(code: &str) -> Response {
    json_response(StatusCode::BAD_REQUEST, &json!({ "error": code }))
}

/// `POST /api/auth/mcp/token` (form `grant_type=authorization_code`, `code`, `redirect_uri`,
/// `code_verifier`).
async fn token(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let tenant = tenant(&headers);
    let body = form(&body);
    let get = |k: &str| body.get(k).filter(|v| !v.is_empty());
    if get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error("unsupported_grant_type");
    }
    let (Some(code), Some(redirect_uri), Some(verifier)) =
        (get("code"), get("redirect_uri"), get("code_verifier"))
    else {
        return oauth_error("invalid_request");
    };
    let (enabled, urls) = config(&mock, &tenant);
    if !enabled {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": "temporarily_unavailable"}),
        );
    }
    if get("client_id").is_some() {
        return oauth_error("invalid_client");
    }
    if !permitted(redirect_uri, &urls) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request", "error_description": "redirect_uri is not permitted"}),
        );
    }
    // Single use: taken out whatever the outcome, as Qelos clears it.
    let stored = mock
        .user_api
        .mcp
        .codes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(code.as_str());
    let Some(stored) = stored.filter(|s| s.expires_ms > now_ms()) else {
        return oauth_error("invalid_grant");
    };
    let verified = match stored.method.as_str() {
        "plain" => *verifier == stored.challenge,
        "S256" => pkce_s256(verifier) == stored.challenge,
        _ => false,
    };
    if stored.tenant != tenant || stored.redirect_uri != *redirect_uri || !verified {
        return oauth_error("invalid_grant");
    }
    match issue(&mock, &stored.user, stored.workspace) {
        Some(pair) => ok(pair),
        None => oauth_error("invalid_grant"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permitted_callbacks_match_exactly_by_prefix_or_any_port() {
        let urls = vec![
            "https://client.example/cb".to_owned(),
            "https://wild.example/*".to_owned(),
            "http://127.0.0.1:*/callback".to_owned(),
        ];
        assert!(permitted("https://client.example/cb", &urls));
        assert!(!permitted("https://client.example/cb2", &urls));
        assert!(permitted("https://wild.example/a/b", &urls));
        assert!(permitted("http://127.0.0.1:5173/callback", &urls));
        assert!(!permitted("http://127.0.0.1:/callback", &urls));
        assert!(!permitted("http://127.0.0.1:80/other", &urls));
    }

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn form_bodies_decode_plus_and_percent() {
        let f = form(b"a=x+y&b=%2Fp%3Fq");
        assert_eq!(f["a"], "x y");
        assert_eq!(f["b"], "/p?q");
    }
}
