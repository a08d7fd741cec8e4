//! HS256 JSON Web Tokens, as Qelos's `jsonwebtoken` produces them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs `claims` with `secret` (HS256).
pub(crate) fn sign(claims: &Value, secret: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

fn mac(secret: &str, data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; the error branch cannot happen.
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Verifies signature and `exp` (seconds) against `now`; returns the claims.
pub(crate) fn verify(token: &str, secret: &str, now: u64) -> Option<Value> {
    if token.len() > 16 * 1024 {
        return None;
    }
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    m.update(format!("{h}.{p}").as_bytes());
    m.verify_slice(&signature).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
    let exp = claims.get("exp").and_then(Value::as_u64)?;
    (exp > now).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_tokens_verify_until_they_expire() {
        let t = sign(&serde_json::json!({"sub":"a","exp":100}), "s");
        assert!(verify(&t, "s", 99).is_some());
        assert!(verify(&t, "s", 100).is_none());
        assert!(verify(&t, "other", 99).is_none());
        assert!(verify("a.b.c", "s", 0).is_none());
    }
}
