//! Reading the caller's credentials from request headers (contract step 2).

use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderMap, HeaderValue};

use crate::request::RequestView;
use qelos_sdk::Secret;

use crate::cookies;
use crate::jwt::MAX_TOKEN_LEN;

/// The credentials a request carries, as the integrator reads them.
///
/// `Debug` never prints a token.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct RequestCredentials {
    /// Access token: `Authorization: Bearer …`, else the access cookie.
    pub access: Option<Secret>,
    /// Refresh token from the refresh cookie.
    pub refresh: Option<Secret>,
    /// The Qelos session cookies (`qlt_…`, `token`) as one `Cookie` header value to forward.
    pub session_cookie: Option<Secret>,
    /// `true` when the request carried something token-shaped that is certainly not a valid token
    /// (longer than [`MAX_TOKEN_LEN`]). Such a request is anonymous without an upstream call.
    pub garbage: bool,
}

impl std::fmt::Debug for RequestCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestCredentials")
            .field("access", &self.access.as_ref().map(|_| "***"))
            .field("refresh", &self.refresh.as_ref().map(|_| "***"))
            .field(
                "session_cookie",
                &self.session_cookie.as_ref().map(|_| "***"),
            )
            .field("garbage", &self.garbage)
            .finish()
    }
}

impl RequestCredentials {
    /// `true` when there is nothing to authenticate with.
    pub(crate) fn is_empty(&self) -> bool {
        self.access.is_none() && self.refresh.is_none() && self.session_cookie.is_none()
    }
}

/// Reads the credentials of a request.
///
/// * access token: `Authorization: Bearer <t>` (scheme case-insensitive), else cookie `access_cookie`;
/// * refresh token: cookie `refresh_cookie`;
/// * session cookies: `qlt_…` / `token`, forwarded as they are.
///
/// Cookie values are percent-decoded; values that do not decode, headers that are not visible
/// ASCII, and `Bearer` without a token count as absent.
pub(crate) fn read<R: RequestView + ?Sized>(
    request: &R,
    access_cookie: &str,
    refresh_cookie: &str,
) -> RequestCredentials {
    if let Some(headers) = request.header_map() {
        return read_map(headers, access_cookie, refresh_cookie);
    }
    let mut creds = RequestCredentials::default();
    let mut garbage = false;

    let mut keep = |value: &str| keep_token(value, &mut garbage);

    // The first `Authorization` value, copied once (into the secret) while it is lent.
    let (mut first, mut bearer) = (true, None);
    request.header_values(&AUTHORIZATION, &mut |value| {
        if std::mem::take(&mut first) {
            bearer = bearer_token_bytes(value).map(&mut keep);
        }
    });
    let has_cookie = request.has_header(&COOKIE);
    if bearer.is_none() && !has_cookie {
        // Most anonymous requests: nothing more to look at.
        return creds;
    }
    // The `Cookie` values are read where the framework's map lends them: no copy of the
    // headers, only of the cookies found.
    let cookie = |name: &str| -> Option<String> {
        let mut found: Option<Option<String>> = None;
        request.header_values(&COOKIE, &mut |value| {
            if found.is_none() {
                found = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| cookies::first(v, name));
            }
        });
        found.flatten()
    };
    let mut session = String::new();
    if has_cookie {
        request.header_values(&COOKIE, &mut |value| {
            let found = std::str::from_utf8(value)
                .ok()
                .map(|v| cookies::session_cookie_header([v]));
            if let Some(Some(found)) = found {
                session.push_str(if session.is_empty() { "" } else { "; " });
                session.push_str(&found);
            }
        });
    }
    // The access cookie only matters without a bearer token; cookies only when there are any.
    let cookie = |name: &str| has_cookie.then(|| cookie(name)).flatten();
    creds.access = match bearer {
        Some(token) => token,
        None => cookie(access_cookie).and_then(|v| keep(&v)),
    };
    creds.refresh = cookie(refresh_cookie).and_then(|v| keep(&v));
    creds.session_cookie = (!session.is_empty())
        .then_some(session)
        .and_then(|v| keep(&v));
    creds.garbage = garbage;
    creds
}

pub(crate) fn read_map(
    headers: &HeaderMap,
    access_cookie: &str,
    refresh_cookie: &str,
) -> RequestCredentials {
    let mut creds = RequestCredentials::default();
    let mut garbage = false;

    let mut keep = |value: &str| keep_token(value, &mut garbage);

    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| bearer_token_bytes(v.as_bytes()));
    if bearer.is_none() && !headers.contains_key(COOKIE) {
        // Most anonymous requests: nothing more to look at.
        return creds;
    }
    let cookie_headers = || {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
    };

    creds.access = match bearer {
        Some(token) => keep(token),
        None => cookies::find(cookie_headers(), access_cookie).and_then(|v| keep(&v)),
    };
    creds.refresh = cookies::find(cookie_headers(), refresh_cookie).and_then(|v| keep(&v));
    creds.session_cookie = cookies::session_cookie_header(cookie_headers()).and_then(|v| keep(&v));
    creds.garbage = garbage;
    creds
}

/// A token worth keeping, copied into a secret; longer than any token Qelos issues: dropped,
/// and the request marked as carrying garbage.
fn keep_token(value: &str, garbage: &mut bool) -> Option<Secret> {
    if value.len() > MAX_TOKEN_LEN {
        *garbage = true;
        None
    } else {
        Some(Secret::from(value))
    }
}

/// The token of an `Authorization: Bearer <token>` value, or `None` for other schemes and for
/// `Bearer` without a token.
#[cfg(test)]
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    bearer_token_bytes(value.as_bytes())
}

/// [`bearer_token`] on a raw header value: one pass over the token, which is refused unless it
/// is visible ASCII (no whitespace, no control characters, nothing above 0x7e).
fn bearer_token_bytes(value: &[u8]) -> Option<&str> {
    let value = value.trim_ascii();
    let split = value.iter().position(u8::is_ascii_whitespace)?;
    let (scheme, rest) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    // Without an early exit the check compiles to a few vector instructions per 16 bytes;
    // tokens are hundreds of bytes and this runs on every request that carries one.
    let visible = token
        .iter()
        .fold(true, |ok, &b| ok & (b.wrapping_sub(0x21) < 0x5e));
    if token.is_empty() || !visible {
        return None;
    }
    std::str::from_utf8(token).ok()
}

/// The cookie domain of the request (its `Host`, port stripped), see [`cookies::cookie_domain`].
pub(crate) fn inbound_cookie_domain(host: Option<&HeaderValue>) -> Option<String> {
    host.and_then(|v| v.to_str().ok())
        .and_then(cookies::cookie_domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    #[test]
    fn a_foreign_view_reads_the_same_credentials_as_its_header_map() {
        let pairs: [(&str, &str); 4] = [
            ("cookie", "theme=dark; q_access_token=a.b.c"),
            ("cookie", "q_refresh_token=r%2B1; qlt_acme=s1; token=s2"),
            ("authorization", "Basic eA=="),
            ("host", "app.example.com:8080"),
        ];
        let view = crate::request::ForeignView {
            method: "GET",
            path: "/",
            get: |name: &str, each: crate::request::Each<'_>| {
                for (_, v) in pairs.iter().filter(|(n, _)| *n == name) {
                    each(v.as_bytes());
                }
            },
            all: || crate::request::header_map(pairs),
        };
        let visited = read(&view, "q_access_token", "q_refresh_token");
        let mapped = read_map(
            &crate::request::header_map(pairs),
            "q_access_token",
            "q_refresh_token",
        );
        assert_eq!(visited.access.as_ref().map(|s| s.expose()), Some("a.b.c"));
        assert_eq!(visited.refresh.as_ref().map(|s| s.expose()), Some("r+1"));
        assert_eq!(
            visited.session_cookie.as_ref().map(|s| s.expose()),
            Some("qlt_acme=s1; token=s2")
        );
        assert_eq!(format!("{visited:?}"), format!("{mapped:?}"));
        for (a, b) in [
            (&visited.access, &mapped.access),
            (&visited.refresh, &mapped.refresh),
            (&visited.session_cookie, &mapped.session_cookie),
        ] {
            assert_eq!(
                a.as_ref().map(|s| s.expose()),
                b.as_ref().map(|s| s.expose())
            );
        }
        assert_eq!(
            view.host().as_ref().map(|h| h.as_bytes()),
            Some(&b"app.example.com:8080"[..])
        );
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn bearer_wins_over_the_access_cookie() {
        let h = headers(&[
            ("authorization", b"Bearer from-header"),
            ("cookie", b"q_access_token=from-cookie"),
        ]);
        let c = read_map(&h, "q_access_token", "q_refresh_token");
        assert_eq!(c.access.unwrap().expose(), "from-header");
    }

    #[test]
    fn custom_cookie_names_are_used() {
        let h = headers(&[("cookie", b"at=1; rt=2; q_access_token=3")]);
        let c = read_map(&h, "at", "rt");
        assert_eq!(c.access.unwrap().expose(), "1");
        assert_eq!(c.refresh.unwrap().expose(), "2");
    }

    #[test]
    fn no_credentials_is_empty() {
        let h = headers(&[("cookie", b"theme=dark"), ("authorization", b"Basic eA==")]);
        assert!(read_map(&h, "q_access_token", "q_refresh_token").is_empty());
    }

    #[test]
    fn bearer_without_token_is_anonymous() {
        let h = headers(&[("authorization", b"Bearer ")]);
        assert!(read_map(&h, "a", "r").is_empty());
    }

    #[test]
    fn non_utf8_headers_are_ignored_not_fatal() {
        let h = headers(&[
            ("authorization", b"Bearer \xff\xfe"),
            ("cookie", b"q_access_token=\xe9t\xe9"),
        ]);
        assert!(read_map(&h, "q_access_token", "r").is_empty());
    }

    #[test]
    fn oversized_tokens_are_flagged_as_garbage() {
        let big = format!("Bearer {}", "a".repeat(16 * 1024));
        let h = headers(&[("authorization", big.as_bytes())]);
        let c = read_map(&h, "a", "r");
        assert!(c.access.is_none());
        assert!(c.garbage);
    }

    #[test]
    fn session_cookies_are_collected_without_app_cookies() {
        let h = headers(&[("cookie", b"q_access_token=x; qlt_0=s; theme=dark")]);
        let c = read_map(&h, "q_access_token", "q_refresh_token");
        assert_eq!(c.session_cookie.unwrap().expose(), "qlt_0=s");
    }

    #[test]
    fn debug_hides_tokens() {
        let h = headers(&[(
            "cookie",
            b"q_access_token=supersecret; q_refresh_token=alsosecret",
        )]);
        let dbg = format!("{:?}", read_map(&h, "q_access_token", "q_refresh_token"));
        assert!(!dbg.contains("supersecret"));
        assert!(!dbg.contains("alsosecret"));
    }

    #[test]
    fn inbound_domain_comes_from_host() {
        let h = http::Request::builder()
            .header("host", "app.example.com:8080")
            .body(())
            .unwrap();
        assert_eq!(
            inbound_cookie_domain(h.host().as_ref()).as_deref(),
            Some("app.example.com")
        );
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn read_example() {
        use super::read_map;
        use http::HeaderMap;

        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            "q_access_token=a.b.c; q_refresh_token=r".parse().unwrap(),
        );
        let creds = read_map(&headers, "q_access_token", "q_refresh_token");
        assert_eq!(creds.access.unwrap().expose(), "a.b.c");
        assert_eq!(creds.refresh.unwrap().expose(), "r");
    }

    #[test]
    fn bearer_token_example() {
        use super::bearer_token;
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc  "), Some("abc"));
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Basic Zm9v"), None);
    }
}
