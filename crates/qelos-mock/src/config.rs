//! Configuration of the fake server.

use std::net::SocketAddr;
use std::time::Duration;

/// How a [`MockServer`](crate::MockServer) behaves. Defaults follow Qelos's own.
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Address to bind (default `127.0.0.1:0`, a free port).
    pub addr: SocketAddr,
    /// OAuth access-token lifetime (Qelos: 5 h).
    pub access_ttl: Duration,
    /// Refresh-token lifetime (30 d).
    pub refresh_ttl: Duration,
    /// Session-cookie lifetime (30 d).
    pub cookie_ttl: Duration,
    /// Age after which a session cookie is rotated on use (30 min).
    pub cookie_rotation_age: Duration,
    /// Serve the test controls under `/__mock` (default on).
    pub controls: bool,
    /// The tenant's auth config allows users to manage API tokens (default on).
    pub allow_api_tokens: bool,
    /// Seed the default users, workspaces and blueprints (default on).
    pub seed: bool,
    /// Record requests for [`MockServer::requests`](crate::MockServer::requests) (default on).
    pub record_requests: bool,
    /// HS256 secret of access and cookie JWTs (Qelos default `abcddddd`).
    pub jwt_secret: String,
    /// HS256 secret of refresh JWTs.
    pub refresh_secret: String,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            access_ttl: Duration::from_secs(5 * 3600),
            refresh_ttl: Duration::from_secs(30 * 86_400),
            cookie_ttl: Duration::from_secs(30 * 86_400),
            cookie_rotation_age: Duration::from_secs(30 * 60),
            controls: true,
            allow_api_tokens: true,
            seed: true,
            record_requests: true,
            jwt_secret: "abcddddd".into(),
            refresh_secret: "a secret 2 phrase!!".into(),
        }
    }
}
