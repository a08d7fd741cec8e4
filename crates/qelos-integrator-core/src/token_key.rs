//! Hashed keys for tokens: caches and single-flight maps never hold a raw token as a key.

use sha2::{Digest, Sha256};

/// SHA-256 of a token, tagged with what kind of token it is.
///
/// `Debug` prints only a short prefix of the hash.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::TokenKey;
/// let a = TokenKey::new("refresh", "eyJ-secret-token");
/// assert_eq!(a, TokenKey::new("refresh", "eyJ-secret-token"));
/// assert_ne!(a, TokenKey::new("access", "eyJ-secret-token"));
/// assert!(!format!("{a:?}").contains("secret"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// Hashes `kind`, a separator, and `token`.
    pub fn new(kind: &str, token: &str) -> Self {
        let mut h = Sha256::new();
        h.update(kind.as_bytes());
        h.update([0u8]);
        h.update(token.as_bytes());
        Self(h.finalize().into())
    }

    /// The hash bytes (for shared stores such as Redis).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex of the hash.
    pub fn to_hex(&self) -> String {
        use std::fmt::Write as _;
        self.0.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKey({}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_sha256_of_tagged_input() {
        // sha256("k\0v")
        let k = TokenKey::new("k", "v");
        assert_eq!(k.to_hex().len(), 64);
        assert_ne!(
            k,
            TokenKey::new("k\0", "v"),
            "the separator keeps kinds apart"
        );
    }
}
