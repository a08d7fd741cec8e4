//! The `user` header Qelos adds to every proxied request.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use qelos_sdk::User;

/// Why a `user` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the user header is neither JSON nor base64 JSON of a Qelos user")]
pub struct InvalidUser;

/// Parses a `user` header value: plain JSON (what the plugin proxy sends) or base64 JSON (what
/// the gateway sends to Qelos's own services). Empty, `null` and the literal `undefined` (what
/// Qelos sends for an anonymous callback) mean anonymous.
///
/// # Errors
///
/// [`InvalidUser`] when the value is neither, or is JSON that is not a user object with `_id`.
///
/// # Examples
///
/// ```
/// use qelos_plugin::parse_user;
/// let plain = parse_user(r#"{"_id":"u1","username":"a@b.c"}"#)?.map(|u| u.id);
/// assert_eq!(plain.as_deref(), Some("u1"));
/// let b64 = parse_user("eyJfaWQiOiJ1MiJ9")?.map(|u| u.id); // {"_id":"u2"}
/// assert_eq!(b64.as_deref(), Some("u2"));
/// assert!(parse_user("")?.is_none());
/// assert!(parse_user("{not json").is_err());
/// # Ok::<(), qelos_plugin::InvalidUser>(())
/// ```
pub fn parse_user(value: &str) -> Result<Option<User>, InvalidUser> {
    let value = value.trim();
    if value.is_empty() || value == "undefined" || value == "null" {
        return Ok(None);
    }
    if value.starts_with('{') {
        return from_json(value.as_bytes()).map(Some);
    }
    let decoded = STANDARD
        .decode(value)
        .or_else(|_| URL_SAFE.decode(value))
        .map_err(|_| InvalidUser)?;
    from_json(&decoded).map(Some)
}

fn from_json(bytes: &[u8]) -> Result<User, InvalidUser> {
    let user: User = serde_json::from_slice(bytes).map_err(|_| InvalidUser)?;
    if user.id.is_empty() {
        return Err(InvalidUser);
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_non_objects_are_invalid_not_panics() {
        for bad in [
            "%%%",
            "eyJ",
            "[1,2]",
            "{}",
            "\"x\"",
            "{\"_id\":5}",
            "bnVsbA==",
        ] {
            assert_eq!(parse_user(bad).map(|_| ()), Err(InvalidUser), "{bad}");
        }
    }

    #[test]
    fn anonymous_spellings_are_anonymous() {
        for anon in ["", "  ", "undefined", "null"] {
            assert_eq!(parse_user(anon), Ok(None));
        }
    }
}
