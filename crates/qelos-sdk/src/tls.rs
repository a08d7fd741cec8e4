//! Which TLS stack this build has: the `https` check at build time and the crypto provider of
//! the ring build.

use crate::Error;

/// `true` when this build can call `https` URLs (one of the TLS features is on).
pub(crate) const COMPILED: bool = cfg!(any(
    feature = "rustls",
    feature = "rustls-ring",
    feature = "native-tls"
));

/// Refuses an `https` URL when no TLS stack is compiled in: every call would fail otherwise.
pub(crate) fn check(app_url: &url::Url) -> Result<(), Error> {
    if !COMPILED && app_url.scheme() == "https" {
        return Err(Error::TlsNotCompiled);
    }
    Ok(())
}

/// With the `rustls-ring` feature (and not `rustls`, which brings aws-lc): makes ring the
/// process's rustls crypto provider when none is installed yet, so the HTTP client can be built.
/// An application that installed its own provider keeps it.
pub(crate) fn prepare_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use crate::QelosSdk;

    #[test]
    #[cfg(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls"))]
    fn an_https_url_builds_when_tls_is_compiled_in() {
        let sdk = QelosSdk::builder("https://app.example.com").build();
        assert!(sdk.is_ok(), "{sdk:?}");
    }

    #[test]
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))]
    fn an_https_url_is_refused_without_tls_and_the_error_names_the_features() {
        let err = QelosSdk::builder("https://app.example.com")
            .build()
            .expect_err("no TLS in this build");
        assert_eq!(err, crate::Error::TlsNotCompiled);
        let text = err.to_string();
        for feature in ["`rustls`", "`rustls-ring`", "`native-tls`"] {
            assert!(text.contains(feature), "{text}");
        }
        assert!(
            QelosSdk::builder("http://localhost:3000").build().is_ok(),
            "plain http needs no TLS"
        );
    }
}
