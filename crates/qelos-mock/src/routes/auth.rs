//! Auth service routes: signin, signup, refresh, logout, `/api/me`, API tokens, social login.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};

use super::verify::verify_user;
use crate::MockInner;
use crate::jwt;
use crate::state::{
    ApiTokenRec, CredentialKind, Principal, Store, UserRec, cookie_name, sha256_hex,
};
use crate::util::{
    cookie, empty, iso, message, now_ms, now_s, object_id, ok, parse_iso, request_host, tenant,
};

type Mock = State<Arc<MockInner>>;

fn with_cookie(mut response: Response, set_cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(set_cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn json_body(body: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .as_object()
        .cloned()
}

fn str_field<'a>(body: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    body.get(k).and_then(Value::as_str)
}

fn signin_user(u: &UserRec, with_full: bool) -> Value {
    let mut v = json!({"username": u.username, "email": u.email, "firstName": u.first_name,
        "lastName": u.last_name, "name": u.full_name, "roles": u.roles});
    if with_full {
        v["fullName"] = json!(u.full_name);
    }
    v
}

/// `POST /api/signin`.
pub(crate) async fn signin(
    State(mock): Mock,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let store = &mock.store;
    let Some(body) = json_body(&body) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors":{"password":"password is incorrect"}})),
        )
            .into_response();
    };
    let Some(mut username) = str_field(&body, "username").map(str::to_owned) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors":{"password":"password is incorrect"}})),
        )
            .into_response();
    };
    if username.trim().is_empty() {
        username = str_field(&body, "email").unwrap_or_default().to_owned();
    }
    let password = str_field(&body, "password")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if password.is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors":{"password":{"code":"EMPTY_PASSWORD"}}})),
        )
            .into_response();
    }
    let auth_type = str_field(&body, "authType").unwrap_or("cookie").to_owned();
    if auth_type != "cookie" && auth_type != "oauth" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors":{"general":{"code":"INVALID_AUTH_TYPE"}}})),
        )
            .into_response();
    }
    let tenant = tenant(&headers);
    let invalid = || {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors":{"general":{"message":"Invalid username or password"}}})),
        )
            .into_response()
    };
    let mut db = store.db();
    let Some(idx) = db
        .users
        .iter()
        .position(|u| u.tenant == tenant && u.username == username)
        .or_else(|| {
            db.users
                .iter()
                .position(|u| u.tenant == tenant && u.email == username)
        })
    else {
        return invalid();
    };
    if db.users[idx].password.trim() != password {
        return invalid();
    }
    if let Some(roles) = body.get("roles").and_then(Value::as_array) {
        let wanted: Vec<&str> = roles.iter().filter_map(Value::as_str).collect();
        if !wanted.is_empty()
            && !db.users[idx]
                .roles
                .iter()
                .any(|r| wanted.contains(&r.as_str()))
        {
            return invalid();
        }
    }
    let user_id = db.users[idx].id.clone();
    let ws_id = str_field(&body, "workspace")
        .filter(|ws| {
            db.workspaces
                .iter()
                .any(|w| w.id == *ws && w.members.iter().any(|m| m.user == user_id))
        })
        .map(str::to_owned)
        .or_else(|| Store::first_membership(&db, &user_id));
    let claim = ws_id
        .as_deref()
        .and_then(|ws| Store::workspace_claim(&db, &user_id, ws, true));
    let plain_ws = ws_id
        .as_deref()
        .and_then(|ws| Store::workspace_claim(&db, &user_id, ws, false));
    let mut payload = json!({"user": signin_user(&db.users[idx], false)});
    if let Some(ws) = plain_ws {
        payload["workspace"] = ws;
    }
    let user = &mut db.users[idx];
    if auth_type == "oauth" {
        let access = store.access_jwt(user, claim, store.config.access_ttl, false);
        let refresh = store.refresh_jwt(user, &access, ws_id);
        payload["token"] = json!(access);
        payload["refreshToken"] = json!(refresh);
        return ok(json!({ "payload": payload }));
    }
    let (jwt, _) = store.cookie_jwt(user, claim, Duration::ZERO, store.config.cookie_ttl, true);
    let set = store.session_cookie(&tenant, &jwt, request_host(&headers).as_deref());
    with_cookie(ok(json!({ "payload": payload })), &set)
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.contains(' ')
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.split(['-', ' '])
            .all(|part| !part.is_empty() && part.chars().all(char::is_alphabetic))
}

/// `POST /api/signup` (failures are HTTP 200 with `errors`).
pub(crate) async fn signup(
    State(mock): Mock,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let store = &mock.store;
    let body = json_body(&body).unwrap_or_default();
    let email = str_field(&body, "email")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let first = str_field(&body, "firstName")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let password = str_field(&body, "password")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let mut errors = Map::new();
    if !valid_email(&email) {
        errors.insert("email".into(), json!({"code": "INVALID_EMAIL"}));
    }
    if !valid_name(&first) {
        errors.insert("firstName".into(), json!({"code": "INVALID_NAME"}));
    }
    if password.len() < 8 {
        errors.insert("password".into(), json!({"code": "INVALID_PASSWORD"}));
    }
    if !errors.is_empty() {
        return ok(json!({ "errors": errors }));
    }
    let tenant = tenant(&headers);
    let username = str_field(&body, "username")
        .filter(|u| !u.trim().is_empty())
        .unwrap_or(&email)
        .trim()
        .to_lowercase();
    let last = str_field(&body, "lastName").unwrap_or_default().to_owned();
    let full = str_field(&body, "fullName")
        .or_else(|| str_field(&body, "name"))
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{first} {last}").trim().to_owned());
    let mut db = store.db();
    if db
        .users
        .iter()
        .any(|u| u.tenant == tenant && (u.username == username || u.email == email))
    {
        return ok(json!({"errors": {"": "FORM_SUBMISSION_FAILED"}}));
    }
    let mut user = UserRec {
        id: object_id(),
        tenant: tenant.clone(),
        username,
        email,
        first_name: first,
        last_name: last,
        full_name: full,
        roles: vec!["user".into()],
        password,
        profile_image: None,
        birth_date: str_field(&body, "birthDate").map(str::to_owned),
        tokens: Vec::new(),
    };
    let mut payload = json!({"user": signin_user(&user, true)});
    let response = if str_field(&body, "authType") == Some("oauth") {
        let access = store.access_jwt(&user, None, store.config.access_ttl, false);
        let refresh = store.refresh_jwt(&mut user, &access, None);
        payload["token"] = json!(access);
        payload["refreshToken"] = json!(refresh);
        ok(json!({ "payload": payload }))
    } else {
        let (jwt, _) = store.cookie_jwt(
            &mut user,
            None,
            Duration::ZERO,
            store.config.cookie_ttl,
            true,
        );
        let set = store.session_cookie(&tenant, &jwt, request_host(&headers).as_deref());
        with_cookie(ok(json!({ "payload": payload })), &set)
    };
    db.users.push(user);
    response
}

/// `POST /api/token/refresh`: single-use rotation.
pub(crate) async fn token_refresh(State(mock): Mock, headers: HeaderMap) -> Response {
    let store = &mock.store;
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(' ').nth(1))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
    else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let mut db = store.db();
    if db.revoked.contains(&token) {
        return empty(StatusCode::UNAUTHORIZED);
    }
    let Some(claims) = jwt::verify(&token, &store.config.refresh_secret, now_s()) else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let claim_tenant = claims.get("tenant").and_then(Value::as_str).unwrap_or("0");
    let identifier = claims
        .get("tokenIdentifier")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ws = claims
        .get("workspace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(user) = db
        .users
        .iter_mut()
        .find(|u| u.id == sub && u.tenant == claim_tenant)
    else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let Some(pos) = user.tokens.iter().position(|t| t.identifier == identifier) else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    user.tokens.remove(pos);
    let degraded = ws.map(|id| json!({"_id": id, "name": ""}));
    let access = store.access_jwt(user, degraded, store.config.access_ttl, false);
    let refresh = store.refresh_jwt(user, &access, None);
    ok(
        json!({"payload": {"user": {"email": user.email, "roles": user.roles}, "token": access, "refreshToken": refresh}}),
    )
}

/// `POST /api/cookie/refresh`.
pub(crate) async fn cookie_refresh(State(mock): Mock, headers: HeaderMap) -> Response {
    let store = &mock.store;
    let tenant = tenant(&headers);
    let token = cookie(&headers, &cookie_name(&tenant))
        .or_else(|| cookie(&headers, "token"))
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(' ').nth(1))
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        });
    let Some(token) = token else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let mut db = store.db();
    let Some(claims) = store.verify_access(&token, &db) else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let Some(p) = Store::principal_from_claims(&claims, CredentialKind::Cookie) else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let Some(identifier) = p.identifier.clone() else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let Some(user) = db.users.iter_mut().find(|u| u.id == p.user_id) else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let Some(pos) = user.tokens.iter().position(|t| t.identifier == identifier) else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    user.tokens.remove(pos);
    let (jwt, _) = store.cookie_jwt(
        user,
        p.workspace.clone(),
        Duration::ZERO,
        store.config.cookie_ttl,
        true,
    );
    let payload = json!({
        "user": {"_id": user.id, "username": user.username, "email": user.email, "fullName": user.full_name,
                 "firstName": user.first_name, "lastName": user.last_name, "roles": user.roles},
        "workspace": p.workspace.clone().unwrap_or(Value::Null),
        "cookieToken": jwt,
    });
    let set = store.session_cookie(
        &user.tenant.clone(),
        &jwt,
        request_host(&headers).as_deref(),
    );
    with_cookie(ok(json!({ "payload": payload })), &set)
}

/// `POST /api/logout`.
pub(crate) async fn logout(State(mock): Mock, headers: HeaderMap) -> Response {
    let store = &mock.store;
    let caller = match verify_user(store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = match caller.require() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let tenant = tenant(&headers);
    let mut db = store.db();
    let session = cookie(&headers, &cookie_name(&tenant)).or_else(|| cookie(&headers, "token"));
    if let Some(user) = db.users.iter_mut().find(|u| u.id == p.user_id) {
        match (&session, &p.identifier) {
            (Some(_), Some(id)) => user.tokens.retain(|t| &t.identifier != id),
            _ => {
                let presented = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(' ').nth(1))
                    .unwrap_or_default()
                    .to_owned();
                user.tokens
                    .retain(|t| t.related.as_deref() != Some(presented.as_str()));
            }
        }
    }
    let response = StatusCode::OK.into_response();
    if session.is_some() {
        return with_cookie(
            response,
            &store.clear_session_cookie(&tenant, request_host(&headers).as_deref()),
        );
    }
    response
}

/// The `/api/me` JSON of a principal.
pub(crate) fn me_json(store: &Store, p: &Principal) -> Value {
    let db = store.db();
    let user = db.users.iter().find(|u| u.id == p.user_id);
    let mut v = Map::new();
    v.insert("_id".into(), json!(p.user_id));
    v.insert("tenant".into(), json!(p.tenant));
    v.insert("username".into(), json!(p.username));
    v.insert("email".into(), json!(p.email));
    let (first, last, full) = match user {
        Some(u) => (
            u.first_name.clone(),
            u.last_name.clone(),
            u.full_name.clone(),
        ),
        None => (
            p.first_name.clone(),
            p.last_name.clone(),
            p.full_name.clone(),
        ),
    };
    v.insert("name".into(), json!(full));
    v.insert("firstName".into(), json!(first));
    v.insert("lastName".into(), json!(last));
    v.insert("fullName".into(), json!(full));
    if let Some(img) = user.and_then(|u| u.profile_image.clone()) {
        v.insert("profileImage".into(), json!(img));
    }
    if p.kind == CredentialKind::ApiToken
        && let Some(b) = user.and_then(|u| u.birth_date.clone())
    {
        v.insert("birthDate".into(), json!(b));
    }
    v.insert("roles".into(), json!(p.roles));
    v.insert("metadata".into(), json!({}));
    if let Some(ws) = &p.workspace {
        v.insert("workspace".into(), ws.clone());
    }
    Value::Object(v)
}

/// `GET /api/me`.
pub(crate) async fn me(State(mock): Mock, headers: HeaderMap) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match caller.require() {
        Ok(p) if p.is_privileged() => {
            match super::impersonation::header(&headers, "x-impersonate-user") {
                Some(user) => caller.finish(impersonated_me(&mock.store, &headers, p, user)),
                None => caller.finish(ok(me_json(&mock.store, p))),
            }
        }
        Ok(p) => caller.finish(ok(me_json(&mock.store, p))),
        Err(r) => r,
    }
}

/// `getImpersonate`: the user `user_id` (and the workspace of `x-impersonate-workspace`), or
/// `403 user not exist` / `403 workspace not exist`.
fn impersonated_me(
    store: &Store,
    headers: &HeaderMap,
    admin: &Principal,
    user_id: &str,
) -> Response {
    use super::impersonation::{Refused, header, target};
    let ws = header(headers, "x-impersonate-workspace");
    match target(store, admin, user_id, ws) {
        Ok(t) => {
            let db = store.db();
            let user = db.users.iter().find(|u| u.id == t.user_id);
            ok(json!({
                "_id": t.user_id,
                "tenant": t.tenant,
                "username": t.username,
                "email": t.email,
                "name": t.full_name,
                "firstName": t.first_name,
                "lastName": t.last_name,
                "fullName": t.full_name,
                "roles": t.roles,
                "profileImage": user.and_then(|u| u.profile_image.clone()),
                "metadata": {},
                "workspace": t.workspace,
            }))
        }
        Err(Refused::User) => message(StatusCode::FORBIDDEN, "user not exist"),
        Err(Refused::Workspace) => message(StatusCode::FORBIDDEN, "workspace not exist"),
    }
}

/// `POST /api/me`.
pub(crate) async fn update_me(
    State(mock): Mock,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let store = &mock.store;
    let caller = match verify_user(store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = match caller.require() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let body = json_body(&body).unwrap_or_default();
    {
        let mut db = store.db();
        let Some(user) = db.users.iter_mut().find(|u| u.id == p.user_id) else {
            return message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "failed to update your user information",
            );
        };
        if let Some(v) = str_field(&body, "firstName") {
            user.first_name = v.to_owned();
        }
        if let Some(v) = str_field(&body, "lastName") {
            user.last_name = v.to_owned();
        }
        if let Some(v) = str_field(&body, "fullName").or_else(|| str_field(&body, "name")) {
            user.full_name = v.to_owned();
        }
        if let Some(v) = str_field(&body, "profileImage") {
            user.profile_image = (!v.is_empty()).then(|| v.to_owned());
        }
        if let Some(v) = str_field(&body, "birthDate") {
            user.birth_date = Some(v.to_owned());
        }
        if let Some(v) = str_field(&body, "password").filter(|v| !v.trim().is_empty()) {
            user.password = v.trim().to_owned();
        }
    }
    let mut v = me_json(store, &p);
    if let Some(u) = str_field(&body, "username") {
        v["username"] = json!(u);
    }
    caller.finish(ok(v))
}

fn token_json(t: &ApiTokenRec, db: &crate::state::Db) -> Value {
    let ws = t
        .workspace
        .as_ref()
        .and_then(|id| db.workspaces.iter().find(|w| &w.id == id));
    json!({"_id": t.id, "nickname": t.nickname, "tokenPrefix": t.prefix, "expiresAt": iso(t.expires_ms),
        "lastUsedAt": t.last_used, "workspace": ws.map(|w| json!({"_id": w.id, "name": w.name})),
        "created": t.created, "usageCount": t.usage_count})
}

fn api_token_gate(
    mock: &MockInner,
    headers: &HeaderMap,
) -> Result<(Principal, super::verify::Caller), Response> {
    let caller = verify_user(&mock.store, headers)?;
    let p = caller.require()?.clone();
    if p.kind == CredentialKind::ApiToken {
        return Err(message(
            StatusCode::FORBIDDEN,
            "API token management is not allowed via token authentication",
        ));
    }
    if !mock.store.config.allow_api_tokens {
        return Err(message(
            StatusCode::FORBIDDEN,
            "You do not have permission to manage API tokens",
        ));
    }
    Ok((p, caller))
}

/// `GET /api/me/api-tokens`.
pub(crate) async fn list_api_tokens(State(mock): Mock, headers: HeaderMap) -> Response {
    let (p, caller) = match api_token_gate(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let db = mock.store.db();
    let mut list: Vec<&ApiTokenRec> = db
        .api_tokens
        .iter()
        .filter(|t| t.user == p.user_id)
        .collect();
    list.reverse();
    let out: Vec<Value> = list.into_iter().map(|t| token_json(t, &db)).collect();
    drop(db);
    caller.finish(ok(json!(out)))
}

/// `POST /api/me/api-tokens`.
pub(crate) async fn create_api_token(
    State(mock): Mock,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (p, caller) = match api_token_gate(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body = json_body(&body).unwrap_or_default();
    let (Some(nickname), Some(expires)) =
        (str_field(&body, "nickname"), str_field(&body, "expiresAt"))
    else {
        return message(
            StatusCode::BAD_REQUEST,
            "nickname and expiresAt are required",
        );
    };
    let Some(expires_ms) = parse_iso(expires).filter(|ms| *ms > now_ms()) else {
        return message(
            StatusCode::BAD_REQUEST,
            "expiresAt must be a valid future date",
        );
    };
    let mut db = mock.store.db();
    if db.api_tokens.iter().filter(|t| t.user == p.user_id).count() >= 10 {
        return message(
            StatusCode::BAD_REQUEST,
            "Maximum 10 active tokens allowed per user",
        );
    }
    let raw = format!(
        "ql_{:016x}{:016x}{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>(),
        rand::random::<u64>(),
        rand::random::<u64>()
    );
    let rec = ApiTokenRec {
        id: object_id(),
        tenant: p.tenant.clone(),
        user: p.user_id.clone(),
        workspace: str_field(&body, "workspace").map(str::to_owned),
        nickname: nickname.to_owned(),
        hash: sha256_hex(&raw),
        prefix: raw.chars().take(8).collect(),
        expires_ms,
        last_used: None,
        usage_count: 0,
        created: iso(now_ms()),
    };
    let api_token = json!({"_id": rec.id, "tenant": rec.tenant, "user": rec.user, "workspace": rec.workspace,
        "nickname": rec.nickname, "token": rec.hash, "tokenPrefix": rec.prefix, "expiresAt": iso(rec.expires_ms),
        "lastUsedAt": null, "usageCount": 0, "created": rec.created, "__v": 0});
    db.api_tokens.push(rec);
    drop(db);
    caller.finish(
        (
            StatusCode::CREATED,
            Json(json!({"token": raw, "apiToken": api_token})),
        )
            .into_response(),
    )
}

/// `DELETE /api/me/api-tokens/{id}`.
pub(crate) async fn delete_api_token(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (p, caller) = match api_token_gate(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut db = mock.store.db();
    let before = db.api_tokens.len();
    db.api_tokens
        .retain(|t| !(t.id == id && t.user == p.user_id));
    let removed = db.api_tokens.len() < before;
    drop(db);
    if removed {
        caller.finish(ok(json!({"message": "Token revoked"})))
    } else {
        message(StatusCode::NOT_FOUND, "Token not found")
    }
}

const PROVIDERS: [&str; 4] = ["linkedin", "facebook", "google", "github"];

fn capitalized(p: &str) -> String {
    let mut c = p.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// `GET /api/auth/{provider}`: redirects to the (simulated) provider, which is the mock's own
/// callback with a fake code.
pub(crate) async fn social_start(
    State(mock): Mock,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if !PROVIDERS.contains(&provider.as_str()) {
        return message(
            StatusCode::BAD_REQUEST,
            &format!("{} social login does not exist", capitalized(&provider)),
        );
    }
    let state = if q.contains_key("returnUrl") || q.contains_key("redirectUrl") {
        let now = now_s();
        let claims = json!({"s": q.get("state"), "ru": q.get("returnUrl"), "rd": q.get("redirectUrl"), "iat": now, "exp": now + 600});
        jwt::sign(&claims, &mock.store.config.refresh_secret)
    } else {
        q.get("state").cloned().unwrap_or_default()
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let enc = |s: &str| crate::util::encode_if_needed(s);
    Redirect::to(&format!(
        "http://{host}/api/auth/{provider}/callback?code=mock-code&state={}",
        enc(&state)
    ))
    .into_response()
}

fn safe_return(ru: &str, headers: &HeaderMap) -> bool {
    if ru.starts_with('/') {
        return !ru.starts_with("//");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ru.strip_prefix("http://")
        .or_else(|| ru.strip_prefix("https://"))
        .and_then(|rest| rest.split('/').next())
        .is_some_and(|h| h == host)
}

/// `GET /api/auth/{provider}/callback`: the simulated provider signs in the seeded admin.
pub(crate) async fn social_callback(
    State(mock): Mock,
    headers: HeaderMap,
    Path(_provider): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let store = &mock.store;
    if q.get("code").is_none_or(String::is_empty) {
        return message(StatusCode::BAD_REQUEST, "Invalid authorization code");
    }
    let state = q.get("state").cloned().unwrap_or_default();
    let claims = jwt::verify(&state, &store.config.refresh_secret, now_s());
    let ru = claims
        .as_ref()
        .and_then(|c| c.get("ru"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let s = claims
        .as_ref()
        .and_then(|c| c.get("s"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut db = store.db();
    let admin_id = mock.seed.admin.id.clone();
    let ws = Store::first_membership(&db, &admin_id);
    let claim = ws
        .as_deref()
        .and_then(|w| Store::workspace_claim(&db, &admin_id, w, true));
    let Some(user) = db.users.iter_mut().find(|u| u.id == admin_id) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    };
    match ru.filter(|r| safe_return(r, &headers)) {
        Some(ru) => {
            let access = store.access_jwt(user, claim, store.config.access_ttl, false);
            let refresh = store.refresh_jwt(user, &access, ws);
            let sep = if ru.contains('?') { '&' } else { '?' };
            let mut to = format!("{ru}{sep}rt={}", crate::util::encode_if_needed(&refresh));
            if let Some(s) = s {
                to.push_str(&format!("&state={}", crate::util::encode_if_needed(&s)));
            }
            Redirect::to(&to).into_response()
        }
        None => {
            let (jwt, _) =
                store.cookie_jwt(user, claim, Duration::ZERO, store.config.cookie_ttl, false);
            let tenant = user.tenant.clone();
            let set = store.session_cookie(&tenant, &jwt, request_host(&headers).as_deref());
            with_cookie(Redirect::to("/").into_response(), &set)
        }
    }
}

/// `POST /api/auth/callback?rt=`.
pub(crate) async fn auth_callback(
    State(mock): Mock,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let store = &mock.store;
    let Some(rt) = q.get("rt").filter(|v| !v.is_empty()) else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    let mut db = store.db();
    let claims = (!db.revoked.contains(rt.as_str()))
        .then(|| jwt::verify(rt, &store.config.refresh_secret, now_s()))
        .flatten();
    let Some(claims) = claims else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "Invalid refresh token"})),
        )
            .into_response();
    };
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let identifier = claims
        .get("tokenIdentifier")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ws = claims
        .get("workspace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(user) = db.users.iter_mut().find(|u| u.id == sub) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors": {"general": "User not found"}})),
        )
            .into_response();
    };
    let Some(pos) = user.tokens.iter().position(|t| t.identifier == identifier) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors": {"general": "Refresh token not valid"}})),
        )
            .into_response();
    };
    user.tokens.remove(pos);
    let claim = ws.as_ref().map(|id| json!({"_id": id, "name": ""}));
    let (jwt, _) = store.cookie_jwt(
        user,
        claim,
        Duration::ZERO,
        Duration::from_secs(5 * 3600),
        true,
    );
    let payload = json!({
        "user": {"_id": user.id, "username": user.username, "email": user.email, "firstName": user.first_name,
                 "lastName": user.last_name, "fullName": user.full_name, "roles": user.roles},
        "workspace": ws.map(|id| json!({"_id": id})),
    });
    let set = store.session_cookie(&tenant(&headers), &jwt, request_host(&headers).as_deref());
    with_cookie(ok(json!({ "payload": payload })), &set)
}
