//! The in-memory database and the token logic of the fake Qelos.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::MockConfig;
use crate::jwt;
use crate::util::{encode_if_needed, iso, now_ms, now_s, object_id};

/// One entry of a user's server-side token registry (kind and workspace mirror Qelos's record).
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub(crate) struct TokenEntry {
    pub(crate) kind: &'static str,
    pub(crate) identifier: String,
    pub(crate) related: Option<String>,
    pub(crate) workspace: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct UserRec {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) full_name: String,
    pub(crate) roles: Vec<String>,
    pub(crate) password: String,
    pub(crate) profile_image: Option<String>,
    pub(crate) birth_date: Option<String>,
    pub(crate) tokens: Vec<TokenEntry>,
}

#[derive(Clone, Debug)]
pub(crate) struct MemberRec {
    pub(crate) id: String,
    pub(crate) user: String,
    pub(crate) roles: Vec<String>,
    pub(crate) created: String,
}

#[derive(Clone, Debug)]
pub(crate) struct WorkspaceRec {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) name: String,
    pub(crate) logo: Option<String>,
    pub(crate) labels: Vec<String>,
    pub(crate) members: Vec<MemberRec>,
    pub(crate) created: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Permission {
    pub(crate) operation: &'static str,
    pub(crate) scope: &'static str,
    pub(crate) role_based: Vec<String>,
    pub(crate) guest: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Property {
    pub(crate) kind: &'static str,
    pub(crate) required: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct BlueprintRec {
    pub(crate) permission_scope: &'static str,
    pub(crate) permissions: Vec<Permission>,
    pub(crate) properties: Vec<(String, Property)>,
}

#[derive(Clone, Debug)]
pub(crate) struct EntityRec {
    pub(crate) tenant: String,
    pub(crate) identifier: String,
    pub(crate) blueprint: String,
    pub(crate) user: Option<String>,
    pub(crate) workspace: Option<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) created_ms: u64,
    pub(crate) created: String,
}

#[derive(Clone, Debug)]
pub(crate) struct ApiTokenRec {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) user: String,
    pub(crate) workspace: Option<String>,
    pub(crate) nickname: String,
    pub(crate) hash: String,
    pub(crate) prefix: String,
    pub(crate) expires_ms: u64,
    pub(crate) last_used: Option<String>,
    pub(crate) usage_count: u64,
    pub(crate) created: String,
}

#[derive(Default)]
pub(crate) struct Db {
    pub(crate) users: Vec<UserRec>,
    pub(crate) workspaces: Vec<WorkspaceRec>,
    pub(crate) blueprints: HashMap<String, BlueprintRec>,
    pub(crate) entities: Vec<EntityRec>,
    pub(crate) api_tokens: Vec<ApiTokenRec>,
    /// Tokens the test controls expired.
    pub(crate) revoked: HashSet<String>,
    /// Cookie rotation locks: identifier → until (ms).
    pub(crate) rotation_locks: HashMap<String, u64>,
}

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub(crate) struct Principal {
    pub(crate) user_id: String,
    pub(crate) tenant: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) roles: Vec<String>,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) full_name: String,
    /// The credential's workspace claim, verbatim.
    pub(crate) workspace: Option<Value>,
    pub(crate) kind: CredentialKind,
    /// The cookie JWT's identifier (cookie sessions).
    pub(crate) identifier: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CredentialKind {
    Cookie,
    Bearer,
    ApiToken,
}

impl Principal {
    pub(crate) fn is_privileged(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }
    pub(crate) fn workspace_id(&self) -> Option<String> {
        self.workspace
            .as_ref()
            .and_then(|w| w.get("_id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }
}

/// The whole fake: config + database.
pub(crate) struct Store {
    pub(crate) config: MockConfig,
    db: Mutex<Db>,
}

pub(crate) fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn identifier_at(ms: u64) -> String {
    use base64::Engine as _;
    let rnd = format!("0.{}", rand::random::<u64>());
    format!(
        "{ms}:{}",
        base64::engine::general_purpose::STANDARD.encode(rnd.as_bytes())
    )
}

pub(crate) fn identifier_created_ms(identifier: &str) -> Option<u64> {
    identifier.split(':').next()?.parse().ok()
}

impl Store {
    pub(crate) fn new(config: MockConfig) -> Self {
        Self {
            config,
            db: Mutex::new(Db::default()),
        }
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The `{_id,name,roles,labels}` workspace claim of `user` in `ws` (name encoded).
    pub(crate) fn workspace_claim(
        db: &Db,
        user_id: &str,
        ws_id: &str,
        encode: bool,
    ) -> Option<Value> {
        let ws = db.workspaces.iter().find(|w| w.id == ws_id)?;
        let roles = ws
            .members
            .iter()
            .find(|m| m.user == user_id)
            .map(|m| m.roles.clone())
            .unwrap_or_else(|| vec!["admin".into()]);
        let name = if encode {
            encode_if_needed(&ws.name)
        } else {
            ws.name.clone()
        };
        Some(json!({"_id": ws.id, "name": name, "roles": roles, "labels": ws.labels}))
    }

    pub(crate) fn first_membership(db: &Db, user_id: &str) -> Option<String> {
        db.workspaces
            .iter()
            .find(|w| w.members.iter().any(|m| m.user == user_id))
            .map(|w| w.id.clone())
    }

    fn user_claims(user: &UserRec, workspace: Option<Value>) -> Map<String, Value> {
        let mut c = Map::new();
        if let Some(ws) = workspace {
            c.insert("workspace".into(), ws);
        }
        c.insert("sub".into(), json!(user.id));
        c.insert("tenant".into(), json!(user.tenant));
        c.insert("username".into(), json!(user.username));
        c.insert("email".into(), json!(user.email));
        c.insert("fullName".into(), json!(encode_if_needed(&user.full_name)));
        c.insert(
            "firstName".into(),
            json!(encode_if_needed(&user.first_name)),
        );
        c.insert("lastName".into(), json!(encode_if_needed(&user.last_name)));
        c.insert("roles".into(), json!(user.roles));
        if let Some(img) = &user.profile_image {
            c.insert("profileImage".into(), json!(img));
        }
        c
    }

    /// An OAuth access JWT (no identifier).
    pub(crate) fn access_jwt(
        &self,
        user: &UserRec,
        workspace: Option<Value>,
        ttl: Duration,
        expired: bool,
    ) -> String {
        let now = now_s();
        let mut c = Self::user_claims(user, workspace);
        c.insert("iat".into(), json!(now));
        // Unique per token: two tokens issued in one second must not be the same string, or
        // `expire_token` on one would expire the other.
        c.insert(
            "jti".into(),
            json!(format!("{:016x}", rand::random::<u64>())),
        );
        let exp = if expired {
            now.saturating_sub(60)
        } else {
            now + ttl.as_secs().max(1)
        };
        c.insert("exp".into(), json!(exp));
        jwt::sign(&Value::Object(c), &self.config.jwt_secret)
    }

    /// A registered refresh JWT for `user` (mutates the user's registry).
    pub(crate) fn refresh_jwt(
        &self,
        user: &mut UserRec,
        related: &str,
        workspace: Option<String>,
    ) -> String {
        let now = now_s();
        let identifier = identifier_at(now_ms());
        let mut c = json!({"sub": user.id, "tenant": user.tenant, "tokenIdentifier": identifier,
            "iat": now, "exp": now + self.config.refresh_ttl.as_secs().max(1)});
        if let Some(ws) = &workspace {
            c["workspace"] = json!(ws);
        }
        user.tokens.push(TokenEntry {
            kind: "oauth",
            identifier,
            related: Some(related.to_owned()),
            workspace,
        });
        jwt::sign(&c, &self.config.refresh_secret)
    }

    /// A registered cookie JWT whose identifier was created `age` ago.
    pub(crate) fn cookie_jwt(
        &self,
        user: &mut UserRec,
        workspace: Option<Value>,
        age: Duration,
        ttl: Duration,
        register: bool,
    ) -> (String, String) {
        let now = now_s();
        let created = now_ms().saturating_sub(age.as_millis() as u64);
        let identifier = identifier_at(created);
        let ws_id = workspace
            .as_ref()
            .and_then(|w| w.get("_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut c = Self::user_claims(user, workspace);
        c.insert("tokenIdentifier".into(), json!(identifier));
        c.insert("iat".into(), json!(now));
        c.insert("exp".into(), json!(now + ttl.as_secs().max(1)));
        if register {
            user.tokens.push(TokenEntry {
                kind: "cookie",
                identifier: identifier.clone(),
                related: None,
                workspace: ws_id,
            });
        }
        (
            jwt::sign(&Value::Object(c), &self.config.jwt_secret),
            identifier,
        )
    }

    /// `Set-Cookie` for the session cookie of `tenant`.
    pub(crate) fn session_cookie(&self, tenant: &str, value: &str, domain: Option<&str>) -> String {
        let max_age = self.config.cookie_ttl.as_secs();
        let expires = crate::util::http_date(now_ms() + max_age * 1000);
        let domain = domain.map(|d| format!("; Domain={d}")).unwrap_or_default();
        format!(
            "{}={value}; Max-Age={max_age}{domain}; Path=/api; Expires={expires}; HttpOnly; Secure; SameSite=None",
            cookie_name(tenant)
        )
    }

    /// `Set-Cookie` that clears the session cookie.
    pub(crate) fn clear_session_cookie(&self, tenant: &str, domain: Option<&str>) -> String {
        let domain = domain.map(|d| format!("; Domain={d}")).unwrap_or_default();
        format!(
            "{}=; Max-Age=-1{domain}; Path=/api; Expires={}; HttpOnly; Secure; SameSite=None",
            cookie_name(tenant),
            crate::util::http_date(now_ms())
        )
    }

    pub(crate) fn verify_access(&self, token: &str, db: &Db) -> Option<Value> {
        if db.revoked.contains(token) {
            return None;
        }
        jwt::verify(token, &self.config.jwt_secret, now_s())
    }

    pub(crate) fn principal_from_claims(claims: &Value, kind: CredentialKind) -> Option<Principal> {
        let s = |k: &str| {
            claims
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let decode = |k: &str| {
            let v = s(k);
            crate::util::decode_component(&v)
        };
        Some(Principal {
            user_id: claims.get("sub")?.as_str()?.to_owned(),
            tenant: s("tenant"),
            username: s("username"),
            email: s("email"),
            roles: claims
                .get("roles")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            first_name: decode("firstName"),
            last_name: decode("lastName"),
            full_name: decode("fullName"),
            workspace: claims.get("workspace").cloned(),
            kind,
            identifier: claims
                .get("tokenIdentifier")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    pub(crate) fn api_token_principal(
        &self,
        db: &mut Db,
        raw: &str,
        tenant: &str,
    ) -> Option<Principal> {
        if !raw.starts_with("ql_") || db.revoked.contains(raw) {
            return None;
        }
        let hash = sha256_hex(raw);
        let now = now_ms();
        let rec = db
            .api_tokens
            .iter_mut()
            .find(|t| t.hash == hash && t.tenant == tenant && t.expires_ms > now)?;
        rec.usage_count += 1;
        rec.last_used = Some(iso(now));
        let (user_id, ws_id) = (rec.user.clone(), rec.workspace.clone());
        let user = db
            .users
            .iter()
            .find(|u| u.id == user_id && u.tenant == tenant)?
            .clone();
        let workspace = match ws_id {
            Some(ws) => {
                let member = db
                    .workspaces
                    .iter()
                    .any(|w| w.id == ws && w.members.iter().any(|m| m.user == user.id));
                if !member {
                    return None;
                }
                Self::workspace_claim(db, &user.id, &ws, false)
            }
            None => None,
        };
        Some(Principal {
            user_id: user.id.clone(),
            tenant: user.tenant.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            roles: user.roles.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            full_name: user.full_name.clone(),
            workspace,
            kind: CredentialKind::ApiToken,
            identifier: None,
        })
    }

    /// Seeds the default data; returns it.
    pub(crate) fn seed(&self) -> crate::Seed {
        let mut db = self.db();
        let created = iso(now_ms());
        let admin = UserRec {
            id: object_id(),
            tenant: "0".into(),
            username: "test@test.com".into(),
            email: "test@test.com".into(),
            first_name: "Test".into(),
            last_name: "Admin".into(),
            full_name: "Test Admin".into(),
            roles: vec!["admin".into(), "user".into()],
            password: "admin".into(),
            profile_image: None,
            birth_date: None,
            tokens: Vec::new(),
        };
        let user = UserRec {
            id: object_id(),
            username: "user@test.com".into(),
            email: "user@test.com".into(),
            first_name: "Plain".into(),
            last_name: "User".into(),
            full_name: "Plain User".into(),
            roles: vec!["user".into()],
            password: "user1234".into(),
            ..admin.clone()
        };
        let member = |u: &UserRec, roles: &[&str]| MemberRec {
            id: object_id(),
            user: u.id.clone(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            created: created.clone(),
        };
        let acme = WorkspaceRec {
            id: object_id(),
            tenant: "0".into(),
            name: "Acme Inc".into(),
            logo: None,
            labels: vec!["team".into()],
            members: vec![member(&admin, &["admin", "user"]), member(&user, &["user"])],
            created: created.clone(),
        };
        let beta = WorkspaceRec {
            id: object_id(),
            tenant: "0".into(),
            name: "Beta Labs".into(),
            logo: None,
            labels: vec![],
            members: vec![member(&admin, &["admin", "user"])],
            created: created.clone(),
        };
        let crud = |roles: &[&str], scope: &'static str| {
            ["create", "read", "update", "delete"]
                .into_iter()
                .map(|op| Permission {
                    operation: op,
                    scope,
                    role_based: roles.iter().map(|r| (*r).to_owned()).collect(),
                    guest: false,
                })
                .collect::<Vec<_>>()
        };
        let prop = |kind, required| Property { kind, required };
        db.blueprints.insert(
            "products".into(),
            BlueprintRec {
                permission_scope: "workspace",
                permissions: crud(&["*"], "workspace"),
                properties: vec![
                    ("name".into(), prop("string", true)),
                    ("price".into(), prop("number", false)),
                    ("category".into(), prop("string", false)),
                    ("inStock".into(), prop("boolean", false)),
                ],
            },
        );
        db.blueprints.insert(
            "audit".into(),
            BlueprintRec {
                permission_scope: "user",
                permissions: crud(&["auditor"], "user"),
                properties: vec![
                    ("name".into(), prop("string", true)),
                    ("action".into(), prop("string", false)),
                ],
            },
        );
        let seed = crate::Seed {
            admin: crate::SeedUser {
                id: admin.id.clone(),
                username: admin.username.clone(),
                password: admin.password.clone(),
            },
            user: crate::SeedUser {
                id: user.id.clone(),
                username: user.username.clone(),
                password: user.password.clone(),
            },
            workspaces: [&acme, &beta]
                .iter()
                .map(|w| crate::SeedWorkspace {
                    id: w.id.clone(),
                    name: w.name.clone(),
                })
                .collect(),
            blueprints: vec!["products".into(), "audit".into()],
        };
        db.users.extend([admin, user]);
        db.workspaces.extend([acme, beta]);
        seed
    }
}

/// `qlt_` + first 8 characters of the tenant.
pub(crate) fn cookie_name(tenant: &str) -> String {
    format!("qlt_{}", tenant.chars().take(8).collect::<String>())
}
