//! Auth service, admin part: `/api/users`, `/api/roles`, `/api/workspaces/all` and the
//! encrypted data of users and workspaces.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{Guard, Mock, Query, check, object_body};
use crate::state::{Db, UserRec};
use crate::util::{iso, message, now_ms, object_id, ok};

pub(super) fn routes(
    r: Router<std::sync::Arc<crate::MockInner>>,
) -> Router<std::sync::Arc<crate::MockInner>> {
    r.route("/api/users", get(list).post(create))
        .route("/api/users/{id}", get(one).put(update).delete(remove))
        .route(
            "/api/users/{id}/encrypted",
            get(get_encrypted_user).post(set_encrypted_user),
        )
        .route("/api/roles", get(roles))
        .route("/api/workspaces/all", get(all_workspaces))
        .route(
            "/api/workspaces/{id}/encrypted",
            get(get_encrypted_ws).post(set_encrypted_ws),
        )
}

fn user_json(mock: &crate::MockInner, u: &UserRec) -> Value {
    let mut v = json!({
        "_id": u.id, "tenant": u.tenant, "username": u.username, "email": u.email,
        "firstName": u.first_name, "lastName": u.last_name, "fullName": u.full_name,
        "roles": u.roles,
    });
    if let Some(meta) = mock.admin.find("internalMetadata", &u.tenant, "_id", &u.id) {
        v["internalMetadata"] = meta["value"].clone();
    }
    if let Some(img) = &u.profile_image {
        v["profileImage"] = json!(img);
    }
    if let Some(b) = &u.birth_date {
        v["birthDate"] = json!(b);
    }
    v
}

/// `GET /api/users?username=&exact=&roles=a,b`.
async fn list(axum::extract::State(mock): Mock, headers: HeaderMap, q: Query) -> Response {
    let who = match check(&mock, &headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let exact = q.get("exact").is_some_and(|v| v == "true");
    let roles: Vec<&str> = q
        .get("roles")
        .map(|r| r.split(',').filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let db = mock.store.db();
    let out: Vec<Value> = db
        .users
        .iter()
        .filter(|u| u.tenant == who.tenant())
        .filter(|u| match q.get("username") {
            Some(name) if exact => &u.username == name,
            Some(name) => u.username.to_lowercase().contains(&name.to_lowercase()),
            None => true,
        })
        .filter(|u| roles.is_empty() || u.roles.iter().any(|r| roles.contains(&r.as_str())))
        .map(|u| user_json(&mock, u))
        .collect();
    drop(db);
    who.finish(ok(Value::from(out)))
}

fn find_user<'a>(db: &'a Db, tenant: &str, id: &str) -> Option<&'a UserRec> {
    db.users.iter().find(|u| u.id == id && u.tenant == tenant)
}

/// `GET /api/users/{id}`.
async fn one(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = match check(&mock, &headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let db = mock.store.db();
    let found = find_user(&db, who.tenant(), &id).map(|u| user_json(&mock, u));
    drop(db);
    match found {
        Some(v) => who.finish(ok(v)),
        None => who.finish(message(StatusCode::NOT_FOUND, "user not exists")),
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array().map(|a| {
        a.iter()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect()
    })
}

fn apply(mock: &crate::MockInner, u: &mut UserRec, body: &Map<String, Value>) {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(v) = s("username") {
        u.username = v;
    }
    if let Some(v) = s("email") {
        u.email = v;
    }
    if let Some(v) = s("password") {
        u.password = v;
    }
    if let Some(v) = s("firstName") {
        u.first_name = v;
    }
    if let Some(v) = s("lastName") {
        u.last_name = v;
    }
    if let Some(v) = s("profileImage") {
        u.profile_image = Some(v);
    }
    if let Some(v) = s("birthDate") {
        u.birth_date = Some(v);
    }
    if let Some(r) = strings(body.get("roles")) {
        u.roles = r;
    }
    u.full_name = format!("{} {}", u.first_name, u.last_name)
        .trim()
        .to_owned();
    if let Some(meta) = body.get("internalMetadata") {
        mock.admin
            .remove("internalMetadata", &u.tenant, "_id", &u.id);
        mock.admin.insert(
            "internalMetadata",
            json!({"_id": u.id, "tenant": u.tenant, "value": meta}),
        );
    }
}

/// `POST /api/users`: `400 user creation failed` without a username and password or when
/// the username is taken.
async fn create(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let who = match check(&mock, &headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let refused = || message(StatusCode::BAD_REQUEST, "user creation failed");
    let Ok(body) = object_body(&body, "user creation failed") else {
        return who.finish(refused());
    };
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let password = body
        .get("password")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return who.finish(refused());
    }
    let mut db = mock.store.db();
    if db
        .users
        .iter()
        .any(|u| u.tenant == who.tenant() && u.username == username)
    {
        return who.finish(refused());
    }
    let mut user = UserRec {
        id: object_id(),
        tenant: who.tenant().to_owned(),
        username: username.to_owned(),
        email: username.to_owned(),
        first_name: String::new(),
        last_name: String::new(),
        full_name: String::new(),
        roles: vec!["user".into()],
        password: String::new(),
        profile_image: None,
        birth_date: None,
        tokens: Vec::new(),
    };
    apply(&mock, &mut user, &body);
    let mut v = user_json(&mock, &user);
    v["created"] = json!(iso(now_ms()));
    db.users.push(user);
    drop(db);
    who.finish(ok(v))
}

/// `PUT /api/users/{id}`: `500 user update failed` for an unknown user (as Qelos).
async fn update(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let who = match check(&mock, &headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let failed = || message(StatusCode::INTERNAL_SERVER_ERROR, "user update failed");
    let Ok(body) = object_body(&body, "user update failed") else {
        return who.finish(failed());
    };
    let mut db = mock.store.db();
    let tenant = who.tenant().to_owned();
    let Some(user) = db
        .users
        .iter_mut()
        .find(|u| u.id == id && u.tenant == tenant)
    else {
        return who.finish(failed());
    };
    apply(&mock, user, &body);
    let v = user_json(&mock, user);
    drop(db);
    who.finish(ok(v))
}

/// `DELETE /api/users/{id}`: `{_id, tenant}`; `400 user deletion failed` when unknown.
async fn remove(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = match check(&mock, &headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut db = mock.store.db();
    let before = db.users.len();
    let tenant = who.tenant().to_owned();
    db.users.retain(|u| !(u.id == id && u.tenant == tenant));
    let removed = db.users.len() != before;
    if removed {
        for ws in &mut db.workspaces {
            ws.members.retain(|m| m.user != id);
        }
    }
    drop(db);
    if removed {
        who.finish(ok(json!({"_id": id, "tenant": tenant})))
    } else {
        who.finish(message(StatusCode::BAD_REQUEST, "user deletion failed"))
    }
}

/// `GET /api/roles`: the distinct roles of the tenant's users, sorted.
async fn roles(axum::extract::State(mock): Mock, headers: HeaderMap) -> Response {
    let who = match check(&mock, &headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let db = mock.store.db();
    let mut roles: Vec<String> = db
        .users
        .iter()
        .filter(|u| u.tenant == who.tenant())
        .flat_map(|u| u.roles.iter().cloned())
        .collect();
    drop(db);
    roles.sort();
    roles.dedup();
    who.finish(ok(json!(roles)))
}

/// `GET /api/workspaces/all?name=&labels=a,b&members.user=&_id=a,b&q=`.
async fn all_workspaces(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    q: Query,
) -> Response {
    let who = match check(&mock, &headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let list = |k: &str| -> Vec<String> {
        q.get(k)
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (labels, ids) = (list("labels"), list("_id"));
    let db = mock.store.db();
    let out: Vec<Value> = db
        .workspaces
        .iter()
        .filter(|w| w.tenant == who.tenant())
        .filter(|w| q.get("name").is_none_or(|n| &w.name == n))
        .filter(|w| {
            q.get("q")
                .is_none_or(|s| w.name.to_lowercase().contains(&s.to_lowercase()))
        })
        .filter(|w| labels.is_empty() || w.labels.iter().any(|l| labels.contains(l)))
        .filter(|w| ids.is_empty() || ids.contains(&w.id))
        .filter(|w| {
            q.get("members.user")
                .is_none_or(|u| w.members.iter().any(|m| &m.user == u))
        })
        .map(|w| {
            let members: Vec<Value> = w
                .members
                .iter()
                .map(|m| json!({"_id": m.id, "user": m.user, "roles": m.roles, "created": m.created}))
                .collect();
            let mut v = json!({"_id": w.id, "tenant": w.tenant, "name": w.name, "labels": w.labels,
                "members": members, "created": w.created});
            if let Some(logo) = &w.logo {
                v["logo"] = json!(logo);
            }
            v
        })
        .collect();
    drop(db);
    who.finish(ok(Value::from(out)))
}

fn encrypted_key(kind: &str, id: &str, headers: &HeaderMap) -> String {
    let enc = headers
        .get("x-encrypted-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    format!("{kind}:{id}:{enc}")
}

fn get_encrypted(mock: &crate::MockInner, headers: &HeaderMap, kind: &str, id: &str) -> Response {
    let who = match check(mock, headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let key = encrypted_key(kind, id, headers);
    let value = mock
        .admin
        .find("encrypted", who.tenant(), "_id", &key)
        .map_or(Value::Null, |d| d["value"].clone());
    who.finish(ok(value))
}

fn set_encrypted(
    mock: &crate::MockInner,
    headers: &HeaderMap,
    kind: &str,
    id: &str,
    body: &[u8],
) -> Response {
    let who = match check(mock, headers, Guard::AuthPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        let msg = format!("failed to set encrypted data for {kind}");
        return who.finish(message(StatusCode::BAD_REQUEST, &msg));
    };
    let key = encrypted_key(kind, id, headers);
    mock.admin.remove("encrypted", who.tenant(), "_id", &key);
    mock.admin.insert(
        "encrypted",
        json!({"_id": key, "tenant": who.tenant(), "value": value}),
    );
    who.finish(ok(json!({})))
}

/// `GET /api/users/{id}/encrypted` (`x-encrypted-id`): the stored JSON, or `null`.
async fn get_encrypted_user(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    get_encrypted(&mock, &headers, "user", &id)
}
/// `POST /api/users/{id}/encrypted`: `{}`.
async fn set_encrypted_user(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    set_encrypted(&mock, &headers, "user", &id, &body)
}
/// `GET /api/workspaces/{id}/encrypted`.
async fn get_encrypted_ws(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    get_encrypted(&mock, &headers, "workspace", &id)
}
/// `POST /api/workspaces/{id}/encrypted`.
async fn set_encrypted_ws(
    axum::extract::State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    set_encrypted(&mock, &headers, "workspace", &id, &body)
}
