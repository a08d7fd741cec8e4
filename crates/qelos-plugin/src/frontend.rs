//! The micro-frontend authorization flow, as plugin-play runs it:
//!
//! 1. Qelos calls `callbackUrl?returnUrl=<b64>` (plugin token, `user`); the plugin answers a
//!    code and a short-lived token and redirects the browser to `returnUrl?code=…&token=…`.
//! 2. The micro-frontend posts `{returnUrl, token}` to `authorizeUrl`; the plugin sets cookie
//!    `token_<code>` (30 min, `HttpOnly`) and answers `{user, tenant}`.
//! 3. The micro-frontend calls the plugin with header `code: <code>` and that cookie:
//!    [`Plugin::verify_cookie`].
//! 4. `unAuthorizeUrl` (same header and cookie) clears the cookie.

use http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Plugin;
use crate::jwt;
use crate::plugin::CALLBACK_TTL;
use crate::user::parse_user;
use crate::verify::{PluginRequest, VerifyError, header_str};

/// Cookie name prefix (`token_<code>`).
pub const COOKIE_PREFIX: &str = "token_";

/// What a frontend call answers: the JSON body and the `Set-Cookie` values to send.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FrontendAnswer {
    /// Body.
    pub body: Value,
    /// `Set-Cookie` header values.
    pub set_cookies: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeBody {
    #[serde(default)]
    return_url: String,
    #[serde(default)]
    token: String,
}

fn normalize(url: &str) -> Option<String> {
    url::Url::parse(url.trim()).ok().map(String::from)
}

/// `name=value` pairs of every `Cookie` header.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

impl Plugin {
    fn cookie(&self, name: &str, value: &str, max_age: u64) -> String {
        let attributes = if self.inner.secure_cookies {
            "Secure; SameSite=None"
        } else {
            "SameSite=Lax"
        };
        format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; {attributes}")
    }

    /// `authorizeUrl`: trades the token [`callback`](Self::callback) put on the micro-frontend's
    /// URL (body `{"returnUrl","token"}`) for the cookie `token_<code>`. Earlier `token_*`
    /// cookies of the same tenant are cleared.
    ///
    /// # Errors
    ///
    /// [`VerifyError::NotAuthorized`] (`401 {"message":"you are not authorized"}` in
    /// plugin-play) for a missing, forged or expired token, or another `returnUrl`.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::{Plugin, VerifyError};
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .static_token("a static token of 32 bytes......")
    ///     .build()?;
    /// let refused = plugin.authorize(&http::HeaderMap::new(), br#"{"returnUrl":"https://a.b/","token":"x"}"#);
    /// assert!(matches!(refused, Err(VerifyError::NotAuthorized)));
    /// # Ok::<(), qelos_plugin::ConfigError>(())
    /// ```
    pub fn authorize(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<FrontendAnswer, VerifyError> {
        let body: AuthorizeBody =
            serde_json::from_slice(body).map_err(|_| VerifyError::NotAuthorized)?;
        let claims = self
            .verify_callback_token(&body.token)
            .ok_or(VerifyError::NotAuthorized)?;
        let issued_for = claims
            .get("returnUrl")
            .and_then(Value::as_str)
            .and_then(normalize);
        if issued_for.is_none() || issued_for != normalize(&body.return_url) {
            return Err(VerifyError::NotAuthorized);
        }
        let code = claims
            .get("code")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or(VerifyError::NotAuthorized)?;
        let now = jwt::now_s();
        let session = json!({"typ": "frontend", "code": code, "user": claims["user"],
            "tenant": claims["tenant"], "registration": claims["registration"],
            "iat": now, "exp": now + CALLBACK_TTL.as_secs()});
        let token = jwt::sign(&session, self.session_key().as_bytes());
        let mut set_cookies: Vec<String> = cookies(headers)
            .filter(|(name, value)| {
                name.starts_with(COOKIE_PREFIX)
                    && self
                        .frontend_claims(value)
                        .is_some_and(|c| c["tenant"] == claims["tenant"])
            })
            .map(|(name, _)| self.cookie(name, "", 0))
            .collect();
        set_cookies.push(self.cookie(
            &format!("{COOKIE_PREFIX}{code}"),
            &token,
            CALLBACK_TTL.as_secs(),
        ));
        Ok(FrontendAnswer {
            body: json!({"user": claims["user"], "tenant": claims["tenant"], "code": code}),
            set_cookies,
        })
    }

    fn frontend_claims(&self, token: &str) -> Option<Value> {
        jwt::verify(token, self.session_key().as_bytes(), jwt::now_s())
            .filter(|c| c.get("typ").and_then(Value::as_str) == Some("frontend"))
    }

    /// Verifies a micro-frontend call (plugin-play's `verifyCookieToken`): header `code` and
    /// the cookie `token_<code>` set by [`authorize`](Self::authorize).
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingCode`], [`VerifyError::NotAuthorized`] (both `401`).
    pub fn verify_cookie(&self, headers: &HeaderMap) -> Result<PluginRequest, VerifyError> {
        let code = header_str(headers, "code").ok_or(VerifyError::MissingCode)?;
        let name = format!("{COOKIE_PREFIX}{code}");
        let claims = cookies(headers)
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| self.frontend_claims(v))
            .filter(|c| c.get("code").and_then(Value::as_str) == Some(code.as_str()))
            .ok_or(VerifyError::NotAuthorized)?;
        let user = match claims.get("user").filter(|u| u.is_object()) {
            Some(u) => parse_user(&u.to_string()).map_err(|_| VerifyError::NotAuthorized)?,
            None => None,
        };
        let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(PluginRequest {
            user,
            tenant: text("tenant"),
            tenant_host: None,
            registration: text("registration"),
            frontend_code: Some(code),
        })
    }

    /// `unAuthorizeUrl`: clears the caller's `token_<code>` cookie; answers `"OK"`.
    ///
    /// # Errors
    ///
    /// As [`verify_cookie`](Self::verify_cookie).
    pub fn un_authorize(&self, headers: &HeaderMap) -> Result<FrontendAnswer, VerifyError> {
        let req = self.verify_cookie(headers)?;
        let code = req.frontend_code.unwrap_or_default();
        Ok(FrontendAnswer {
            body: Value::String("OK".into()),
            set_cookies: vec![self.cookie(&format!("{COOKIE_PREFIX}{code}"), "", 0)],
        })
    }
}
