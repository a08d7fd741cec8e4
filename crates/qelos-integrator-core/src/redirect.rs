//! The one redirect rule: where a `next` (or any other caller-supplied target) may send the
//! browser.
//!
//! The target is resolved the way a browser's URL parser resolves a `Location` header (the
//! [WHATWG URL standard](https://url.spec.whatwg.org/), which the `url` crate implements):
//! leading and trailing C0 controls and spaces are stripped, every ASCII tab and newline is
//! removed, `\` reads as `/`, scheme-relative (`//host`) and scheme-only (`https:host`) forms
//! are absolute, userinfo (`user@host`) and percent-encoded hosts are decoded. The resolved URL
//! is accepted when its host and port are the request's own `Host` (scheme `http` or `https`),
//! or its origin is on the configured allow-list; anything else becomes `/`.
//!
//! What goes out is the *resolved* URL, serialised again: a local target as its path, query and
//! fragment (never starting with `//`), an allowed one as its full URL. A browser parsing it
//! again lands where this rule looked, whatever quirks the original text had.

use url::{Origin, Url};

/// Longest target considered; longer ones fall back to `/`.
const MAX_TARGET: usize = 4096;

/// The base a request without a usable `Host` resolves against: relative targets stay local,
/// no absolute target can match it (`.invalid` is reserved, RFC 2606).
const NO_HOST_BASE: &str = "http://no-host.invalid/";

/// A redirect target that passed the rule (or the `/` fallback), ready for `Location`.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::redirect::SafeRedirect;
///
/// let host = Some("app.example.com");
/// assert_eq!(SafeRedirect::resolve(Some("/dashboard?tab=2"), host, &[]).location(), "/dashboard?tab=2");
/// // A tab is dropped by browsers: this is `//evil.example/x`, another site.
/// assert_eq!(SafeRedirect::resolve(Some("/\t/evil.example/x"), host, &[]).location(), "/");
/// assert_eq!(SafeRedirect::resolve(Some("/\\evil.example"), host, &[]).location(), "/");
/// assert_eq!(SafeRedirect::resolve(Some("https://app.example.com/a"), host, &[]).location(), "/a");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeRedirect {
    /// The resolved target and whether it is on the request's own host; `None`: `/`.
    url: Option<(Url, bool)>,
    /// Query pairs added after resolution (kept for the `/` fallback too).
    extra: Vec<(String, String)>,
}

impl SafeRedirect {
    /// Applies the rule to `target` for a request whose `Host` header is `host`; `allowed` are
    /// the other origins a redirect may go to. A missing, empty, unparsable or foreign target
    /// gives `/`.
    pub fn resolve(target: Option<&str>, host: Option<&str>, allowed: &[Origin]) -> Self {
        let url = own_base(host).and_then(|base| {
            let url = target
                .filter(|t| t.len() <= MAX_TARGET)
                .and_then(|t| base.join(t).ok())?;
            if is_local(&url, &base) {
                Some((url, true))
            } else if url.username().is_empty()
                && url.password().is_none()
                && matches!(url.scheme(), "http" | "https")
                && allowed.contains(&url.origin())
            {
                Some((url, false))
            } else {
                None
            }
        });
        Self {
            url,
            extra: Vec::new(),
        }
    }

    /// Adds `key=value` to the target's query (form-encoded), before any fragment.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::redirect::SafeRedirect;
    /// let r = SafeRedirect::resolve(Some("/a?b=1#top"), Some("app.test"), &[]);
    /// assert_eq!(r.with_query_pair("error", "X").location(), "/a?b=1&error=X#top");
    /// let fallback = SafeRedirect::resolve(Some("//evil.test"), Some("app.test"), &[]);
    /// assert_eq!(fallback.with_query_pair("error", "X").location(), "/?error=X");
    /// ```
    #[must_use]
    pub fn with_query_pair(mut self, key: &str, value: &str) -> Self {
        self.extra.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Whether the target is on the request's own host (`/` included); `false` for a target
    /// on an allow-listed origin.
    pub fn is_local(&self) -> bool {
        self.url.as_ref().is_none_or(|(_, local)| *local)
    }

    /// The `Location` value: path, query and fragment for a local target, the full URL for an
    /// allowed origin. Always ASCII, never scheme-relative.
    pub fn location(&self) -> String {
        let mut url = match &self.url {
            Some((url, _)) => url.clone(),
            None => match Url::parse(NO_HOST_BASE) {
                Ok(url) => url,
                Err(_) => return "/".to_owned(),
            },
        };
        if !self.extra.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &self.extra {
                pairs.append_pair(k, v);
            }
        }
        if !self.is_local() {
            return url.as_str().to_owned();
        }
        let path = url.path();
        // `is_local` refused paths starting with `//`; this keeps the guarantee here too.
        let mut out = if path.starts_with("//") {
            String::from("/")
        } else {
            path.to_owned()
        };
        if let Some(query) = url.query() {
            out.push('?');
            out.push_str(query);
        }
        if let Some(fragment) = url.fragment() {
            out.push('#');
            out.push_str(fragment);
        }
        out
    }
}

/// `http://<host>/` when the `Host` header is a plain host name or address with an optional
/// port, else a base no absolute target can match.
fn own_base(host: Option<&str>) -> Option<Url> {
    let plain = |h: &str| {
        !h.is_empty()
            && h.len() <= 255
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    };
    host.map(str::trim)
        .filter(|h| plain(h))
        .and_then(|h| Url::parse(&format!("http://{h}/")).ok())
        .filter(|u| u.path() == "/" && u.username().is_empty() && u.host().is_some())
        .or_else(|| Url::parse(NO_HOST_BASE).ok())
}

/// Same host and port as the request (scheme `http` or `https`), no userinfo, and a path that
/// cannot be read as scheme-relative.
fn is_local(url: &Url, base: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && url.host() == base.host()
        && url.port() == base.port()
        && !url.path().starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOST: Option<&str> = Some("app.test:8080");

    fn loc(target: &str) -> String {
        SafeRedirect::resolve(Some(target), HOST, &[]).location()
    }

    /// Known open-redirect bypasses (OWASP's unvalidated-redirects cheat sheet and filter
    /// evasion lists, and the WHATWG URL parser's quirks). Every one lands on `/`.
    const FOREIGN: &[&str] = &[
        "//evil.test",
        "//evil.test/x",
        "///evil.test",
        "////evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "\\/evil.test",
        "/\\/evil.test",
        "/\t/evil.test/x",
        "/\n/evil.test",
        "/\r\n/evil.test",
        "\t//evil.test",
        " //evil.test",
        "\u{0}//evil.test",
        "\u{1f}//evil.test",
        "//evil.test\u{0}",
        "/\t\\evil.test",
        "https://evil.test",
        "http://evil.test",
        "HTTP://EVIL.TEST",
        "https:evil.test",
        "http:\\\\evil.test",
        "https:/\\evil.test",
        "//evil.test@app.test:8080",
        "http://app.test:8080@evil.test",
        "http://app.test:8080%40evil.test",
        "//app.test:8080@evil.test",
        "http://user:pass@app.test:8080/",
        "http://%65vil.test",
        "//%65vil.test",
        "//evil%2Etest",
        "http://evil.test\\@app.test:8080",
        "//evil.test\\@app.test:8080",
        "http://evil.test#@app.test:8080",
        "http://evil.test?@app.test:8080",
        "http://app.test:8080.evil.test",
        "http://app.test:8081/",
        "http://app.test/",
        "http://APP.test.evil.test",
        "http://0x7f.0.0.1/",
        "http://[::1]/",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "\u{0}javascript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://evil.test",
        "ws://app.test:8080/",
        "//evil。test",
        "//ｅvil.test",
        "/.//evil.test",
        "/./\\evil.test",
        "/x/..//evil.test",
        "/..//evil.test",
    ];

    #[test]
    fn known_bypasses_fall_back_to_the_root() {
        let kept: Vec<(&str, String)> = FOREIGN
            .iter()
            .map(|t| (*t, loc(t)))
            .filter(|(_, l)| l != "/")
            .collect();
        assert!(kept.is_empty(), "these must not leave the site: {kept:?}");
    }

    #[test]
    fn local_targets_are_kept_in_their_normalised_form() {
        let cases = [
            ("/dashboard", "/dashboard"),
            ("/dash?x=1&y=2#top", "/dash?x=1&y=2#top"),
            ("dashboard", "/dashboard"),
            ("/a/../b", "/b"),
            ("/%2F%2Fevil.test", "/%2F%2Fevil.test"),
            ("/%5Cevil.test", "/%5Cevil.test"),
            ("/a b", "/a%20b"),
            ("/ /evil.test", "/%20/evil.test"),
            // Same scheme as the base: WHATWG reads these as relative paths. What goes out is
            // the resolved path, so a page served over https cannot read them as absolute.
            ("http:evil.test", "/evil.test"),
            ("http:/evil.test", "/evil.test"),
            ("/a\tb", "/ab"),
            ("  /padded  ", "/padded"),
            ("http://app.test:8080/abs?q=1", "/abs?q=1"),
            ("https://app.test:8080/tls", "/tls"),
            ("?only=query", "/?only=query"),
            ("/café", "/caf%C3%A9"),
            ("", "/"),
        ];
        for (target, want) in cases {
            assert_eq!(loc(target), want, "{target:?}");
        }
        assert_eq!(SafeRedirect::resolve(None, HOST, &[]).location(), "/");
    }

    #[test]
    fn allow_listed_origins_are_kept_as_full_urls_and_nothing_else_is() {
        let allowed = [Url::parse("https://shop.example.com")
            .expect("origin")
            .origin()];
        let ok = SafeRedirect::resolve(Some("https://shop.example.com/cart?x=1"), HOST, &allowed);
        assert!(!ok.is_local());
        assert_eq!(ok.location(), "https://shop.example.com/cart?x=1");
        for target in [
            "http://shop.example.com/",
            "https://shop.example.com:8443/",
            "https://user@shop.example.com/",
            "https://shop.example.com.evil.test/",
        ] {
            let r = SafeRedirect::resolve(Some(target), HOST, &allowed);
            assert_eq!(r.location(), "/", "{target}");
        }
    }

    #[test]
    fn a_missing_or_hostile_host_header_keeps_only_relative_targets() {
        for host in [
            None,
            Some(""),
            Some("evil.test/x"),
            Some("a@evil.test"),
            Some("a b"),
        ] {
            assert_eq!(
                SafeRedirect::resolve(Some("/home"), host, &[]).location(),
                "/home"
            );
            assert_eq!(
                SafeRedirect::resolve(Some("http://evil.test/"), host, &[]).location(),
                "/"
            );
        }
    }

    #[test]
    fn oversized_targets_fall_back() {
        let long = format!("/{}", "a".repeat(MAX_TARGET));
        assert_eq!(loc(&long), "/");
    }

    /// Text biased towards the characters redirect bypasses are made of.
    fn hostile_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("/".to_owned()),
            Just("\\".to_owned()),
            Just("//".to_owned()),
            Just(":".to_owned()),
            Just("@".to_owned()),
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("%".to_owned()),
            Just("%2f".to_owned()),
            Just("%5c".to_owned()),
            Just("%09".to_owned()),
            Just("\t".to_owned()),
            Just("\n".to_owned()),
            Just("\r".to_owned()),
            Just(" ".to_owned()),
            Just("\u{0}".to_owned()),
            Just("?".to_owned()),
            Just("#".to_owned()),
            Just("http".to_owned()),
            Just("https:".to_owned()),
            Just("javascript:".to_owned()),
            Just("evil.test".to_owned()),
            Just("app.test".to_owned()),
            Just(":8080".to_owned()),
            Just("[::1]".to_owned()),
            Just("。".to_owned()),
            "[a-z0-9]{1,4}",
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever the target, the `Location` sent, parsed by a browser from any page of the
        /// application, stays on the application's origin (or the allow-list).
        #[test]
        fn no_accepted_target_resolves_to_another_origin(target in hostile_text()) {
            let allowed = [Url::parse("https://shop.example.com").expect("origin").origin()];
            let location = SafeRedirect::resolve(Some(&target), HOST, &allowed).location();
            prop_assert!(location.is_ascii());
            prop_assert!(!location.bytes().any(|b| b.is_ascii_control() || b == b' '));
            // A backslash may stay in the query or fragment, where no parser reads it as `/`.
            let before_query = location.split(['?', '#']).next().unwrap_or_default();
            prop_assert!(!before_query.contains('\\'), "{location:?}");
            for page in ["http://app.test:8080/login", "https://app.test:8080/auth/callback?rt=x"] {
                let base = Url::parse(page).expect("page");
                let landed = base.join(&location).expect("the location parses");
                let own = landed.host_str() == Some("app.test") && landed.port_or_known_default() == Some(8080);
                prop_assert!(
                    own || allowed.contains(&landed.origin()),
                    "{target:?} -> {location:?} -> {landed}"
                );
            }
            if !location.starts_with("https://shop.example.com/") {
                prop_assert!(location.starts_with('/') && !location.starts_with("//"));
            }
        }
    }
}
