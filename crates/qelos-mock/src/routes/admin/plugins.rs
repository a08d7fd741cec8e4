//! Plugins service, `managePlugins`: `/api/plugins` CRUD. A plugin created here with a
//! `proxyUrl` and a static `token` (or a `registerUrl`) is registered with the mock's plugin
//! gateway under the same `_id`, so `/api/on/{apiPath}/*` and `/api/plugins/{id}/callback`
//! serve it at once. The fake does not fetch `manifestUrl`. Answers never carry `token` or
//! `auth`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{Guard, Mock, check, object_body};
use crate::MockInner;
use crate::routes::plugins::PluginSpec;
use crate::routes::verify::verify_user;
use crate::util::{iso, message, now_ms, ok};

const COLL: &str = "plugins";
const LIMITED: [&str; 9] = [
    "_id",
    "name",
    "description",
    "apiPath",
    "callbackUrl",
    "microFrontends",
    "injectables",
    "navBarGroups",
    "cruds",
];

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    // `GET /api/plugins/{id}/callback` stays in the gateway module.
    r.route("/api/plugins", get(list).post(create))
        .route("/api/plugins/{id}", get(one).put(update).delete(remove))
}

fn public(mut doc: Value) -> Value {
    if let Some(m) = doc.as_object_mut() {
        m.remove("token");
        m.remove("auth");
    }
    doc
}

/// `GET /api/plugins`: every caller (anonymous too); non-admins get the limited fields.
async fn list(State(mock): Mock, headers: HeaderMap) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tenant = caller
        .principal
        .as_ref()
        .map_or_else(|| crate::util::tenant(&headers), |p| p.tenant.clone());
    let full = caller
        .principal
        .as_ref()
        .is_some_and(|p| p.roles.iter().any(|r| r == "admin" || r == "plugin"));
    let out: Vec<Value> = mock
        .admin
        .list(COLL, &tenant)
        .into_iter()
        .map(|p| {
            if full {
                public(p)
            } else {
                Value::Object(
                    p.as_object()
                        .map(|m| {
                            m.iter()
                                .filter(|(k, _)| LIMITED.contains(&k.as_str()))
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect()
                        })
                        .unwrap_or_default(),
                )
            }
        })
        .collect();
    caller.finish(ok(Value::from(out)))
}

/// `GET manifestUrl` (a JSON object), or `None`.
async fn load_manifest(mock: &MockInner, url: &str) -> Option<Map<String, Value>> {
    let r = mock.http.get(url).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    match r.json::<Value>().await.ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// A URL of the manifest, absolute (a relative one is resolved against its `appUrl`).
fn absolute(manifest: &Map<String, Value>, key: &str) -> Option<String> {
    let v = manifest.get(key)?.as_str().filter(|v| !v.is_empty())?;
    if v.starts_with("http") {
        return Some(v.to_owned());
    }
    let base = manifest.get("appUrl")?.as_str()?.trim_end_matches('/');
    Some(if v.starts_with('/') {
        format!("{base}{v}")
    } else {
        format!("{base}/{v}")
    })
}

/// Qelos's `enrichPluginWithManifest`: name, description, micro-frontends, injectables, navbar
/// groups and `authAcquire` from the manifest; with `hard_reset` also `apiPath` (unless given),
/// `proxyUrl`, `callbackUrl`, `registerUrl`, `subscribedEvents`, `cruds`. The fake registers
/// at `registerUrl` on the first proxied call rather than at once.
fn enrich(body: &mut Map<String, Value>, manifest: &Map<String, Value>, hard_reset: bool) {
    for k in ["name", "description"] {
        if let Some(v) = manifest
            .get(k)
            .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        {
            body.insert(k.into(), v.clone());
        }
    }
    for k in [
        "microFrontends",
        "injectables",
        "navBarGroups",
        "authAcquire",
    ] {
        if let Some(v) = manifest.get(k) {
            body.insert(k.into(), v.clone());
        }
    }
    if !hard_reset {
        return;
    }
    if body
        .get("apiPath")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && let Some(v) = manifest.get("apiPath")
    {
        body.insert("apiPath".into(), v.clone());
    }
    for k in ["proxyUrl", "callbackUrl", "registerUrl"] {
        body.insert(k.into(), json!(absolute(manifest, k).unwrap_or_default()));
    }
    for k in ["subscribedEvents", "cruds"] {
        if let Some(v) = manifest.get(k) {
            body.insert(k.into(), v.clone());
        }
    }
}

/// The gateway spec of a plugin document, when it has what the gateway needs.
fn gateway_spec(doc: &Map<String, Value>, token: Option<&str>, tenant: &str) -> Option<PluginSpec> {
    let mut manifest = Value::Object(doc.clone());
    if let Some(t) = token {
        manifest["token"] = json!(t);
    }
    manifest["tenant"] = json!(tenant);
    if let Some(m) = manifest.as_object_mut() {
        m.retain(|_, v| v.as_str() != Some(""));
    }
    let spec = PluginSpec::from_manifest(&manifest).ok()?;
    (spec.token.is_some() || spec.register_url.is_some()).then_some(spec)
}

/// `POST /api/plugins` (admins): the stored plugin; `403 api path already taken by another
/// plugin. choose another path.`; `500 could not create plugin` without a name.
async fn create(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Ok(mut body) = object_body(&body, "could not create plugin") else {
        return who.finish(message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not create plugin",
        ));
    };
    let token = body
        .remove("token")
        .and_then(|t| t.as_str().map(str::to_owned));
    // `hardReset` defaults to true on create: the manifest's URLs replace the body's.
    let hard_reset = body.remove("hardReset") != Some(Value::Bool(false));
    for k in ["tenant", "auth", "_id"] {
        body.remove(k);
    }
    if let Some(url) = body
        .get("manifestUrl")
        .and_then(Value::as_str)
        .map(str::to_owned)
    {
        let Some(manifest) = load_manifest(&mock, &url).await else {
            return who.finish(message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "could not create plugin",
            ));
        };
        enrich(&mut body, &manifest, hard_reset);
    }
    // Qelos keeps a static token only for plugins without a manifest.
    let token = token.filter(|_| !body.contains_key("manifestUrl"));
    let Some(name) = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return who.finish(message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not create plugin",
        ));
    };
    let api_path = body
        .get("apiPath")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(name)
        .replace(['/', '\\'], ":");
    body.insert("apiPath".into(), json!(api_path));
    if mock
        .admin
        .find(COLL, who.tenant(), "apiPath", &api_path)
        .is_some()
    {
        return who.finish(message(
            StatusCode::FORBIDDEN,
            "api path already taken by another plugin. choose another path.",
        ));
    }
    let id = match gateway_spec(&body, token.as_deref(), who.tenant()) {
        Some(spec) => match crate::routes::plugins::add(&mock, spec) {
            Ok(id) => id,
            Err(_) => {
                return who.finish(message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not create plugin",
                ));
            }
        },
        None => crate::util::object_id(),
    };
    for k in [
        "microFrontends",
        "injectables",
        "navBarGroups",
        "cruds",
        "subscribedEvents",
    ] {
        body.entry(k).or_insert(json!([]));
    }
    let now = iso(now_ms());
    body.insert("_id".into(), json!(id));
    body.insert("tenant".into(), json!(who.tenant()));
    body.insert("created".into(), json!(now));
    body.insert("updated".into(), json!(now));
    if let Some(t) = token {
        body.insert("token".into(), json!(t));
    }
    let doc = Value::Object(body);
    mock.admin.insert(COLL, doc.clone());
    who.finish(ok(public(doc)))
}

/// `GET /api/plugins/{id}` (admins and plugins): the plugin, or `null`.
async fn one(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match check(&mock, &headers, Guard::EditOrPlugin) {
        Ok(who) => {
            let doc = mock
                .admin
                .find(COLL, who.tenant(), "_id", &id)
                .map_or(Value::Null, public);
            who.finish(ok(doc))
        }
        Err(r) => r,
    }
}

/// `PUT /api/plugins/{id}` (admins): `500 could not update plugin` when unknown.
async fn update(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let failed = || message(StatusCode::INTERNAL_SERVER_ERROR, "could not update plugin");
    let Ok(mut body) = object_body(&body, "could not update plugin") else {
        return who.finish(failed());
    };
    for k in ["tenant", "auth", "clearToken", "hardReset", "__v"] {
        body.remove(k);
    }
    if body
        .get("token")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        body.remove("token");
    }
    match mock.admin.update(COLL, who.tenant(), "_id", &id, &body) {
        Some(doc) => who.finish(ok(public(doc))),
        None => who.finish(failed()),
    }
}

/// `DELETE /api/plugins/{id}` (admins): the removed plugin; `404 could not find plugin`.
async fn remove(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match mock.admin.remove(COLL, who.tenant(), "_id", &id) {
        Some(doc) => {
            mock.plugins.remove(&id);
            who.finish(ok(public(doc)))
        }
        None => who.finish(message(StatusCode::NOT_FOUND, "could not find plugin")),
    }
}
