//! The SDK's error type. It never contains a token, a URL or response text.

/// Everything that can go wrong calling Qelos.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Qelos answered with an error status. `message` is the server's own message, taken from
    /// `message`, `error.message`, `error_description`, `error`, or a string body.
    #[error("Qelos answered {status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The call took longer than the configured timeout.
    #[error("Qelos did not answer within the timeout")]
    Timeout,
    /// The connection failed (refused, reset, DNS, ...).
    #[error("could not reach Qelos: {0}")]
    Network(String),
    /// Qelos answered success but the body is not the expected JSON. `detail` holds the decoder's
    /// category and position, never body content.
    #[error("Qelos answered {status} with a body that could not be decoded: {detail}")]
    Decode {
        /// HTTP status.
        status: u16,
        /// What went wrong, without body content.
        detail: String,
    },
    /// A request body could not be serialised to JSON (a caller's value whose `Serialize`
    /// failed, e.g. a map with non-string keys). `0` holds the serde category only.
    #[error("the request body could not be serialised: {0}")]
    Encode(String),
    /// The Qelos URL is not usable.
    #[error("invalid Qelos URL: {0}")]
    InvalidUrl(String),
    /// The Qelos URL is `https` but this build has no TLS stack: enable one of qelos-sdk's
    /// features `rustls` (default), `rustls-ring` or `native-tls` (or the same feature of the
    /// integrator crate you use, which forwards it).
    #[error(
        "the Qelos URL is https but qelos-sdk was built without TLS: enable its `rustls` (default), `rustls-ring` or `native-tls` feature"
    )]
    TlsNotCompiled,
    /// A header name or value is not valid (the value is never shown).
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// A refresh was needed but there is no refresh token (or access token for a cookie refresh).
    #[error("no refresh token available")]
    NoRefreshToken,
}

impl Error {
    /// The HTTP status of an [`Error::Api`] or [`Error::Decode`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }
    /// `true` for a 401 from Qelos.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Api { status: 401, .. })
    }
    /// `true` when Qelos is unavailable rather than refusing: timeout, network failure, garbage
    /// body, or a 5xx. An outage is not a logout.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Timeout | Error::Network(_) | Error::Decode { .. } => true,
            Error::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// A transport error: [`Error::Timeout`] or [`Error::Network`] with the URL removed (a URL can
    /// carry a token, e.g. the `rt` of the social-login callback).
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            return Error::Timeout;
        }
        let err = err.without_url();
        let mut text = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        Error::Network(text)
    }

    /// A body that is not the expected JSON. serde_json's own message can quote the offending
    /// value (a token, say), so only its category and position are kept.
    pub(crate) fn decode(status: u16, err: &serde_json::Error) -> Self {
        Error::Decode {
            status,
            detail: format!(
                "{} at line {} column {}",
                category(err),
                err.line(),
                err.column()
            ),
        }
    }

    /// A request body that could not be serialised (category only, never the value).
    pub(crate) fn encode(err: &serde_json::Error) -> Self {
        Error::Encode(category(err).to_owned())
    }

    /// Builds an [`Error::Api`] from an error body, the way the official SDKs read messages.
    pub(crate) fn from_body(status: u16, body: &[u8]) -> Self {
        let message = match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(v) => message_of(&v).unwrap_or_else(|| REQUEST_FAILED.to_owned()),
            Err(_) => {
                // A plain-text body is the message (Qelos answers some 500s with a bare
                // string); an empty, long or HTML body is not.
                let text = String::from_utf8_lossy(body).trim().to_owned();
                if text.is_empty() || text.len() > 300 || text.starts_with('<') {
                    REQUEST_FAILED.to_owned()
                } else {
                    text
                }
            }
        };
        Error::Api { status, message }
    }
}

fn category(err: &serde_json::Error) -> &'static str {
    match err.classify() {
        serde_json::error::Category::Io => "i/o error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "unexpected JSON shape",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

/// The message when the body says nothing usable (as the official SDKs).
const REQUEST_FAILED: &str = "Request failed";

/// `message` || `error.message` || `error_description` || `error` (string).
pub(crate) fn message_of(v: &serde_json::Value) -> Option<String> {
    let s = |v: Option<&serde_json::Value>| v.and_then(|x| x.as_str()).map(str::to_owned);
    s(v.get("message"))
        .or_else(|| s(v.get("error").and_then(|e| e.get("message"))))
        .or_else(|| s(v.get("error_description")))
        .or_else(|| s(v.get("error")))
        .or_else(|| {
            // signup/signin validation errors: {"errors":{...}}
            v.get("errors").map(|e| {
                let mut codes = Vec::new();
                collect_codes(e, &mut codes);
                if codes.is_empty() {
                    "Request failed".to_owned()
                } else {
                    codes.join(", ")
                }
            })
        })
}

fn collect_codes(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if k == "code" || k == "message" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                } else {
                    collect_codes(v, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_taken_in_the_official_order() {
        let cases = [
            (r#"{"message":"a","error":"b"}"#, "a"),
            (r#"{"error":{"message":"nested"}}"#, "nested"),
            (r#"{"error_description":"desc","error":"x"}"#, "desc"),
            (r#"{"error":"plain"}"#, "plain"),
            (r#""just a string""#, "just a string"),
            (r#"{"other":1}"#, "Request failed"),
            (
                r#"{"errors":{"general":{"message":"Invalid username or password"}}}"#,
                "Invalid username or password",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(
                Error::from_body(400, body.as_bytes()),
                Error::Api {
                    status: 400,
                    message: want.into()
                },
                "{body}"
            );
        }
    }

    #[test]
    fn bodies_without_a_message_say_request_failed() {
        for body in [
            &b""[..],
            b"<html>502</html>",
            &[b'x'; 400][..],
            b"{}",
            b"[1]",
        ] {
            let e = Error::from_body(401, body);
            assert!(e.is_unauthorized());
            assert_eq!(e.to_string(), "Qelos answered 401: Request failed");
        }
        assert_eq!(
            Error::from_body(500, b"workspace is locked"),
            Error::Api {
                status: 500,
                message: "workspace is locked".into()
            },
            "a short plain-text body is the message"
        );
    }

    #[test]
    fn encode_errors_are_caller_errors_not_outages() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let err = serde_json::to_value(&map).unwrap_err();
        let e = Error::encode(&err);
        assert!(matches!(e, Error::Encode(_)));
        assert!(!e.is_unavailable() && e.status().is_none());
    }

    #[test]
    fn decode_errors_never_quote_the_body() {
        let err = serde_json::from_str::<u32>(r#""eyJsecret-token""#).unwrap_err();
        let e = Error::decode(200, &err);
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.is_unavailable());
    }

    #[test]
    fn unavailable_means_outage_not_refusal() {
        assert!(Error::Timeout.is_unavailable());
        assert!(
            Error::Api {
                status: 503,
                message: String::new()
            }
            .is_unavailable()
        );
        assert!(
            !Error::Api {
                status: 401,
                message: String::new()
            }
            .is_unavailable()
        );
        assert!(
            !Error::Api {
                status: 403,
                message: String::new()
            }
            .is_unavailable()
        );
    }
}
