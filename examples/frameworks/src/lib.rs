//! What the five framework examples share: where Qelos is, the port, and the greeting.
//!
//! Run one with `cargo run -p framework-examples --bin <axum|actix|poem|rocket|warp>`. Without
//! `QELOS_APP_URL`, an in-process `qelos-mock` plays Qelos and its seeded login is printed.

#![forbid(unsafe_code)]

use qelos_integrator_core::{QelosConfig, QelosContext};

/// The error type of the examples' `main`.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The config from the environment (`QELOS_APP_URL`, …), or one for an embedded `qelos-mock`
/// (returned too: it lives as long as the handle). The same-origin `/api` proxy is on.
///
/// # Errors
///
/// Invalid configuration, or the embedded mock failing to start.
pub async fn qelos() -> Result<(QelosConfig, Option<qelos_mock::MockServer>), Error> {
    if std::env::var("QELOS_APP_URL").is_ok_and(|v| !v.trim().is_empty()) {
        return Ok((
            QelosConfig::builder_from_env()?.api_proxy(true).build()?,
            None,
        ));
    }
    let mock = qelos_mock::MockServer::start().await?;
    let admin = &mock.seed().admin;
    println!(
        "QELOS_APP_URL is not set: an embedded qelos-mock plays Qelos at {} (sign in as {} / {})",
        mock.url(),
        admin.username,
        admin.password
    );
    let config = QelosConfig::builder(mock.url()).api_proxy(true).build()?;
    Ok((config, Some(mock)))
}

/// `PORT`, default 8080.
pub fn port() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080)
}

/// Prints where the app listens and how to try it.
pub fn announce(framework: &str, port: u16) {
    println!(
        "{framework} example on http://127.0.0.1:{port}\n  curl -i -c jar -H 'content-type: application/json' \
         -d '{{\"username\":\"test@test.com\",\"password\":\"admin\"}}' 127.0.0.1:{port}/login\n  \
         curl -b jar 127.0.0.1:{port}/secret"
    );
}

/// The greeting of `GET /`: who is calling, and in which workspace.
pub fn greeting(ctx: &QelosContext) -> String {
    match ctx.user() {
        Some(user) => format!(
            "hello {} (workspace: {})\n",
            user.username,
            ctx.workspace().map_or("none", |w| w.name.as_str())
        ),
        None => "hello, anonymous: POST /login to sign in\n".to_owned(),
    }
}
