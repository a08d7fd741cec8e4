//! What every contract app answers, independent of its framework.
//!
//! A contract app has these routes (`docs/contract.md` lists them with the scenarios):
//!
//! | route | extractor | body |
//! |---|---|---|
//! | `GET /me`, `GET /tenant/me`, `GET /api/own` | context | [`me_json`] |
//! | `GET /secret` | require a user | [`me_json`] |
//! | `GET /health`, `/health/db`, `/healthz` | `Option` of the context | [`health_json`] |
//! | `GET /sdk/me?delay_ms=N` | context | [`sdk_me`] after sleeping N ms |
//! | `GET\|POST /entities/{blueprint}`, `GET\|PUT\|DELETE /entities/{blueprint}/{id}` | context | [`entity`] |
//! | `GET /plain` | none: a plain string handler | [`PLAIN`] |
//! | `GET /maybe-user` | the signed-in-only extractor | [`maybe_user_json`] |
//! | `GET /health/user` | require a user, under a skip path | 401 `UNAUTHORIZED` |
//! | `GET /private/me` | context, under `require_auth_under("/private")` in s26 | [`me_json`] |
//! | `GET /private/plain` | none, under `require_auth_under("/private")` in s26 | [`PLAIN`] |
//! | `GET /own/unauthorized` | none: fails with the framework's "unauthorized" error | the app's own 401 handler: [`app_unauthorized_json`] |
//! | `GET /bare/me` | the context extractor, **outside** the middleware | 500 `QELOS_MIDDLEWARE_MISSING` |
//! | anything else | the app's own not-found handler | 404 [`not_found_json`] |
//!
//! Its middleware is configured with [`config_builder`] (skip path `/health`) and
//! [`tenant_resolver`].

use qelos_integrator_core::qelos_sdk::{self, QelosSdk, User, Workspace};
use qelos_integrator_core::{QelosConfig, QelosConfigBuilder, QelosContext, RequestHead};
use serde_json::{Value, json};

/// The `/me` body: `{"userId","username","workspaceId","workspaceName","workspaceCount"}`,
/// nulls and 0 when anonymous or without context.
pub fn me_json(ctx: Option<&QelosContext>) -> Value {
    let user = ctx.and_then(QelosContext::user);
    let workspace = ctx.and_then(QelosContext::workspace);
    json!({
        "userId": user.map(|u| u.id.clone()),
        "username": user.map(|u| u.username.clone()),
        "workspaceId": workspace.map(|w| w.id.clone()),
        "workspaceName": workspace.map(|w| w.name.clone()),
        "workspaceCount": ctx.map_or(0, |c| c.workspaces().len()),
    })
}

/// The `/health` body: `{"ok":true,"hasContext":bool}`.
pub fn health_json(has_context: bool) -> Value {
    json!({ "ok": true, "hasContext": has_context })
}

/// The `/maybe-user` body (the signed-in-only extractor): `{"signedIn":bool}`.
pub fn maybe_user_json(signed_in: bool) -> Value {
    json!({ "signedIn": signed_in })
}

/// The body of the contract apps' own not-found handler (not the integrator's).
pub fn not_found_json() -> Value {
    json!({ "code": "APP_NOT_FOUND" })
}

/// The body of the contract apps' own 401 handler (not the integrator's).
pub fn app_unauthorized_json() -> Value {
    json!({ "code": "APP_UNAUTHORIZED" })
}

/// The body of `/plain`: a handler with no Qelos extractor, answering a plain string.
pub const PLAIN: &str = "plain";

/// The contract apps' workspace resolver: the workspace named (by name or id) in the
/// `x-tenant` header, else the default choice.
pub fn tenant_resolver()
-> impl Fn(&RequestHead, &User, &[Workspace]) -> Option<Workspace> + Send + Sync + 'static {
    |req: &RequestHead, user: &User, workspaces: &[Workspace]| match req.header_str("x-tenant") {
        Some(wanted) => workspaces
            .iter()
            .find(|w| w.name == wanted || w.id == wanted)
            .cloned(),
        None => qelos_integrator_core::workspace::active_or_first(user, workspaces),
    }
}

/// The contract apps' configuration: `app_url`, skip path `/health`.
pub fn config_builder(app_url: &str) -> QelosConfigBuilder {
    QelosConfig::builder(app_url)
        .skip_path("/health")
        .api_proxy(true)
}

/// The configuration of a contract app started by hand: `QELOS_APP_URL` and the other
/// `QELOS_*` variables, plus skip path `/health`.
///
/// # Errors
///
/// The configuration errors of [`QelosConfig::builder_from_env`].
pub fn config_from_env() -> Result<QelosConfig, qelos_integrator_core::ConfigError> {
    QelosConfig::builder_from_env()?
        .skip_path("/health")
        .api_proxy(true)
        .build()
}

/// The port a contract app listens on: `PORT`, default 8080.
pub fn port_from_env() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080)
}

/// A status and JSON body, what every contract route returns.
pub type Reply = (u16, Value);

/// The JSON an SDK error is answered with: its own status (502 for an outage) and
/// `{"code":"QELOS_API_ERROR","status":…,"message":…}`.
pub fn sdk_error(err: &qelos_sdk::Error) -> Reply {
    let status = match err.status() {
        Some(s) if (400..500).contains(&s) => s,
        _ => 502,
    };
    (
        status,
        json!({ "code": "QELOS_API_ERROR", "status": err.status(), "message": err.to_string() }),
    )
}

/// `GET /sdk/me`: the user as seen by a call the handler makes itself through the request
/// SDK (which refreshes on its own when the token expired in the meantime).
pub async fn sdk_me(ctx: &QelosContext) -> Reply {
    match ctx.sdk().get_logged_in_user().await {
        Ok(user) => (200, json!({ "userId": user.id, "username": user.username })),
        Err(err) => sdk_error(&err),
    }
}

/// An entity operation of the `/entities` routes.
#[derive(Debug)]
pub enum EntityOp {
    /// `GET /entities/{blueprint}`
    List,
    /// `GET /entities/{blueprint}/{id}`
    Get(String),
    /// `POST /entities/{blueprint}` with a JSON body
    Create(Value),
    /// `PUT /entities/{blueprint}/{id}` with a JSON body
    Update(String, Value),
    /// `DELETE /entities/{blueprint}/{id}`
    Delete(String),
}

/// Runs an entity operation through the request SDK and answers its JSON, or the SDK error.
pub async fn entity(sdk: &QelosSdk, blueprint: &str, op: EntityOp) -> Reply {
    let entities = sdk.entities::<Value>(blueprint);
    let result = match op {
        EntityOp::List => entities
            .list(&Default::default())
            .await
            .map(|list| json!(list)),
        EntityOp::Get(id) => entities.get(&id).await.map(|e| json!(e)),
        EntityOp::Create(body) => entities.create(&body).await.map(|e| json!(e)),
        EntityOp::Update(id, body) => entities.update(&id, &body).await.map(|e| json!(e)),
        EntityOp::Delete(id) => entities
            .remove(&id)
            .await
            .map(|()| json!({ "deleted": id })),
    };
    match result {
        Ok(body) => (200, body),
        Err(err) => sdk_error(&err),
    }
}

/// Parses `delay_ms` from a query string (absent or bad: 0).
pub fn delay_from_query(query: Option<&str>) -> std::time::Duration {
    let ms = query
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("delay_ms="))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        .min(10_000);
    std::time::Duration::from_millis(ms)
}

/// Keeps an embedded `qelos-mock` alive while a hand-started contract app runs.
pub type EmbeddedQelos = Option<qelos_mock::MockServer>;

/// The configuration of a contract app started by hand: from the environment when
/// `QELOS_APP_URL` is set, else against an embedded `qelos-mock` (started here, on a free port),
/// whose seeded logins are printed.
///
/// # Errors
///
/// Configuration errors, or the embedded mock failing to start.
pub async fn config_or_embedded_mock()
-> Result<(QelosConfig, EmbeddedQelos), Box<dyn std::error::Error + Send + Sync>> {
    if std::env::var("QELOS_APP_URL").is_ok_and(|v| !v.trim().is_empty()) {
        return Ok((config_from_env()?, None));
    }
    let mock = qelos_mock::MockServer::start().await?;
    let admin = &mock.seed().admin;
    println!(
        "QELOS_APP_URL is not set: using an embedded qelos-mock at {} (sign in as {} / {})",
        mock.url(),
        admin.username,
        admin.password
    );
    let mut builder = config_builder(&mock.url());
    if let Some(port) = std::env::var("QELOS_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        builder = builder.timeout(std::time::Duration::from_millis(port));
    }
    Ok((builder.build()?, Some(mock)))
}
