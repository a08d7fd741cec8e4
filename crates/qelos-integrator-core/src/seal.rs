//! Authenticated encryption of values put into a [`SharedStore`](crate::store::SharedStore).
//!
//! Every value is sealed with AES-256-GCM under a key derived from the token it belongs to
//! (HKDF-SHA256, `ikm` = the raw token, a fixed salt, `info` = the purpose). Only a holder of
//! that token can derive the key, so a store operator, a leaked snapshot or another tenant of
//! the same Redis sees ciphertext only. The store key is a different function of the token
//! (SHA-256 of `kind \0 token`, see [`TokenKey`](crate::TokenKey)), from which the encryption
//! key cannot be computed.
//!
//! Layout: `1` (version) ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte tag. The store key is
//! the associated data, so a value moved to another key does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const SALT: &[u8] = b"qelos-rs/shared-store/v1";

/// A cipher bound to one token and one purpose.
pub(crate) struct Sealer {
    /// Boxed: the key schedule is about 1 KiB, and a `Sealer` lives in futures that every
    /// signed-in request's identification future would otherwise have to make room for.
    cipher: Box<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(***)")
    }
}

impl Sealer {
    /// Derives the key for `purpose` from `token`.
    pub(crate) fn new(purpose: &str, token: &str) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(SALT), token.as_bytes());
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: `expand` cannot fail here.
        let _ = hk.expand(purpose.as_bytes(), &mut key);
        Self {
            cipher: Box::new(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key))),
        }
    }

    /// Encrypts `plaintext` for the store key `aad`. `None` only if the OS random source or
    /// the cipher fails (the caller then simply does not share the value).
    pub(crate) fn seal(&self, aad: &str, plaintext: &[u8]) -> Option<Vec<u8>> {
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
        Some(out)
    }

    /// Decrypts a value sealed for `aad`; `None` when it was not (wrong token, wrong key,
    /// tampered, or an unknown version).
    pub(crate) fn open(&self, aad: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let (&version, rest) = sealed.split_first()?;
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

/// A random 128-bit lock owner id, hex-encoded (`None` if the OS random source fails).
pub(crate) fn random_id() -> Option<String> {
    use std::fmt::Write as _;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_the_same_token_and_key_open_a_sealed_value() {
        let sealer = Sealer::new("refresh-pair", "old-refresh-token");
        let sealed = sealer.seal("refresh:pair:ab", b"new pair").unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"new pair"));
        assert_eq!(
            sealer.open("refresh:pair:ab", &sealed).as_deref(),
            Some(&b"new pair"[..])
        );
        let other = Sealer::new("refresh-pair", "another-token");
        assert_eq!(other.open("refresh:pair:ab", &sealed), None);
        let other_purpose = Sealer::new("identity", "old-refresh-token");
        assert_eq!(other_purpose.open("refresh:pair:ab", &sealed), None);
        assert_eq!(
            sealer.open("refresh:pair:cd", &sealed),
            None,
            "bound to its key"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(sealer.open("refresh:pair:ab", &tampered), None);
        assert_eq!(sealer.open("refresh:pair:ab", &[]), None);
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealer = Sealer::new("p", "t");
        assert_ne!(sealer.seal("k", b"x"), sealer.seal("k", b"x"));
        assert_ne!(random_id(), random_id());
    }
}
