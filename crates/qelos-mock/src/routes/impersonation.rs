//! Impersonation (`x-impersonate-user` / `x-impersonate-workspace`), where Qelos honours it.
//!
//! - **Every service behind the gateway** (no-code entities, blueprints and charts, AI, content,
//!   lambdas, drafts, plugins, payments, the plugin proxy): the gateway resolves the caller with
//!   `GET /api/me` carrying the headers (or the query `impersonateUser` /
//!   `impersonateWorkspace`), so for a privileged caller the service sees the impersonated user,
//!   with that user's own roles and the named workspace (none without the header). An unknown
//!   user or a workspace they are not a member of makes the caller anonymous, as `/api/me`
//!   refuses and the gateway then forwards no user. [`gateway_layer`] marks these requests;
//!   [`super::verify::verify_user`] swaps the principal.
//! - **Auth service** `handleImpersonation` routes (`/api/workspaces*`, `/api/users*`,
//!   `/api/roles`, `/api/invites`): the payload is swapped for the user while the request stays
//!   privileged; an unknown user is `404 Impersonated user not found` ([`auth_swap`]).
//! - **`GET /api/me`**: the impersonated user, `403 user not exist` / `403 workspace not exist`.
//!
//! Non-privileged callers' impersonation headers are ignored everywhere.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::{CredentialKind, Principal, Store};
use crate::util::message;

/// The mark [`gateway_layer`] leaves for [`super::verify::verify_user`]: `<user>[ <workspace>]`.
/// A client's own value is removed first.
pub(crate) const MARK: &str = "x-qelos-mock-gateway-impersonate";

/// Path prefixes the gateway sends to the auth service (which reads the headers itself).
const AUTH_PREFIXES: [&str; 11] = [
    "/api/signin",
    "/api/signup",
    "/api/token",
    "/api/cookie",
    "/api/me",
    "/api/users",
    "/api/logout",
    "/api/invites",
    "/api/workspaces",
    "/api/auth",
    "/api/roles",
];

fn is_auth_path(path: &str) -> bool {
    AUTH_PREFIXES.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| crate::util::decode_component(&v.replace('+', " ")))
        .filter(|v| !v.is_empty())
}

/// Marks `/api` requests to services behind the gateway that ask for impersonation.
pub(crate) async fn gateway_layer(mut req: Request, next: Next) -> Response {
    req.headers_mut().remove(MARK);
    let path = req.uri().path();
    if path.starts_with("/api/") && !is_auth_path(path) {
        let query = req.uri().query().unwrap_or_default();
        let pick = |h: &str, q: &str| {
            header(req.headers(), h)
                .map(str::to_owned)
                .or_else(|| query_value(query, q))
        };
        if let Some(user) = pick("x-impersonate-user", "impersonateUser") {
            let mark = match pick("x-impersonate-workspace", "impersonateWorkspace") {
                Some(ws) => format!("{user} {ws}"),
                None => user,
            };
            if let Ok(v) = HeaderValue::from_str(&mark) {
                req.headers_mut().insert(MARK, v);
            }
        }
    }
    next.run(req).await
}

/// Why the impersonation did not resolve.
pub(crate) enum Refused {
    /// No such user in the admin's tenant.
    User,
    /// The user is not a member of the named workspace.
    Workspace,
}

/// The principal of user `user_id` in the admin's tenant, in `workspace` when given.
pub(crate) fn target(
    store: &Store,
    admin: &Principal,
    user_id: &str,
    workspace: Option<&str>,
) -> Result<Principal, Refused> {
    let db = store.db();
    let user = db
        .users
        .iter()
        .find(|u| u.id == user_id && u.tenant == admin.tenant)
        .ok_or(Refused::User)?;
    let workspace = match workspace {
        Some(ws) => {
            let member = db
                .workspaces
                .iter()
                .any(|w| w.id == ws && w.members.iter().any(|m| m.user == user.id));
            if !member {
                return Err(Refused::Workspace);
            }
            Store::workspace_claim(&db, &user.id, ws, false)
        }
        None => None,
    };
    Ok(Principal {
        user_id: user.id.clone(),
        tenant: user.tenant.clone(),
        username: user.username.clone(),
        email: user.email.clone(),
        roles: user.roles.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        full_name: user.full_name.clone(),
        workspace,
        kind: CredentialKind::Bearer,
        identifier: None,
    })
}

/// The gateway's resolution: `Some(Some(user))` impersonated, `Some(None)` anonymous (the
/// impersonation failed), `None` no impersonation asked (or the caller is not privileged).
pub(crate) fn gateway_swap(
    store: &Store,
    headers: &HeaderMap,
    principal: Option<&Principal>,
) -> Option<Option<Principal>> {
    let mark = header(headers, MARK)?;
    let admin = principal.filter(|p| p.is_privileged())?;
    let (user, ws) = match mark.split_once(' ') {
        Some((u, w)) => (u, Some(w)),
        None => (mark, None),
    };
    Some(target(store, admin, user, ws).ok())
}

/// `handleImpersonation` of the auth service: the impersonated principal for a privileged
/// caller with `x-impersonate-user` (workspace only when the user is a member of it), the
/// caller's own otherwise, `Err(404 Impersonated user not found)` for an unknown user.
pub(crate) fn auth_swap(
    store: &Store,
    headers: &HeaderMap,
    p: &Principal,
) -> Result<Option<Principal>, Response> {
    if !p.is_privileged() {
        return Ok(None);
    }
    let Some(user) = header(headers, "x-impersonate-user") else {
        return Ok(None);
    };
    let ws = header(headers, "x-impersonate-workspace");
    match target(store, p, user, ws) {
        Ok(t) => Ok(Some(t)),
        Err(Refused::Workspace) => target(store, p, user, None)
            .map(Some)
            .map_err(|_| message(StatusCode::NOT_FOUND, "Impersonated user not found")),
        Err(Refused::User) => Err(message(
            StatusCode::NOT_FOUND,
            "Impersonated user not found",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_paths_are_matched_by_whole_segments() {
        assert!(is_auth_path("/api/workspaces"));
        assert!(is_auth_path("/api/workspaces/1/members"));
        assert!(is_auth_path("/api/me"));
        assert!(!is_auth_path("/api/meetings"));
        assert!(!is_auth_path("/api/blueprints/products/entities"));
    }

    #[test]
    fn query_impersonation_is_decoded() {
        assert_eq!(
            query_value("a=1&impersonateUser=abc%20d", "impersonateUser").as_deref(),
            Some("abc d")
        );
        assert_eq!(query_value("impersonateUser=", "impersonateUser"), None);
    }
}
