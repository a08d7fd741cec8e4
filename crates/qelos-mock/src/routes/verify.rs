//! `verifyUser`: credential precedence, cookie rotation, and the 401 bodies.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::state::{CredentialKind, Principal, Store, cookie_name, identifier_created_ms};
use crate::util::{cookie, message, now_ms, request_host, tenant};

/// The caller, and a rotated session cookie to add to whatever the route answers.
pub(crate) struct Caller {
    pub(crate) principal: Option<Principal>,
    pub(crate) set_cookie: Option<String>,
}

impl Caller {
    /// Adds the rotation cookie (if any) to a response.
    pub(crate) fn finish(&self, mut response: Response) -> Response {
        if let Some(c) = &self.set_cookie
            && let Ok(v) = HeaderValue::from_str(c)
        {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
        response
    }

    /// The principal, or the "must be logged in" 401.
    pub(crate) fn require(&self) -> Result<&Principal, Response> {
        self.principal.as_ref().ok_or_else(|| {
            self.finish(message(
                StatusCode::UNAUTHORIZED,
                "you are not authorized. must be logged in.",
            ))
        })
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    // "the second space-separated word"; the scheme is not checked.
    Some(v.split(' ').nth(1).unwrap_or_default().to_owned())
}

/// Resolves the caller, as the services behind the gateway see it: for a request the gateway
/// marked for impersonation by a privileged caller, the impersonated user (or anonymous when
/// that fails; see [`super::impersonation`]). `Err` is a finished 401 response (bad bearer,
/// bad API key).
pub(crate) fn verify_user(store: &Store, headers: &HeaderMap) -> Result<Caller, Response> {
    let mut caller = verify_credentials(store, headers)?;
    if let Some(swapped) =
        super::impersonation::gateway_swap(store, headers, caller.principal.as_ref())
    {
        caller.principal = swapped;
    }
    Ok(caller)
}

/// Resolves the credentials of the request.
fn verify_credentials(store: &Store, headers: &HeaderMap) -> Result<Caller, Response> {
    let tenant = tenant(headers);
    let anonymous = Caller {
        principal: None,
        set_cookie: None,
    };

    if let Some(key) = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
    {
        let mut db = store.db();
        return match store.api_token_principal(&mut db, key, &tenant) {
            Some(p) => Ok(Caller {
                principal: Some(p),
                set_cookie: None,
            }),
            None => Err(message(
                StatusCode::UNAUTHORIZED,
                "Invalid or expired API token",
            )),
        };
    }

    let session = cookie(headers, &cookie_name(&tenant)).or_else(|| cookie(headers, "token"));
    if let Some(token) = session {
        return Ok(verify_cookie(store, headers, &token).unwrap_or(anonymous));
    }

    if let Some(token) = bearer(headers) {
        if token.is_empty() {
            return Ok(anonymous);
        }
        let db = store.db();
        let claims = store.verify_access(&token, &db);
        return match claims.and_then(|c| Store::principal_from_claims(&c, CredentialKind::Bearer)) {
            Some(p) => Ok(Caller {
                principal: Some(p),
                set_cookie: None,
            }),
            None => Err(message(
                StatusCode::UNAUTHORIZED,
                "authorization token is not valid.",
            )),
        };
    }
    Ok(anonymous)
}

/// Cookie auth with auto-rotation (§3.6). `None` = anonymous.
fn verify_cookie(store: &Store, headers: &HeaderMap, token: &str) -> Option<Caller> {
    let mut db = store.db();
    let claims = store.verify_access(token, &db)?;
    let principal = Store::principal_from_claims(&claims, CredentialKind::Cookie)?;
    let identifier = principal.identifier.clone()?;
    let age = now_ms().saturating_sub(identifier_created_ms(&identifier).unwrap_or(0));
    if age < store.config.cookie_rotation_age.as_millis() as u64 {
        return Some(Caller {
            principal: Some(principal),
            set_cookie: None,
        });
    }
    let now = now_ms();
    db.rotation_locks.retain(|_, until| *until > now);
    if db.rotation_locks.contains_key(&identifier) {
        return Some(Caller {
            principal: Some(principal),
            set_cookie: None,
        });
    }
    db.rotation_locks.insert(identifier.clone(), now + 30_000);
    let user = db.users.iter_mut().find(|u| u.id == principal.user_id)?;
    let Some(pos) = user.tokens.iter().position(|t| t.identifier == identifier) else {
        // Already rotated or logged out: accepted anyway (as Qelos does).
        return Some(Caller {
            principal: Some(principal),
            set_cookie: None,
        });
    };
    user.tokens.remove(pos);
    let (jwt, _) = store.cookie_jwt(
        user,
        principal.workspace.clone(),
        std::time::Duration::ZERO,
        store.config.cookie_ttl,
        true,
    );
    let tenant = user.tenant.clone();
    drop(db);
    let claims = store.verify_access(&jwt, &store.db())?;
    let fresh = Store::principal_from_claims(&claims, CredentialKind::Cookie)?;
    let set_cookie = store.session_cookie(&tenant, &jwt, request_host(headers).as_deref());
    tracing::debug!("session cookie rotated");
    Some(Caller {
        principal: Some(fresh),
        set_cookie: Some(set_cookie),
    })
}
