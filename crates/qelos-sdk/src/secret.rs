//! Secrets (tokens, cookie headers, API keys) and token pairs, with redacted `Debug`.

use std::sync::Arc;

/// A secret string: a token, a `Cookie` header, an API key.
///
/// `Debug` prints `Secret("***")`; there is no `Display`. Read the value with
/// [`expose`](Self::expose), only where it goes on the wire.
///
/// # Examples
///
/// ```
/// use qelos_sdk::Secret;
/// let s = Secret::new("ql_abc");
/// assert_eq!(s.expose(), "ql_abc");
/// assert_eq!(format!("{s:?}"), "Secret(\"***\")");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }
    /// The secret value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(\"***\")")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    /// One allocation: the value is copied straight into the shared buffer.
    fn from(value: &str) -> Self {
        Self(Arc::from(value))
    }
}

/// An access token and a refresh token, either of which may be absent. `Debug` redacts both.
///
/// # Examples
///
/// ```
/// use qelos_sdk::TokenPair;
/// let pair = TokenPair::new(Some("a".into()), None);
/// assert!(!pair.is_empty());
/// assert!(!format!("{pair:?}").contains("\"a\""));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenPair {
    /// The access token (`Authorization: Bearer`).
    pub access: Option<Secret>,
    /// The refresh token.
    pub refresh: Option<Secret>,
}

impl TokenPair {
    /// A pair from its parts.
    pub fn new(access: Option<Secret>, refresh: Option<Secret>) -> Self {
        Self { access, refresh }
    }
    /// `true` when both tokens are absent.
    pub fn is_empty(&self) -> bool {
        self.access.is_none() && self.refresh.is_none()
    }
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access", &self.access.as_ref().map(|_| "***"))
            .field("refresh", &self.refresh.as_ref().map(|_| "***"))
            .finish()
    }
}
