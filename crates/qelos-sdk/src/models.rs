//! Typed shapes of the Qelos API. Every type keeps the fields it does not name in `extra`, so
//! serialising gives the API's JSON back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::{Secret, TokenPair};

/// The signed-in user, as `GET /api/me` returns it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct User {
    /// The user id (`_id`).
    #[serde(rename = "_id")]
    pub id: String,
    /// Username (often the email).
    #[serde(default)]
    pub username: String,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Full name (`fullName`), URI-decoded.
    #[serde(rename = "fullName", default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// First name (`firstName`), URI-decoded.
    #[serde(rename = "firstName", default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name (`lastName`), URI-decoded.
    #[serde(rename = "lastName", default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Tenant roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Tenant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The active workspace of the credential; absent when none is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<Workspace>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl User {
    /// Percent-decodes the name fields Qelos stores URI-encoded in JWTs (as the TS SDK does).
    pub(crate) fn decode_names(&mut self) {
        for field in [
            &mut self.full_name,
            &mut self.first_name,
            &mut self.last_name,
        ] {
            if let Some(v) = field.as_mut() {
                *v = decode_component(v);
            }
        }
        if let Some(Value::String(name)) = self.extra.get_mut("name") {
            *name = decode_component(name);
        }
        if let Some(ws) = self.workspace.as_mut() {
            ws.name = decode_component(&ws.name);
        }
    }
}

/// `decodeURIComponent` that leaves undecodable text as it was.
pub(crate) fn decode_component(v: &str) -> String {
    if !v.contains('%') {
        return v.to_owned();
    }
    percent_encoding::percent_decode_str(v)
        .decode_utf8()
        .map_or_else(|_| v.to_owned(), |s| s.into_owned())
}

/// A workspace (from `/api/workspaces`, `/api/me`, ...).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Workspace {
    /// Workspace id (`_id`).
    #[serde(rename = "_id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The caller's roles in it (when the API says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Every other field (`tenant`, `members`, `logo`, `isPrivilegedUser`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// `User` and `Workspace` are read on every signed-in request: in one pass, without the copy of
// the whole object that `#[serde(flatten)]` makes (see `object.rs`). The names and field types
// are those of the `#[serde]` attributes above.

crate::object::object_fields!(User, "a user object", {
    0 "_id" => id,
    1 "username" => username,
    2 "email" => email,
    3 "fullName" => full_name,
    4 "firstName" => first_name,
    5 "lastName" => last_name,
    6 "roles" => roles,
    7 "tenant" => tenant,
    8 "workspace" => workspace,
});

crate::object::object_fields!(Workspace, "a workspace object", {
    0 "_id" => id,
    1 "name" => name,
    2 "roles" => roles,
    3 "labels" => labels,
});

/// Sign-in credentials.
///
/// # Examples
///
/// ```
/// let c = qelos_sdk::Credentials::new("test@test.com", "admin").workspace("6660…");
/// assert!(!format!("{c:?}").contains("admin\""));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Credentials {
    /// Username or email.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// Workspace to activate (OAuth sign-in chooses it here).
    pub workspace: Option<String>,
    /// Only succeed if the user holds one of these roles.
    pub roles: Option<Vec<String>>,
}

impl Credentials {
    /// Username and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: Secret::new(password.into()),
            workspace: None,
            roles: None,
        }
    }
    /// Choose the workspace to sign in to.
    #[must_use]
    pub fn workspace(mut self, id: impl Into<String>) -> Self {
        self.workspace = Some(id.into());
        self
    }
    /// Only succeed if the user holds one of `roles`.
    #[must_use]
    pub fn roles(mut self, roles: Vec<String>) -> Self {
        self.roles = Some(roles);
        self
    }
    pub(crate) fn body(&self, auth_type: &str) -> Value {
        let mut body = serde_json::json!({
            "username": self.username,
            "password": self.password.expose(),
            "authType": auth_type,
        });
        if let Some(ws) = &self.workspace {
            body["workspace"] = Value::String(ws.clone());
        }
        if let Some(roles) = &self.roles {
            body["roles"] = serde_json::json!(roles);
        }
        body
    }
}

/// Sign-up details: [`Signup::new`], then [`last_name`](Signup::last_name).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Signup {
    /// Username.
    pub username: String,
    /// Password (at least 8 characters).
    pub password: Secret,
    /// Email.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: Option<String>,
}

impl Signup {
    /// The required fields.
    pub fn new(
        username: impl Into<String>,
        password: Secret,
        email: impl Into<String>,
        first_name: impl Into<String>,
    ) -> Self {
        Self {
            username: username.into(),
            password,
            email: email.into(),
            first_name: first_name.into(),
            last_name: None,
        }
    }
    /// Sets the last name.
    #[must_use]
    pub fn last_name(mut self, last_name: impl Into<String>) -> Self {
        self.last_name = Some(last_name.into());
        self
    }
    pub(crate) fn body(&self, auth_type: &str) -> Value {
        let mut body = serde_json::json!({
            "username": self.username,
            "password": self.password.expose(),
            "email": self.email,
            "firstName": self.first_name,
            "authType": auth_type,
        });
        if let Some(last) = &self.last_name {
            body["lastName"] = Value::String(last.clone());
        }
        body
    }
}

/// `Debug` of `Set-Cookie` values: names and attributes, never the value.
struct RedactedCookies<'a>(&'a [String]);

impl std::fmt::Debug for RedactedCookies<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|c| redact_set_cookie(c)))
            .finish()
    }
}

/// `qlt_0=<jwt>; Path=/api` → `qlt_0=***; Path=/api`.
pub(crate) fn redact_set_cookie(set_cookie: &str) -> String {
    let (pair, attributes) = set_cookie
        .split_once(';')
        .map_or((set_cookie, None), |(p, a)| (p, Some(a)));
    let name = pair.split_once('=').map_or(pair, |(n, _)| n).trim();
    match attributes {
        Some(a) => format!("{name}=***;{a}"),
        None => format!("{name}=***"),
    }
}

/// Result of a cookie-mode sign-in or sign-up. `Debug` redacts the cookie values.
#[derive(Clone)]
pub struct SigninResponse {
    /// `payload.user` (no `_id` on this endpoint).
    pub user: Value,
    /// `payload.workspace`, when one is active.
    pub workspace: Option<Workspace>,
    /// The `Set-Cookie` values (the `qlt_…` session cookie) to forward to the browser.
    pub set_cookies: Vec<String>,
}

/// Result of an OAuth sign-in or sign-up.
#[derive(Clone, Debug)]
pub struct OAuthSignin {
    /// The new token pair.
    pub tokens: TokenPair,
    /// `payload.user`.
    pub user: Value,
    /// `payload.workspace`, when one is active.
    pub workspace: Option<Workspace>,
}

/// Result of `POST /api/cookie/refresh`. `Debug` redacts the cookie and its value.
#[derive(Clone)]
pub struct CookieRefresh {
    /// The new session cookie JWT.
    pub cookie_token: Secret,
    /// `payload.user`.
    pub user: Value,
    /// `payload.workspace`.
    pub workspace: Option<Value>,
    /// The `Set-Cookie` values.
    pub set_cookies: Vec<String>,
}

/// Result of `POST /api/auth/callback` (social login). `Debug` redacts the cookie values.
#[derive(Clone)]
pub struct AuthCallback {
    /// `payload.user`: the user document, without its `password`, `salt` and `tokens` fields.
    pub user: Value,
    /// `payload.workspace`.
    pub workspace: Option<Value>,
    /// The session cookies to forward.
    pub set_cookies: Vec<String>,
}

impl std::fmt::Debug for SigninResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigninResponse")
            .field("user", &self.user)
            .field("workspace", &self.workspace)
            .field("set_cookies", &RedactedCookies(&self.set_cookies))
            .finish()
    }
}

impl std::fmt::Debug for CookieRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieRefresh")
            .field("cookie_token", &self.cookie_token)
            .field("user", &self.user)
            .field("workspace", &self.workspace)
            .field("set_cookies", &RedactedCookies(&self.set_cookies))
            .finish()
    }
}

impl std::fmt::Debug for AuthCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCallback")
            .field("user", &self.user)
            .field("workspace", &self.workspace)
            .field("set_cookies", &RedactedCookies(&self.set_cookies))
            .finish()
    }
}

/// Fields of `POST /api/me`; `None` leaves a field alone. `UserUpdate::default()`, then the
/// setters.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct UserUpdate {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Full name.
    pub full_name: Option<String>,
    /// Profile image URL (`""` clears it).
    pub profile_image: Option<String>,
    /// Birth date.
    pub birth_date: Option<String>,
    /// New password.
    pub password: Option<Secret>,
}

macro_rules! update_setters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, value: impl Into<String>) -> Self {
                self.$name = Some(value.into());
                self
            }
        )*
    };
}

impl UserUpdate {
    update_setters! {
        /// Sets the first name.
        first_name,
        /// Sets the last name.
        last_name,
        /// Sets the full name.
        full_name,
        /// Sets the profile image URL (`""` clears it).
        profile_image,
        /// Sets the birth date.
        birth_date,
    }
    /// Sets a new password.
    #[must_use]
    pub fn password(mut self, password: Secret) -> Self {
        self.password = Some(password);
        self
    }
    pub(crate) fn body(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_owned(), Value::String(v.clone()));
            }
        };
        put("firstName", &self.first_name);
        put("lastName", &self.last_name);
        put("fullName", &self.full_name);
        put("profileImage", &self.profile_image);
        put("birthDate", &self.birth_date);
        if let Some(p) = &self.password {
            m.insert("password".into(), Value::String(p.expose().to_owned()));
        }
        Value::Object(m)
    }
}

/// An API token as listed (never the token itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiTokenInfo {
    /// Token id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Nickname.
    #[serde(default)]
    pub nickname: String,
    /// First 8 characters of the token.
    #[serde(rename = "tokenPrefix", default)]
    pub token_prefix: String,
    /// Expiry (ISO-8601).
    #[serde(rename = "expiresAt", default)]
    pub expires_at: String,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A new API token request: [`NewApiToken::new`], then [`workspace`](NewApiToken::workspace).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct NewApiToken {
    /// Nickname.
    pub nickname: String,
    /// Expiry, ISO-8601 (must be in the future).
    pub expires_at: String,
    /// Workspace to scope it to.
    pub workspace: Option<String>,
}

impl NewApiToken {
    /// A token named `nickname` that expires at `expires_at` (ISO-8601).
    pub fn new(nickname: impl Into<String>, expires_at: impl Into<String>) -> Self {
        Self {
            nickname: nickname.into(),
            expires_at: expires_at.into(),
            workspace: None,
        }
    }
    /// Scopes the token to a workspace.
    #[must_use]
    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.workspace = Some(workspace.into());
        self
    }
}

/// A created API token: the raw token is shown once.
#[derive(Clone, Debug)]
pub struct CreatedApiToken {
    /// The raw token (`ql_…`).
    pub token: Secret,
    /// The stored record.
    pub info: ApiTokenInfo,
}

/// A new workspace: [`NewWorkspace::new`], then the setters.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct NewWorkspace {
    /// Name.
    pub name: String,
    /// Labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Logo URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
}

impl NewWorkspace {
    /// A workspace named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
    /// Sets the labels.
    #[must_use]
    pub fn labels(mut self, labels: Vec<String>) -> Self {
        self.labels = labels;
        self
    }
    /// Sets the logo URL.
    #[must_use]
    pub fn logo(mut self, logo: impl Into<String>) -> Self {
        self.logo = Some(logo.into());
        self
    }
}

/// A workspace member, as `GET /api/workspaces/:id/members` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Membership id (not the user id).
    #[serde(rename = "_id")]
    pub id: String,
    /// The user id.
    #[serde(default)]
    pub user: String,
    /// Roles in the workspace.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Every other field (`email`, `fullName`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_uri_decoded_like_decode_uri_component() {
        assert_eq!(decode_component("Acme%20Inc"), "Acme Inc");
        assert_eq!(decode_component("J%C3%BCrgen"), "Jürgen");
        assert_eq!(decode_component("100%"), "100%", "undecodable stays");
        assert_eq!(decode_component("%FF"), "%FF", "not UTF-8 stays");
        assert_eq!(decode_component("plain"), "plain");
    }

    #[test]
    fn user_decoding_covers_every_encoded_field() {
        let mut user: User = serde_json::from_value(json!({
            "_id": "u1", "username": "jane", "name": "Jane%20Doe", "fullName": "Jane%20Doe",
            "firstName": "J%C3%A9", "lastName": "D%20D", "roles": ["user"],
            "workspace": {"_id": "w1", "name": "Acme%20Inc", "roles": ["admin"], "labels": []}
        }))
        .unwrap();
        user.decode_names();
        assert_eq!(user.full_name.as_deref(), Some("Jane Doe"));
        assert_eq!(user.first_name.as_deref(), Some("Jé"));
        assert_eq!(user.last_name.as_deref(), Some("D D"));
        assert_eq!(user.extra["name"], "Jane Doe");
        assert_eq!(user.workspace.unwrap().name, "Acme Inc");
    }

    #[test]
    fn a_user_serialises_back_to_the_api_json() {
        let api = json!({"_id": "u1", "tenant": "0", "username": "jane", "email": "j@x.io",
            "phone": "+1", "fullName": "Jane", "roles": ["user"], "metadata": {},
            "workspace": {"_id": "w1", "name": "Acme", "roles": ["admin"], "labels": ["team"], "logo": "l"}});
        let user: User = serde_json::from_value(api.clone()).unwrap();
        assert_eq!(user.extra["phone"], "+1");
        assert_eq!(serde_json::to_value(&user).unwrap(), api);
    }

    #[test]
    fn a_workspace_without_roles_or_labels_has_empty_ones() {
        let ws: Workspace = serde_json::from_value(
            json!({"_id": "w", "name": "n", "members": [], "isPrivilegedUser": true}),
        )
        .unwrap();
        assert!(ws.roles.is_empty() && ws.labels.is_empty());
        assert_eq!(ws.extra["isPrivilegedUser"], true);
    }

    #[test]
    fn set_cookie_values_are_redacted_but_attributes_kept() {
        assert_eq!(
            redact_set_cookie("qlt_0=eyJsecret; Path=/api; HttpOnly"),
            "qlt_0=***; Path=/api; HttpOnly"
        );
        assert_eq!(redact_set_cookie("qlt_0=eyJsecret"), "qlt_0=***");
        assert_eq!(redact_set_cookie("garbage"), "garbage=***");
        let r = SigninResponse {
            user: Value::Null,
            workspace: None,
            set_cookies: vec!["qlt_0=eyJsecret; Path=/api".into()],
        };
        assert!(!format!("{r:?}").contains("eyJsecret"));
    }

    #[test]
    fn request_bodies_use_the_wire_names() {
        let c = Credentials {
            roles: Some(vec!["admin".into()]),
            ..Credentials::new("u", "p")
        }
        .workspace("w");
        assert_eq!(
            c.body("oauth"),
            json!({"username": "u", "password": "p", "authType": "oauth", "workspace": "w", "roles": ["admin"]})
        );
        let u = UserUpdate {
            full_name: Some("F".into()),
            password: Some(Secret::new("pw")),
            ..Default::default()
        };
        assert_eq!(u.body(), json!({"fullName": "F", "password": "pw"}));
    }
}
