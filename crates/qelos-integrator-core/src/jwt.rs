//! Reading the `exp` claim of a JWT without verifying it.
//!
//! The integrator never trusts a token it reads here: it only uses `exp` to avoid spending a
//! round trip on an access token that is already known to be expired (contract step 5).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest token the integrator will look at. Anything longer is treated as garbage (no upstream call).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Returns the `exp` claim (seconds since the Unix epoch) of a JWT, or `None` when the token
/// is not a JWT, has no numeric `exp`, or cannot be decoded.
///
/// The signature is **not** checked.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::jwt::peek_exp;
/// // header {"alg":"HS256"} . payload {"exp":1700000000} . signature
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln";
/// assert_eq!(peek_exp(token), Some(1_700_000_000));
/// assert_eq!(peek_exp("not-a-jwt"), None);
/// ```
pub fn peek_exp(token: &str) -> Option<u64> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let _header = parts.next()?;
    let payload = parts.next()?;
    let _signature = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    // Only `exp` is read; every other claim is skipped without being built.
    let claims: ExpClaim = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.exp?;
    exp.as_u64().or_else(|| exp.as_f64().map(|f| f as u64))
}

#[derive(serde::Deserialize)]
struct ExpClaim {
    #[serde(default)]
    exp: Option<serde_json::Number>,
}

/// `true` when the token is a JWT whose `exp` is at or before `now` (seconds since the epoch).
///
/// Tokens that are not JWTs are never "known expired": Qelos decides about them.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::jwt::is_expired_at;
/// let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln";
/// assert!(is_expired_at(token, 1_700_000_000));
/// assert!(!is_expired_at(token, 1_699_999_999));
/// ```
pub fn is_expired_at(token: &str, now: u64) -> bool {
    peek_exp(token).is_some_and(|exp| exp <= now)
}

/// [`is_expired_at`] with the system clock.
pub fn is_expired(token: &str) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    is_expired_at(token, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload.as_bytes())
        )
    }

    #[test]
    fn peek_exp_reads_integer_exp() {
        assert_eq!(peek_exp(&jwt(r#"{"sub":"a","exp":42}"#)), Some(42));
    }

    #[test]
    fn peek_exp_accepts_float_exp() {
        assert_eq!(peek_exp(&jwt(r#"{"exp":42.9}"#)), Some(42));
    }

    #[test]
    fn peek_exp_is_none_without_exp_or_for_garbage() {
        assert_eq!(peek_exp(&jwt(r#"{"sub":"a"}"#)), None);
        assert_eq!(peek_exp(&jwt(r#"{"exp":"soon"}"#)), None);
        assert_eq!(peek_exp("a.b"), None);
        assert_eq!(peek_exp("a.b.c.d"), None);
        assert_eq!(peek_exp("a.%%%.c"), None);
        assert_eq!(peek_exp(""), None);
        assert_eq!(peek_exp(&"x".repeat(MAX_TOKEN_LEN + 1)), None);
    }

    #[test]
    fn opaque_tokens_are_never_known_expired() {
        assert!(!is_expired_at("ql_abcdef", u64::MAX));
    }

    #[test]
    fn expiry_boundary_is_inclusive() {
        let t = jwt(r#"{"exp":100}"#);
        assert!(is_expired_at(&t, 100));
        assert!(!is_expired_at(&t, 99));
    }
}
