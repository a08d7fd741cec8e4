//! `rediss://`: the TLS options of a [`RedisStore`](super::RedisStore) and the client built
//! from them (feature `redis-tls`).

use crate::store::StoreError;

/// TLS options for a `rediss://` Redis: a private root certificate and a client certificate
/// for mutual TLS. Without either, the server is verified against the system's roots.
///
/// `Debug` never shows the client key.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::store::redis::RedisTls;
///
/// let ca_pem: Vec<u8> = b"-----BEGIN CERTIFICATE-----\n...".to_vec(); // read from a file
/// let tls = RedisTls::new().root_certificate(ca_pem);
/// assert!(format!("{tls:?}").contains("root_certificate: true"));
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct RedisTls {
    root: Option<Vec<u8>>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTls")
            .field("root_certificate", &self.root.is_some())
            .field("client_identity", &self.identity.is_some())
            .finish()
    }
}

impl RedisTls {
    /// No private root, no client certificate: the system's roots verify the server.
    pub fn new() -> Self {
        Self::default()
    }

    /// Verifies the server against this root certificate (PEM) instead of the system's roots.
    pub fn root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root = Some(pem.into());
        self
    }

    /// Presents this certificate and private key (both PEM) to a server that asks for client
    /// certificates (`tls-auth-clients yes`).
    pub fn client_identity(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.identity = Some((cert_pem.into(), key_pem.into()));
        self
    }
}

/// The Redis client for a `rediss://` URL.
#[cfg(feature = "redis-tls")]
pub(super) fn client(url: &str, tls: RedisTls) -> Result<redis::Client, StoreError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    provider()?;
    // Checked here, at start-up: unreadable PEM would otherwise be an empty trust store and a
    // failure on every command.
    let pem_error = |what: &str| StoreError::Config(format!("the {what} is not readable PEM"));
    if let Some(root) = &tls.root {
        let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(root).collect();
        if certs.map_or(true, |c| c.is_empty()) {
            return Err(pem_error("root certificate"));
        }
    }
    if let Some((cert, key)) = &tls.identity {
        let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(cert).collect();
        if certs.map_or(true, |c| c.is_empty()) {
            return Err(pem_error("client certificate"));
        }
        if PrivateKeyDer::from_pem_slice(key).is_err() {
            return Err(pem_error("client key"));
        }
    }
    let certificates = redis::TlsCertificates {
        client_tls: tls
            .identity
            .map(|(client_cert, client_key)| redis::ClientTlsConfig {
                client_cert,
                client_key,
            }),
        root_cert: tls.root,
    };
    redis::Client::build_with_tls(url, certificates).map_err(|e| StoreError::Config(e.to_string()))
}

/// Without `redis-tls`: the error that names the feature.
#[cfg(not(feature = "redis-tls"))]
pub(super) fn client(_url: &str, _tls: RedisTls) -> Result<redis::Client, StoreError> {
    Err(StoreError::Config(
        "rediss:// needs the `redis-tls` feature of qelos-integrator-core (or of your qelos-integrator-* crate)".into(),
    ))
}

/// Makes sure rustls has a process-wide crypto provider (Redis's TLS config takes the
/// process default): the one the TLS feature compiled in, unless the application installed
/// its own.
#[cfg(feature = "redis-tls")]
fn provider() -> Result<(), StoreError> {
    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return Ok(());
    }
    #[cfg(feature = "rustls")]
    let provider = Some(rustls::crypto::aws_lc_rs::default_provider());
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
    let provider = Some(rustls::crypto::ring::default_provider());
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring")))]
    let provider: Option<rustls::crypto::CryptoProvider> = None;
    match provider {
        // Losing a race to another installer is fine: a provider is installed either way.
        Some(provider) => {
            let _ = provider.install_default();
            Ok(())
        }
        None => Err(StoreError::Config(
            "rediss:// needs a rustls crypto provider: enable the `rustls` or `rustls-ring` feature next to `redis-tls`, or install one with rustls::crypto::CryptoProvider::install_default".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn debug_never_shows_the_client_key() {
        let tls =
            RedisTls::new().client_identity(b"CERT".to_vec(), b"PRIVATE-KEY-hunter2".to_vec());
        let debug = format!("{tls:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("client_identity: true"), "{debug}");
    }

    #[cfg(not(feature = "redis-tls"))]
    #[test]
    fn a_rediss_url_without_the_feature_is_refused_naming_it() {
        let err = super::super::RedisStore::new("rediss://127.0.0.1:6380").unwrap_err();
        assert!(err.to_string().contains("`redis-tls`"), "{err}");
    }

    #[cfg(feature = "redis-tls")]
    #[test]
    fn garbage_pem_is_a_config_error_not_a_panic() {
        let err = super::super::RedisStore::with_tls(
            "rediss://127.0.0.1:6380",
            RedisTls::new().root_certificate(b"not a certificate".to_vec()),
        );
        assert!(matches!(err, Err(StoreError::Config(_))), "{err:?}");
    }

    #[test]
    fn with_tls_needs_a_rediss_url() {
        let err = super::super::RedisStore::with_tls("redis://127.0.0.1:6379", RedisTls::new());
        assert!(matches!(err, Err(StoreError::Config(_))), "{err:?}");
    }
}
