//! The one cross-site rule: whether a state-changing request comes from this application's own
//! pages, another site's page, or a client that is not a browser.
//!
//! Read in this order (first answer wins):
//!
//! 1. `Origin` on the [trusted list](crate::QelosConfigBuilder::trusted_origin): allowed.
//! 2. `Sec-Fetch-Site` (fetch metadata, sent by every current browser):
//!    `same-origin` allowed; `none` (the user typed the URL, a bookmark) allowed; `same-site`
//!    allowed only when the policy [allows same-site](crate::QelosConfigBuilder::allow_same_site);
//!    `cross-site` refused. Unknown values fall through.
//! 3. `Origin`: allowed when its host and port are the request's `Host`; `null` or another
//!    host refused.
//! 4. `Referer`: the same comparison as `Origin`.
//! 5. None of these headers: not a browser (curl, a server, a mobile app), allowed.
//!
//! A refusal is `403 {"code":"CROSS_SITE_REQUEST"}`.

use url::{Origin, Url};

/// The request headers the rule reads. Build it from the framework's header lookup.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::cross_site::{CrossSitePolicy, SiteHeaders};
///
/// let policy = CrossSitePolicy::default();
/// let evil = SiteHeaders { host: Some("app.test"), origin: Some("http://evil.test"), ..Default::default() };
/// assert!(policy.check(&evil).is_err());
/// let own = SiteHeaders { host: Some("app.test"), origin: Some("http://app.test"), ..Default::default() };
/// assert!(policy.check(&own).is_ok());
/// let curl = SiteHeaders { host: Some("app.test"), ..Default::default() };
/// assert!(policy.check(&curl).is_ok());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SiteHeaders<'a> {
    /// `Host`.
    pub host: Option<&'a str>,
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Referer`.
    pub referer: Option<&'a str>,
    /// `Sec-Fetch-Site`.
    pub sec_fetch_site: Option<&'a str>,
}

impl<'a> SiteHeaders<'a> {
    /// Reads the four headers through `lookup` (the framework's "first value of this header as
    /// text"; names are given lowercase).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self {
            host: lookup("host"),
            origin: lookup("origin"),
            referer: lookup("referer"),
            sec_fetch_site: lookup("sec-fetch-site"),
        }
    }

    /// Reads the four headers from an `http` header map.
    pub fn from_headers(headers: &'a http::HeaderMap) -> Self {
        Self::from_lookup(|name| headers.get(name).and_then(|v| v.to_str().ok()))
    }

    /// Whether any browser signal (`Origin`, `Referer`, `Sec-Fetch-Site`) is present.
    pub fn from_browser(&self) -> bool {
        self.origin.is_some() || self.referer.is_some() || self.sec_fetch_site.is_some()
    }
}

/// Why a request was refused as cross-site. Its response is
/// `403 {"code":"CROSS_SITE_REQUEST","message":…}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cross-site request refused: {reason}")]
pub struct CrossSiteRefusal {
    reason: &'static str,
}

impl CrossSiteRefusal {
    /// The machine-readable code: `CROSS_SITE_REQUEST`.
    pub const CODE: &'static str = "CROSS_SITE_REQUEST";

    /// A social-login callback whose `state` is not the one this browser's state cookie holds.
    pub(crate) const fn unbound_social_login() -> Self {
        Self {
            reason: "this sign-in was not started in this browser",
        }
    }

    /// Which header decided (for logs; the body carries it too).
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The JSON body.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::cross_site::{CrossSitePolicy, SiteHeaders};
    /// let refused = CrossSitePolicy::default()
    ///     .check(&SiteHeaders { sec_fetch_site: Some("cross-site"), ..Default::default() })
    ///     .unwrap_err();
    /// assert!(refused.body().starts_with(r#"{"code":"CROSS_SITE_REQUEST""#));
    /// ```
    pub fn body(&self) -> String {
        serde_json::json!({ "code": Self::CODE, "message": self.to_string() }).to_string()
    }

    /// A ready `403` response with the JSON body and `Cache-Control: no-store`.
    pub fn into_response<B: From<String>>(self) -> http::Response<B> {
        let mut response =
            crate::rejection::json_response(http::StatusCode::FORBIDDEN, self.body(), &[]);
        crate::headers::no_store(response.headers_mut());
        response
    }
}

const fn refuse(reason: &'static str) -> Result<(), CrossSiteRefusal> {
    Err(CrossSiteRefusal { reason })
}

/// The cross-site policy: trusted origins and whether same-site (a sibling subdomain) counts as
/// the application's own. Configured on the builder
/// ([`trusted_origin`](crate::QelosConfigBuilder::trusted_origin),
/// [`allow_same_site`](crate::QelosConfigBuilder::allow_same_site)).
#[derive(Clone, Debug, Default)]
pub struct CrossSitePolicy {
    trusted: Vec<Origin>,
    allow_same_site: bool,
}

impl CrossSitePolicy {
    /// A policy with these trusted origins; same-site requests allowed when `allow_same_site`.
    pub fn new(trusted: Vec<Origin>, allow_same_site: bool) -> Self {
        Self {
            trusted,
            allow_same_site,
        }
    }

    /// The trusted origins.
    pub fn trusted(&self) -> &[Origin] {
        &self.trusted
    }

    /// Applies the rule (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// [`CrossSiteRefusal`] when the request comes from another site's page.
    pub fn check(&self, req: &SiteHeaders<'_>) -> Result<(), CrossSiteRefusal> {
        let origin = req.origin.map(str::trim);
        if let Some(o) = origin.and_then(|o| Url::parse(o).ok())
            && o.origin().is_tuple()
            && self.trusted.contains(&o.origin())
        {
            return Ok(());
        }
        match req
            .sec_fetch_site
            .map(|s| s.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("same-origin" | "none") => return Ok(()),
            Some("same-site") if self.allow_same_site => return Ok(()),
            Some("same-site") => return refuse("Sec-Fetch-Site is same-site"),
            Some("cross-site") => return refuse("Sec-Fetch-Site is cross-site"),
            _ => {}
        }
        if let Some(origin) = origin {
            return if same_host(origin, req.host) {
                Ok(())
            } else {
                refuse("Origin is not this host")
            };
        }
        if let Some(referer) = req.referer.map(str::trim) {
            return if same_host(referer, req.host) {
                Ok(())
            } else {
                refuse("Referer is not this host")
            };
        }
        Ok(())
    }
}

/// Whether `url`'s (an `Origin` or `Referer`) host and port are those of the `Host` header.
/// The scheme is not compared: the application does not know whether TLS ended in front of it.
fn same_host(url: &str, host: Option<&str>) -> bool {
    let (Ok(url), Some(host)) = (Url::parse(url), host) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let Ok(own) = Url::parse(&format!("{}://{}/", url.scheme(), host.trim())) else {
        return false;
    };
    own.path() == "/"
        && own.username().is_empty()
        && own.host().is_some()
        && own.host() == url.host()
        && own.port_or_known_default() == url.port_or_known_default()
}

/// Whether `method` changes state (anything but `GET`, `HEAD`, `OPTIONS`, `TRACE`).
pub fn is_unsafe_method(method: &str) -> bool {
    !matches!(
        method.to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "OPTIONS" | "TRACE"
    )
}

/// What the `/api/**` proxy does with cross-site requests
/// ([`proxy_cross_site`](crate::QelosConfigBuilder::proxy_cross_site)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyCrossSite {
    /// The default: refuse cross-site `POST`, `PUT`, `PATCH`, `DELETE` (any non-safe method)
    /// that carry cookies (the integrator's tokens or Qelos's session cookie would sign them
    /// in upstream). Cookie-less calls pass.
    #[default]
    RefuseUnsafeWithCookies,
    /// Refuse every cross-site non-safe method, with or without cookies.
    RefuseUnsafe,
    /// Forward everything (the upstream decides).
    Allow,
}

impl ProxyCrossSite {
    /// Applies this policy and `policy`'s rule to one proxied request.
    ///
    /// # Errors
    ///
    /// [`CrossSiteRefusal`] when the request must not be forwarded.
    pub fn check(
        self,
        policy: &CrossSitePolicy,
        method: &str,
        has_cookies: bool,
        headers: &SiteHeaders<'_>,
    ) -> Result<(), CrossSiteRefusal> {
        let applies = match self {
            Self::Allow => false,
            Self::RefuseUnsafe => is_unsafe_method(method),
            Self::RefuseUnsafeWithCookies => is_unsafe_method(method) && has_cookies,
        };
        if applies {
            policy.check(headers)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(
        origin: Option<&'a str>,
        referer: Option<&'a str>,
        fetch: Option<&'a str>,
    ) -> SiteHeaders<'a> {
        SiteHeaders {
            host: Some("app.test:8080"),
            origin,
            referer,
            sec_fetch_site: fetch,
        }
    }

    #[test]
    fn fetch_metadata_decides_first() {
        let p = CrossSitePolicy::default();
        assert!(p.check(&h(None, None, Some("same-origin"))).is_ok());
        assert!(p.check(&h(None, None, Some("none"))).is_ok());
        assert!(p.check(&h(None, None, Some("cross-site"))).is_err());
        assert!(p.check(&h(None, None, Some("same-site"))).is_err());
        // A lying Origin does not beat fetch metadata.
        assert!(
            p.check(&h(Some("http://app.test:8080"), None, Some("cross-site")))
                .is_err()
        );
        let siblings = CrossSitePolicy::new(Vec::new(), true);
        assert!(siblings.check(&h(None, None, Some("same-site"))).is_ok());
    }

    #[test]
    fn origin_then_referer_are_compared_with_the_host() {
        let p = CrossSitePolicy::default();
        assert!(
            p.check(&h(Some("http://app.test:8080"), None, None))
                .is_ok()
        );
        assert!(
            p.check(&h(Some("https://app.test:8080"), None, None))
                .is_ok()
        );
        assert!(p.check(&h(Some("http://app.test"), None, None)).is_err());
        assert!(
            p.check(&h(Some("http://evil.test:8080"), None, None))
                .is_err()
        );
        assert!(p.check(&h(Some("null"), None, None)).is_err());
        assert!(
            p.check(&h(None, Some("http://app.test:8080/login"), None))
                .is_ok()
        );
        assert!(
            p.check(&h(None, Some("http://evil.test:8080/x"), None))
                .is_err()
        );
        assert!(
            p.check(&h(None, Some("http://app.test:8080@evil.test/"), None))
                .is_err()
        );
    }

    #[test]
    fn no_browser_headers_is_a_non_browser_client_and_allowed() {
        assert!(
            CrossSitePolicy::default()
                .check(&h(None, None, None))
                .is_ok()
        );
        assert!(!h(None, None, None).from_browser());
    }

    #[test]
    fn trusted_origins_pass_even_cross_site() {
        let trusted = Url::parse("https://admin.example.com")
            .map(|u| u.origin())
            .unwrap();
        let p = CrossSitePolicy::new(vec![trusted], false);
        assert!(
            p.check(&h(
                Some("https://admin.example.com"),
                None,
                Some("cross-site")
            ))
            .is_ok()
        );
        assert!(
            p.check(&h(
                Some("https://evil.example.com"),
                None,
                Some("cross-site")
            ))
            .is_err()
        );
    }

    #[test]
    fn default_host_ports_compare_equal() {
        let p = CrossSitePolicy::default();
        let plain = SiteHeaders {
            host: Some("app.test"),
            origin: Some("http://app.test:80"),
            ..Default::default()
        };
        assert!(p.check(&plain).is_ok());
        let other_port = SiteHeaders {
            host: Some("app.test:81"),
            origin: Some("http://app.test"),
            ..Default::default()
        };
        assert!(p.check(&other_port).is_err());
    }

    #[test]
    fn proxy_policy_refuses_unsafe_cross_site_calls_with_cookies_only() {
        let p = CrossSitePolicy::default();
        let evil = h(Some("http://evil.test"), None, Some("cross-site"));
        let d = ProxyCrossSite::default();
        assert!(d.check(&p, "POST", true, &evil).is_err());
        assert!(d.check(&p, "delete", true, &evil).is_err());
        assert!(d.check(&p, "POST", false, &evil).is_ok());
        assert!(d.check(&p, "GET", true, &evil).is_ok());
        assert!(
            ProxyCrossSite::RefuseUnsafe
                .check(&p, "PUT", false, &evil)
                .is_err()
        );
        assert!(ProxyCrossSite::Allow.check(&p, "POST", true, &evil).is_ok());
    }
}
