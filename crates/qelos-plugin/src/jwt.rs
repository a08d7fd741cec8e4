//! HS256 JSON Web Tokens (the format plugin-play mints with `jsonwebtoken`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Longest token accepted; anything longer is refused before any work.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Signs `claims` with `secret` (HS256).
pub(crate) fn sign(claims: &Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let signature = match HmacSha256::new_from_slice(secret) {
        Ok(mut m) => {
            m.update(signing_input.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this branch cannot happen.
        Err(_) => Vec::new(),
    };
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Verifies the HS256 signature (constant time) and `exp` (seconds, strictly after `now`).
pub(crate) fn verify(token: &str, secret: &[u8], now: u64) -> Option<Value> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
    let mut m = HmacSha256::new_from_slice(secret).ok()?;
    m.update(format!("{h}.{p}").as_bytes());
    m.verify_slice(&signature).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
    let exp = claims.get("exp").and_then(Value::as_u64)?;
    (exp > now).then_some(claims)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_until_they_expire_and_only_with_their_secret() {
        let t = sign(&serde_json::json!({"sub":"a","exp":100}), b"s");
        assert!(verify(&t, b"s", 99).is_some());
        assert!(verify(&t, b"s", 100).is_none());
        assert!(verify(&t, b"other", 99).is_none());
        assert!(verify("a.b.c", b"s", 0).is_none());
    }

    #[test]
    fn alg_none_is_refused() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"a","exp":99999999999}"#);
        assert!(verify(&format!("{h}.{p}."), b"s", 0).is_none());
    }
}
