//! Registrations at rest: AES-256-GCM under a key derived from the configured encryption
//! secret (HKDF-SHA256). The registration id is the associated data, so a sealed value copied
//! onto another registration does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const SALT: &[u8] = b"qelos-plugin/registrations/v1";

/// The cipher of one plugin configuration.
pub(crate) struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// Derives the key from the configured secret.
    pub(crate) fn new(secret: &[u8]) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(SALT), secret);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit: `expand` cannot fail here.
        let _ = hk.expand(b"registration", &mut key);
        Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        }
    }

    /// base64 of `version ‖ nonce ‖ ciphertext ‖ tag`; `None` if the random source fails.
    pub(crate) fn seal(&self, aad: &str, plaintext: &[u8]) -> Option<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).ok()?;
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .ok()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Some(STANDARD.encode(out))
    }

    /// The plaintext of a value sealed for `aad` with the same key; `None` otherwise.
    pub(crate) fn open(&self, aad: &str, sealed: &str) -> Option<Vec<u8>> {
        let raw = STANDARD.decode(sealed).ok()?;
        let (&version, rest) = raw.split_first()?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .ok()
    }
}

/// SHA-256 hex: what the store keeps of a refresh identifier.
pub(crate) fn digest_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// 128 random bits, hex.
pub(crate) fn random_hex() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_registration() {
        let s = Sealer::new(b"configured encryption secret....");
        let sealed = s.seal("reg-1", b"password").unwrap();
        assert!(!sealed.contains("password"));
        assert_eq!(s.open("reg-1", &sealed).as_deref(), Some(&b"password"[..]));
        assert_eq!(s.open("reg-2", &sealed), None);
        assert_eq!(Sealer::new(b"another secret").open("reg-1", &sealed), None);
        assert_eq!(s.open("reg-1", "not base64 !"), None);
        assert_ne!(s.seal("r", b"x"), s.seal("r", b"x"));
    }
}
