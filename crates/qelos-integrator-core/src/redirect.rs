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
