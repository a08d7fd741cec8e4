//! Cookie reading and writing: the integrator cookies, the Qelos session cookie, and `Domain` rewriting.
//!
//! Everything here is a pure function over strings so adapters never parse cookies themselves.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Characters `encodeURIComponent` leaves alone; everything else is percent-encoded when a
/// token is written into a cookie value (the official integrators' encoding).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Splits a `Cookie` header value into `(name, raw value)` pairs, skipping empty and nameless items.
///
/// Quoted values are unquoted. Values are **not** percent-decoded (see [`decode_value`]).
pub(crate) fn pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    header.split(';').filter_map(|item| {
        let (name, value) = item.split_once('=')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Some((name, value))
    })
}

/// Percent-decodes a cookie value. `None` when the result is not UTF-8 (for example a truncated
/// `%E0%A4` sequence): a value that cannot be decoded is treated as absent, never as an error page.
pub(crate) fn decode_value(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|cow| cow.into_owned())
}

/// The first cookie called `name` in one `Cookie` header value: `None` when there is none,
/// `Some(None)` when it is there but empty or not decodable (counted as absent, like [`find`]).
pub(crate) fn first(header: &str, name: &str) -> Option<Option<String>> {
    pairs(header)
        .find(|(n, _)| *n == name)
        .map(|(_, v)| decode_value(v).filter(|v| !v.is_empty()))
}

/// Finds the first cookie called `name` in any of the given `Cookie` header values and returns it
/// percent-decoded. Empty values count as absent. For reading an application cookie (a chosen
/// workspace, say) in a workspace resolver.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::cookies::find;
/// let headers = ["theme=dark; q_workspace=w%201", "q_workspace=ignored"];
/// assert_eq!(find(headers, "q_workspace").as_deref(), Some("w 1"));
/// assert_eq!(find(["a="], "a"), None);
/// ```
pub fn find<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<String> {
    headers
        .into_iter()
        .flat_map(pairs)
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| decode_value(v))
        .filter(|v| !v.is_empty())
}

/// `true` for the names of Qelos's own session cookie: `qlt_<tenant prefix>` or the legacy `token`.
pub(crate) fn is_session_cookie_name(name: &str) -> bool {
    name == "token" || (name.starts_with("qlt_") && name.len() > 4)
}

/// Collects the Qelos session cookies (`qlt_…`, `token`) of the request into one `Cookie` header
/// value to forward upstream, leaving the application's other cookies out. `None` when there are none.
pub(crate) fn session_cookie_header<'a>(
    headers: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut out = String::new();
    for (name, value) in headers.into_iter().flat_map(pairs) {
        if is_session_cookie_name(name) && !value.is_empty() {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Builds the `Set-Cookie` value for an integrator token cookie:
/// `name=<encoded>; Path=/; HttpOnly; SameSite=Lax` plus `; Secure` when `secure`.
pub(crate) fn token_cookie(name: &str, value: &str, secure: bool) -> String {
    let mut out = format!(
        "{name}={}; Path=/; HttpOnly; SameSite=Lax",
        utf8_percent_encode(value, COMPONENT)
    );
    if secure {
        out.push_str("; Secure");
    }
    out
}

/// The `SameSite` attribute of a cookie written with [`SetCookie`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Strict`: never sent on cross-site requests.
    Strict,
    /// `SameSite=Lax`: sent on top-level cross-site navigations (the token cookies' setting).
    Lax,
    /// `SameSite=None`: sent everywhere; browsers require `Secure` with it.
    None,
}

impl SameSite {
    fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        }
    }
}

/// Why a [`SetCookie`] could not be written. The cookie's value is never part of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CookieError {
    /// The name is empty or has characters a cookie name cannot have.
    #[error("invalid cookie name {0:?}: use letters, digits and !#$%&'*+-.^_`|~")]
    InvalidName(String),
    /// The `Path` has a `;` or a character that is not visible ASCII.
    #[error("invalid Path for cookie {0:?}")]
    InvalidPath(String),
    /// The `Domain` is not a host name.
    #[error("invalid Domain for cookie {0:?}")]
    InvalidDomain(String),
}

/// A cookie to write with the response, with its attributes: what an `on_token_refresh` hook
/// (or any code holding the [`ResponseCookies`](crate::ResponseCookies)) queues with
/// [`ResponseCookies::set`](crate::ResponseCookies::set).
///
/// Only the attributes asked for are written, except `Secure`, which follows the integrator's
/// token cookies (on unless the Qelos URL is `http://`) unless [`secure`](Self::secure) says
/// otherwise. The value is percent-encoded like `encodeURIComponent` (what Express's
/// `res.cookie` does), so any text is safe. Setters never fail; an invalid name, path or
/// domain is reported by [`ResponseCookies::set`](crate::ResponseCookies::set). `Debug`
/// redacts the value.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use qelos_integrator_core::cookies::{SameSite, SetCookie};
///
/// let cookie = SetCookie::new("q_refreshed", "1")
///     .path("/")
///     .domain("app.example.com")
///     .max_age(Duration::from_secs(3600))
///     .http_only(true)
///     .same_site(SameSite::Strict)
///     .secure(true);
/// assert_eq!(
///     cookie.to_header(false)?,
///     "q_refreshed=1; Path=/; Domain=app.example.com; Max-Age=3600; HttpOnly; SameSite=Strict; Secure"
/// );
/// // Without `secure(..)`, `Secure` follows the integrator (here: an `http://` Qelos).
/// assert_eq!(SetCookie::new("a", "b c").to_header(false)?, "a=b%20c");
/// # Ok::<(), qelos_integrator_core::cookies::CookieError>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct SetCookie {
    name: String,
    value: String,
    path: Option<String>,
    domain: Option<String>,
    max_age: Option<std::time::Duration>,
    http_only: bool,
    same_site: Option<SameSite>,
    secure: Option<bool>,
}

impl std::fmt::Debug for SetCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetCookie")
            .field("name", &self.name)
            .field("value", &"***")
            .field("path", &self.path)
            .field("domain", &self.domain)
            .field("max_age", &self.max_age)
            .field("http_only", &self.http_only)
            .field("same_site", &self.same_site)
            .field("secure", &self.secure)
            .finish()
    }
}

impl SetCookie {
    /// A cookie `name=value` with no attributes (`Secure` following the integrator).
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            path: None,
            domain: None,
            max_age: None,
            http_only: false,
            same_site: None,
            secure: None,
        }
    }

    /// `Path=<path>`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// `Domain=<domain>` (without it the cookie is host-only).
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// `Max-Age=<seconds>` (whole seconds; zero deletes the cookie).
    pub fn max_age(mut self, max_age: std::time::Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// `HttpOnly` when `on`: scripts in the page cannot read the cookie.
    pub fn http_only(mut self, on: bool) -> Self {
        self.http_only = on;
        self
    }

    /// `SameSite=<same_site>`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// `Secure` when `on`, whatever the integrator's scheme.
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = Some(on);
        self
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `Set-Cookie` header value; `secure_default` is what `Secure` is when
    /// [`secure`](Self::secure) was not called.
    ///
    /// # Errors
    ///
    /// [`CookieError`] for a name, path or domain a `Set-Cookie` cannot carry.
    pub fn to_header(&self, secure_default: bool) -> Result<String, CookieError> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok {
            return Err(CookieError::InvalidName(self.name.clone()));
        }
        let mut out = format!(
            "{}={}",
            self.name,
            utf8_percent_encode(&self.value, COMPONENT)
        );
        if let Some(path) = &self.path {
            if path.is_empty() || !path.bytes().all(|b| b.is_ascii_graphic() && b != b';') {
                return Err(CookieError::InvalidPath(self.name.clone()));
            }
            out.push_str("; Path=");
            out.push_str(path);
        }
        if let Some(domain) = &self.domain {
            let host = domain.strip_prefix('.').unwrap_or(domain);
            let valid = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !valid {
                return Err(CookieError::InvalidDomain(self.name.clone()));
            }
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if let Some(max_age) = self.max_age {
            out.push_str(&format!("; Max-Age={}", max_age.as_secs()));
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if let Some(same_site) = self.same_site {
            out.push_str("; SameSite=");
            out.push_str(same_site.as_str());
        }
        if self.secure.unwrap_or(secure_default) {
            out.push_str("; Secure");
        }
        Ok(out)
    }
}

/// Builds a `Set-Cookie` value that makes the browser drop the cookie `name` (`Max-Age=0`).
pub(crate) fn expired_cookie(name: &str, secure: bool) -> String {
    let mut out = format!(
        "{name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
    );
    if secure {
        out.push_str("; Secure");
    }
    out
}

/// Reduces an inbound `Host` (or `X-Forwarded-Host`) value to a cookie domain: the first
/// comma-separated value, port stripped, IPv6 brackets removed, lower-cased.
///
/// Returns `None` for empty values or values with characters that do not belong in a host
/// (so a hostile header can never inject cookie attributes).
pub(crate) fn cookie_domain(host: &str) -> Option<String> {
    let host = host.split(',').next()?.trim();
    let bare = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port or [v6]
        rest.split_once(']')?.0
    } else if host.matches(':').count() > 1 {
        // unbracketed IPv6 literal, no port possible
        host
    } else {
        host.split_once(':').map_or(host, |(h, _)| h)
    };
    let valid = !bare.is_empty()
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    valid.then(|| bare.to_ascii_lowercase())
}

/// Rewrites the `Domain` attribute of a `Set-Cookie` value to `domain`, or removes it when
/// `domain` is `None`. Every other attribute is kept as it was, in order. A cookie without a
/// `Domain` attribute is returned unchanged (it is already host-only).
pub(crate) fn rewrite_domain(set_cookie: &str, domain: Option<&str>) -> String {
    let mut out = String::with_capacity(set_cookie.len() + 16);
    for (i, part) in set_cookie.split(';').enumerate() {
        let is_domain = i > 0
            && part
                .trim_start()
                .split('=')
                .next()
                .is_some_and(|k| k.trim().eq_ignore_ascii_case("domain"));
        if is_domain {
            if let Some(d) = domain {
                out.push_str("; Domain=");
                out.push_str(d);
            }
            continue;
        }
        if i > 0 {
            out.push(';');
        }
        out.push_str(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_decodes_percent_encoding() {
        assert_eq!(find(["t=a%2Fb%3D"], "t").as_deref(), Some("a/b="));
    }

    #[test]
    fn find_treats_bad_percent_encoding_as_absent() {
        assert_eq!(find(["t=%E0%A4%A"], "t"), None);
        assert_eq!(find(["t=%FF"], "t"), None);
    }

    #[test]
    fn find_searches_every_cookie_header_and_takes_the_first_match() {
        assert_eq!(find(["a=1", "t=2; t=3"], "t").as_deref(), Some("2"));
    }

    #[test]
    fn find_ignores_names_that_only_share_a_prefix() {
        assert_eq!(find(["q_access_token_old=1"], "q_access_token"), None);
    }

    #[test]
    fn pairs_tolerates_garbage() {
        let got: Vec<_> = pairs(";;; =;==;a==b; c=d=e").collect();
        assert_eq!(got, vec![("a", "=b"), ("c", "d=e")]);
    }

    #[test]
    fn session_cookie_names() {
        assert!(is_session_cookie_name("qlt_0"));
        assert!(is_session_cookie_name("qlt_6523ab12"));
        assert!(is_session_cookie_name("token"));
        assert!(!is_session_cookie_name("qlt_"));
        assert!(!is_session_cookie_name("tokens"));
        assert!(!is_session_cookie_name("q_access_token"));
    }

    #[test]
    fn token_cookie_is_insecure_only_when_asked() {
        assert_eq!(
            token_cookie("q_access_token", "x.y", false),
            "q_access_token=x.y; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn token_cookie_encodes_like_encode_uri_component() {
        assert_eq!(
            token_cookie("n", "a;b,c=d/é", false),
            "n=a%3Bb%2Cc%3Dd%2F%C3%A9; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn set_cookie_writes_only_the_attributes_asked_for_in_a_fixed_order() {
        let c = SetCookie::new("q_refreshed", "1").path("/").http_only(true);
        assert_eq!(
            c.to_header(false).expect("valid"),
            "q_refreshed=1; Path=/; HttpOnly"
        );
        assert_eq!(
            c.to_header(true).expect("valid"),
            "q_refreshed=1; Path=/; HttpOnly; Secure"
        );
        let c = c.secure(false).same_site(SameSite::None);
        assert_eq!(
            c.to_header(true).expect("valid"),
            "q_refreshed=1; Path=/; HttpOnly; SameSite=None"
        );
    }

    #[test]
    fn set_cookie_encodes_the_value_so_it_cannot_add_attributes() {
        let c = SetCookie::new("n", "x; Domain=evil.com").to_header(false);
        assert_eq!(c.expect("valid"), "n=x%3B%20Domain%3Devil.com");
    }

    #[test]
    fn set_cookie_refuses_names_paths_and_domains_that_would_break_the_header() {
        assert_eq!(
            SetCookie::new("a b", "1").to_header(false),
            Err(CookieError::InvalidName("a b".into()))
        );
        assert_eq!(
            SetCookie::new("", "1").to_header(false),
            Err(CookieError::InvalidName(String::new()))
        );
        assert_eq!(
            SetCookie::new("a", "1").path("/; Secure").to_header(false),
            Err(CookieError::InvalidPath("a".into()))
        );
        assert_eq!(
            SetCookie::new("a", "1")
                .domain("evil.com; Path=/")
                .to_header(false),
            Err(CookieError::InvalidDomain("a".into()))
        );
        assert!(
            SetCookie::new("a", "1")
                .domain(".example.com")
                .to_header(false)
                .is_ok()
        );
    }

    #[test]
    fn set_cookie_debug_never_shows_the_value() {
        let dbg = format!("{:?}", SetCookie::new("session", "top-secret-value"));
        assert!(!dbg.contains("top-secret"), "{dbg}");
        assert!(dbg.contains("session"), "{dbg}");
    }

    #[test]
    fn expired_cookie_has_max_age_zero_and_the_same_path() {
        let c = expired_cookie("q_access_token", true);
        assert!(c.contains("Max-Age=0"));
        assert!(c.contains("Path=/"));
        assert!(c.ends_with("; Secure"));
    }

    #[test]
    fn cookie_domain_strips_ports_and_brackets() {
        assert_eq!(cookie_domain("example.com").as_deref(), Some("example.com"));
        assert_eq!(
            cookie_domain("example.com:80").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            cookie_domain("127.0.0.1:3000").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            cookie_domain("[2001:db8::1]:443").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(
            cookie_domain("[2001:db8::1]").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(cookie_domain("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(cookie_domain("a.com, b.com").as_deref(), Some("a.com"));
    }

    #[test]
    fn cookie_domain_refuses_hostile_values() {
        assert_eq!(cookie_domain(""), None);
        assert_eq!(cookie_domain("  "), None);
        assert_eq!(cookie_domain("a b"), None);
        assert_eq!(cookie_domain("a;b"), None);
        assert_eq!(cookie_domain("[::1"), None);
        assert_eq!(cookie_domain("a\r\nSet-Cookie: x"), None);
    }

    #[test]
    fn rewrite_domain_is_case_insensitive_and_keeps_other_attributes() {
        let got = rewrite_domain("a=b; path=/api; domain=.up.io; HttpOnly", Some("me.io"));
        assert_eq!(got, "a=b; path=/api; Domain=me.io; HttpOnly");
    }

    #[test]
    fn rewrite_domain_leaves_host_only_cookies_alone() {
        assert_eq!(rewrite_domain("a=b; Path=/", Some("me.io")), "a=b; Path=/");
    }

    #[test]
    fn rewrite_domain_does_not_touch_a_cookie_named_domain() {
        assert_eq!(
            rewrite_domain("domain=x; Domain=up.io", Some("me.io")),
            "domain=x; Domain=me.io"
        );
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn pairs_example() {
        use super::pairs;
        let got: Vec<_> = pairs("a=1; b=\"two\";;=x; c").collect();
        assert_eq!(got, vec![("a", "1"), ("b", "two")]);
    }

    #[test]
    fn decode_value_example() {
        use super::decode_value;
        assert_eq!(decode_value("a%2Eb").as_deref(), Some("a.b"));
        assert_eq!(decode_value("%E0%A4%A"), None);
    }

    #[test]
    fn find_example() {
        use super::find;
        assert_eq!(
            find(["x=1; q_access_token=abc"], "q_access_token").as_deref(),
            Some("abc")
        );
        assert_eq!(find(["q_access_token="], "q_access_token"), None);
    }

    #[test]
    fn session_cookie_header_example() {
        use super::session_cookie_header;
        let header = session_cookie_header(["theme=dark; qlt_0=abc", "token=def"]);
        assert_eq!(header.as_deref(), Some("qlt_0=abc; token=def"));
        assert_eq!(session_cookie_header(["theme=dark"]), None);
    }

    #[test]
    fn expired_cookie_example() {
        use super::expired_cookie;
        let c = expired_cookie("q_refresh_token", false);
        assert!(c.starts_with("q_refresh_token=; Path=/; Max-Age=0;"));
    }

    #[test]
    fn cookie_domain_example() {
        use super::cookie_domain;
        assert_eq!(
            cookie_domain("App.Example.com:8443").as_deref(),
            Some("app.example.com")
        );
        assert_eq!(cookie_domain("[::1]:3000").as_deref(), Some("::1"));
        assert_eq!(cookie_domain("evil.com; Path=/"), None);
    }

    #[test]
    fn token_cookie_example() {
        use super::token_cookie;
        assert_eq!(
            token_cookie("q_access_token", "a b", true),
            "q_access_token=a%20b; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
    }

    #[test]
    fn rewrite_domain_example() {
        use super::rewrite_domain;
        let upstream = "qlt_0=abc; Max-Age=60; Domain=qelos.internal; Path=/api; HttpOnly; Secure; SameSite=None";
        assert_eq!(
            rewrite_domain(upstream, Some("app.example.com")),
            "qlt_0=abc; Max-Age=60; Domain=app.example.com; Path=/api; HttpOnly; Secure; SameSite=None"
        );
        assert_eq!(
            rewrite_domain(upstream, None),
            "qlt_0=abc; Max-Age=60; Path=/api; HttpOnly; Secure; SameSite=None"
        );
    }
}
