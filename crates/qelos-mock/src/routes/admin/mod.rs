//! The administrator API of the fake (and the user routes next to it): users, roles, every
//! workspace, blueprints, configurations, plugins, lambdas, drafts, events, integration
//! sources, integrations, components and payments.
//!
//! Qelos has no `/api/permissions` route (the Python client's `permissions` calls get the
//! gateway's `404`), so neither has the fake.
//!
//! Documents live in one in-memory store ([`Docs`]), by collection and tenant. Each route checks
//! the caller as the Qelos service behind it does, and refuses with that service's status and
//! body: the auth service `401 {"message":"you are not privileged."}`, the no-code and plugins
//! services an empty `401`, the content service `401 {"message":"you are not authorized"}`, the
//! payments service `401 {"message":"insufficient permissions"}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use super::verify::{Caller, verify_user};
use crate::MockInner;
use crate::state::Principal;
use crate::util::{empty, message};

mod blueprints;
pub(crate) mod checkout;
mod components;
mod configurations;
mod drafts;
mod events;
mod integrations;
mod lambdas;
mod payments;
mod plugins;
mod users;

pub(crate) type Mock = axum::extract::State<Arc<MockInner>>;

/// Every route of this module.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    let mut r = Router::new();
    r = users::routes(r);
    r = blueprints::routes(r);
    r = configurations::routes(r);
    r = plugins::routes(r);
    r = lambdas::routes(r);
    r = drafts::routes(r);
    r = events::routes(r);
    r = integrations::routes(r);
    r = components::routes(r);
    payments::routes(r)
}

/// The JSON documents of the admin API: collection → documents (each with `_id` and `tenant`).
#[derive(Default)]
pub(crate) struct Docs {
    docs: Mutex<HashMap<&'static str, Vec<Value>>>,
}

impl Docs {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<&'static str, Vec<Value>>) -> T) -> T {
        f(&mut self.docs.lock().unwrap_or_else(PoisonError::into_inner))
    }
    /// The documents of `coll` in `tenant`, in insertion order.
    pub(crate) fn list(&self, coll: &'static str, tenant: &str) -> Vec<Value> {
        self.with(|d| {
            d.get(coll)
                .map(|v| {
                    v.iter()
                        .filter(|x| x["tenant"] == tenant)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    }
    /// The document of `coll` in `tenant` whose `field` is `key`.
    pub(crate) fn find(
        &self,
        coll: &'static str,
        tenant: &str,
        field: &str,
        key: &str,
    ) -> Option<Value> {
        self.with(|d| {
            d.get(coll)?
                .iter()
                .find(|x| x["tenant"] == tenant && x[field] == key)
                .cloned()
        })
    }
    /// The document of `coll` in any tenant whose `field` is `key`.
    pub(crate) fn find_any(&self, coll: &'static str, field: &str, key: &str) -> Option<Value> {
        self.with(|d| d.get(coll)?.iter().find(|x| x[field] == key).cloned())
    }
    pub(crate) fn insert(&self, coll: &'static str, doc: Value) {
        self.with(|d| d.entry(coll).or_default().push(doc));
    }
    /// Merges `changes` (top level) into the document; returns it updated.
    pub(crate) fn update(
        &self,
        coll: &'static str,
        tenant: &str,
        field: &str,
        key: &str,
        changes: &Map<String, Value>,
    ) -> Option<Value> {
        self.with(|d| {
            let doc = d
                .get_mut(coll)?
                .iter_mut()
                .find(|x| x["tenant"] == tenant && x[field] == key)?;
            if let Some(obj) = doc.as_object_mut() {
                for (k, v) in changes {
                    if k != "_id" && k != "tenant" {
                        obj.insert(k.clone(), v.clone());
                    }
                }
                obj.insert(
                    "updated".into(),
                    Value::from(crate::util::iso(crate::util::now_ms())),
                );
            }
            Some(doc.clone())
        })
    }
    /// Removes the document; returns it.
    pub(crate) fn remove(
        &self,
        coll: &'static str,
        tenant: &str,
        field: &str,
        key: &str,
    ) -> Option<Value> {
        self.with(|d| {
            let v = d.get_mut(coll)?;
            let pos = v
                .iter()
                .position(|x| x["tenant"] == tenant && x[field] == key)?;
            Some(v.remove(pos))
        })
    }
}

/// How a Qelos service refuses a caller it does not let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Any signed-in caller; an empty 401 when anonymous (no-code, plugins, drafts services).
    SignedIn,
    /// Auth service `onlyPrivileged`.
    AuthPrivileged,
    /// No-code / plugins service `onlyEditPrivileged`: empty 401.
    EditPrivileged,
    /// Plugins service `onlyEditPrivilegedOrPlugin`: roles `admin` or `plugin`, empty 401.
    EditOrPlugin,
    /// Content service `onlyAdmin`.
    ContentAdmin,
    /// Payments service `onlyAuthenticated`.
    PaymentsAuthenticated,
    /// Payments service `onlyPrivileged`.
    PaymentsPrivileged,
}

/// The checked caller.
pub(crate) struct Who {
    pub(crate) p: Principal,
    /// An admin (also while impersonating someone else).
    pub(crate) privileged: bool,
    pub(crate) caller: Caller,
}

impl Who {
    pub(crate) fn finish(&self, r: Response) -> Response {
        self.caller.finish(r)
    }
    pub(crate) fn tenant(&self) -> &str {
        &self.p.tenant
    }
}

fn anonymous_refusal(guard: Guard) -> Response {
    match guard {
        Guard::AuthPrivileged => message(
            StatusCode::UNAUTHORIZED,
            "you are not authorized. must be logged in.",
        ),
        Guard::SignedIn | Guard::EditPrivileged | Guard::EditOrPlugin => {
            empty(StatusCode::UNAUTHORIZED)
        }
        Guard::ContentAdmin => message(StatusCode::UNAUTHORIZED, "you are not authorized"),
        Guard::PaymentsAuthenticated | Guard::PaymentsPrivileged => {
            message(StatusCode::UNAUTHORIZED, "authentication required")
        }
    }
}

fn privilege_refusal(guard: Guard) -> Option<Response> {
    Some(match guard {
        Guard::SignedIn | Guard::PaymentsAuthenticated => return None,
        Guard::AuthPrivileged => message(StatusCode::UNAUTHORIZED, "you are not privileged."),
        Guard::EditPrivileged | Guard::EditOrPlugin => empty(StatusCode::UNAUTHORIZED),
        Guard::ContentAdmin => message(StatusCode::UNAUTHORIZED, "you are not authorized"),
        Guard::PaymentsPrivileged => message(StatusCode::UNAUTHORIZED, "insufficient permissions"),
    })
}

/// Resolves the caller (with `x-impersonate-user` / `x-impersonate-workspace` for admins: on
/// auth-service routes as its `handleImpersonation` does, elsewhere as the gateway resolved it)
/// and applies `guard`.
pub(crate) fn check(mock: &MockInner, headers: &HeaderMap, guard: Guard) -> Result<Who, Response> {
    let caller = verify_user(&mock.store, headers)?;
    let Some(p) = caller.principal.clone() else {
        return Err(caller.finish(anonymous_refusal(guard)));
    };
    let privileged = p.is_privileged();
    let p = if privileged {
        match super::impersonation::auth_swap(&mock.store, headers, &p) {
            Ok(Some(other)) => other,
            Ok(None) => p,
            Err(r) => return Err(caller.finish(r)),
        }
    } else {
        p
    };
    let allowed = match guard {
        Guard::SignedIn | Guard::PaymentsAuthenticated => true,
        Guard::EditOrPlugin => privileged || p.roles.iter().any(|r| r == "plugin"),
        _ => privileged,
    };
    if !allowed && let Some(r) = privilege_refusal(guard) {
        return Err(caller.finish(r));
    }
    Ok(Who {
        p,
        privileged,
        caller,
    })
}

/// A JSON object body, or `Err(400 message)`.
pub(crate) fn object_body(body: &[u8], msg: &str) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(message(StatusCode::BAD_REQUEST, msg)),
    }
}

/// A new document: `body` + `_id`, `tenant`, `created`, `updated`.
pub(crate) fn new_doc(mut body: Map<String, Value>, tenant: &str) -> Value {
    let now = Value::from(crate::util::iso(crate::util::now_ms()));
    body.insert("_id".into(), Value::from(crate::util::object_id()));
    body.insert("tenant".into(), Value::from(tenant));
    body.insert("created".into(), now.clone());
    body.insert("updated".into(), now);
    Value::Object(body)
}

/// Query pairs of a request URI (decoded).
pub(crate) type Query = axum::extract::Query<HashMap<String, String>>;

/// Checks (and may amend) a new document; `Err` is the `400` message.
pub(crate) type Validate = fn(&mut Map<String, Value>) -> Result<(), &'static str>;

/// A plain document collection: where it lives, who may read and write it, its refusals.
pub(crate) struct Spec {
    pub(crate) coll: &'static str,
    /// The field the path parameter matches (`_id`, `key`, `identifier`).
    pub(crate) key: &'static str,
    /// Who may list.
    pub(crate) read: Guard,
    /// Who may read one document.
    pub(crate) read_one: Guard,
    /// Who may create, update, remove.
    pub(crate) write: Guard,
    /// The answer for an unknown document.
    pub(crate) not_found: fn() -> Response,
    /// The answer for a body that is not a JSON object.
    pub(crate) bad_body: &'static str,
    /// Checks (and may amend) a new document; `Err` is the `400` message.
    pub(crate) validate: Option<Validate>,
}

/// Whether `doc` matches every query pair (dotted paths walk into objects; `bypassAdmin` is
/// ignored; a scalar matches its text form).
fn matches_query(doc: &Value, query: &HashMap<String, String>) -> bool {
    query
        .iter()
        .filter(|(k, _)| k.as_str() != "bypassAdmin")
        .all(|(k, want)| {
            let mut v = doc;
            for part in k.split('.') {
                v = &v[part];
            }
            match v {
                Value::String(s) => s == want,
                Value::Null => false,
                Value::Array(items) => items.iter().any(|i| i.as_str() == Some(want)),
                Value::Bool(b) => want.parse::<bool>().ok() == Some(*b),
                Value::Number(n) => n
                    .as_f64()
                    .is_some_and(|x| want.parse::<f64>().ok() == Some(x)),
                Value::Object(_) => false,
            }
        })
}

/// `GET <coll>?field=value`: the tenant's documents that match the query.
pub(crate) fn crud_list(
    mock: &MockInner,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    spec: &Spec,
) -> Response {
    match check(mock, headers, spec.read) {
        Ok(who) => {
            let list: Vec<Value> = mock
                .admin
                .list(spec.coll, who.tenant())
                .into_iter()
                .filter(|d| matches_query(d, query))
                .collect();
            who.finish(crate::util::ok(Value::from(list)))
        }
        Err(r) => r,
    }
}

/// `GET <coll>/{key}`.
pub(crate) fn crud_get(mock: &MockInner, headers: &HeaderMap, key: &str, spec: &Spec) -> Response {
    match check(mock, headers, spec.read_one) {
        Ok(who) => match mock.admin.find(spec.coll, who.tenant(), spec.key, key) {
            Some(doc) => who.finish(crate::util::ok(doc)),
            None => who.finish((spec.not_found)()),
        },
        Err(r) => r,
    }
}

/// `POST <coll>`: `validate` may refuse or amend the body; answers the new document.
pub(crate) fn crud_create(
    mock: &MockInner,
    headers: &HeaderMap,
    body: &[u8],
    spec: &Spec,
    validate: impl FnOnce(&Who, &mut Map<String, Value>) -> Result<(), Response>,
) -> Response {
    let who = match check(mock, headers, spec.write) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut body = match object_body(body, spec.bad_body) {
        Ok(b) => b,
        Err(r) => return who.finish(r),
    };
    if let Err(r) = validate(&who, &mut body) {
        return who.finish(r);
    }
    let doc = new_doc(body, who.tenant());
    mock.admin.insert(spec.coll, doc.clone());
    who.finish(crate::util::ok(doc))
}

/// `PUT <coll>/{key}`: merges the body; answers the document.
pub(crate) fn crud_update(
    mock: &MockInner,
    headers: &HeaderMap,
    key: &str,
    body: &[u8],
    spec: &Spec,
) -> Response {
    let who = match check(mock, headers, spec.write) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body = match object_body(body, spec.bad_body) {
        Ok(b) => b,
        Err(r) => return who.finish(r),
    };
    match mock
        .admin
        .update(spec.coll, who.tenant(), spec.key, key, &body)
    {
        Some(doc) => who.finish(crate::util::ok(doc)),
        None => who.finish((spec.not_found)()),
    }
}

/// `DELETE <coll>/{key}`: answers the removed document.
pub(crate) fn crud_remove(
    mock: &MockInner,
    headers: &HeaderMap,
    key: &str,
    spec: &Spec,
) -> Response {
    let who = match check(mock, headers, spec.write) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match mock.admin.remove(spec.coll, who.tenant(), spec.key, key) {
        Some(doc) => who.finish(crate::util::ok(doc)),
        None => who.finish((spec.not_found)()),
    }
}

/// Registers list/create on `base` and get/update/remove on `base/{key}` for `spec`.
pub(crate) fn crud_routes(
    r: Router<Arc<MockInner>>,
    base: &str,
    spec: &'static Spec,
) -> Router<Arc<MockInner>> {
    use axum::body::Bytes;
    use axum::extract::{Path, State};
    use axum::routing::get;
    r
        .route(
            base,
            get(move |State(m): Mock, h: HeaderMap, q: Query| async move {
                crud_list(&m, &h, &q, spec)
            })
            .post(move |State(m): Mock, h: HeaderMap, b: Bytes| async move {
                crud_create(&m, &h, &b, spec, |_, body| match spec.validate {
                    Some(f) => f(body).map_err(|msg| message(StatusCode::BAD_REQUEST, msg)),
                    None => Ok(()),
                })
            }),
        )
        .route(
            &format!("{base}/{{key}}"),
            get(
                move |State(m): Mock, h: HeaderMap, Path(k): Path<String>| async move {
                    crud_get(&m, &h, &k, spec)
                },
            )
            .put(
                move |State(m): Mock, h: HeaderMap, Path(k): Path<String>, b: Bytes| async move {
                    crud_update(&m, &h, &k, &b, spec)
                },
            )
            .delete(
                move |State(m): Mock, h: HeaderMap, Path(k): Path<String>| async move {
                    crud_remove(&m, &h, &k, spec)
                },
            ),
        )
}
