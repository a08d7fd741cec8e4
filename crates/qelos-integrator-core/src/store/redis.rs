//! [`RedisStore`]: the [`SharedStore`] for several instances behind a load balancer.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::{Mutex, PoisonError};
use tracing::Instrument as _;

use super::{SharedStore, StoreError};

mod tls;
pub use tls::RedisTls;

/// Default bound on connecting to Redis and on each command's answer.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(200);
/// After [`FAILURES_TO_COOL_DOWN`] failed commands in a row with no success for
/// [`SILENCE_TO_COOL_DOWN`], Redis is skipped for this long
/// (commands fail at once and the integrator works in-process), so an outage does not add a
/// timeout to every request.
const COOL_DOWN: Duration = Duration::from_secs(1);
/// Failed commands in a row (no success between them) that make Redis count as down. One slow
/// answer under load is not an outage: skipping Redis for a second after it would send every
/// refresh of that second around the shared lock, and instances would refresh the same tokens
/// twice (found by the fault suite's refresh storm).
const FAILURES_TO_COOL_DOWN: u32 = 3;
/// ... and no command succeeded for this long. Under a load spike many commands time out
/// together while others still succeed; that is not an outage either.
const SILENCE_TO_COOL_DOWN: Duration = Duration::from_millis(1000);

/// Releases a lock only if it is still ours (compare-and-delete).
const UNLOCK_SCRIPT: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// A [`SharedStore`] on Redis: one multiplexed, auto-reconnecting connection
/// ([`ConnectionManager`]) opened on first use.
///
/// Locks are `SET key owner NX PX ttl` with a compare-and-delete release; values are
/// `SET key value PX ttl`. Every command is bounded by a short timeout
/// ([`DEFAULT_REDIS_TIMEOUT`]); after three failures in a row and a second without a success, Redis is left alone for a second. The
/// integrator falls back to in-process behaviour whenever a command fails.
///
/// `Debug` shows neither the URL (it may hold a password) nor any key.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use qelos_integrator_core::QelosConfig;
/// use qelos_integrator_core::store::redis::RedisStore;
///
/// let redis = RedisStore::new("redis://127.0.0.1:6379/0")?
///     .with_prefix("shop:qelos:")
///     .with_timeout(Duration::from_millis(100));
/// let config = QelosConfig::builder("https://app.example.com")
///     .shared_store(Arc::new(redis))
///     .shared_identity_cache(Duration::from_secs(10))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    /// The connection; `None` until first use, and again after an answer that was not Redis
    /// protocol (the next command opens a new one).
    connection: Mutex<Slot>,
    /// Milliseconds since `epoch` until which Redis is skipped (0: not skipped).
    down_until: AtomicU64,
    /// Failed commands since the last success.
    failures: AtomicU32,
    /// Milliseconds since `epoch` of the last command that succeeded (0: none yet).
    last_success: AtomicU64,
    epoch: Instant,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for the Redis at `url` (`redis://[:password@]host:port[/db]`,
    /// `redis+unix:///path`, or with the `redis-tls` feature `rediss://…`, verified against the
    /// system's root certificates). Nothing is connected yet: the connection opens on first
    /// use, so an app starts even while Redis is down. Keys get the prefix `qelos:`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for a URL the client cannot use, or a `rediss://` URL in a build
    /// without the `redis-tls` feature (the message names it).
    pub fn new(url: &str) -> Result<Self, StoreError> {
        if is_tls_url(url) {
            return Self::with_tls(url, RedisTls::default());
        }
        let client = redis::Client::open(url).map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Self::from_client(client))
    }

    /// A store for the Redis at a `rediss://` URL, verified with `tls` (a private CA, a client
    /// certificate for mutual TLS). Needs the `redis-tls` feature.
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for a URL that is not `rediss://`, unreadable PEM, or a build
    /// without `redis-tls`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use qelos_integrator_core::store::redis::{RedisStore, RedisTls};
    ///
    /// let ca = std::fs::read("/etc/redis/ca.pem")?;
    /// let store = RedisStore::with_tls("rediss://redis.internal:6380/0", RedisTls::new().root_certificate(ca))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_tls(url: &str, tls: RedisTls) -> Result<Self, StoreError> {
        if !is_tls_url(url) {
            return Err(StoreError::Config(
                "RedisStore::with_tls needs a rediss:// URL".into(),
            ));
        }
        tls::client(url, tls).map(Self::from_client)
    }

    fn from_client(client: redis::Client) -> Self {
        Self {
            client,
            prefix: "qelos:".into(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            connection: Mutex::default(),
            down_until: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            last_success: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Prefixes every key with `prefix` (default `qelos:`), to share a Redis between apps.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bounds connecting and each command by `timeout` (default [`DEFAULT_REDIS_TIMEOUT`]).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The connection commands go through, and its generation (how many connections were
    /// given up before it).
    async fn connection(&self) -> Result<(ConnectionManager, u64), StoreError> {
        let until = self.down_until.load(Ordering::Relaxed);
        if until != 0 && self.now_ms() < until {
            return Err(StoreError::Unavailable("Redis failed recently".into()));
        }
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(conn) = slot.manager.as_ref() {
            return Ok((conn.clone(), slot.generation));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(self.timeout);
        let conn = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        slot.manager = Some(conn.clone());
        Ok((conn, slot.generation))
    }

    /// Gives up connection `generation` (the next command opens a new one), unless a command
    /// that failed on it before already did.
    fn forget_connection(&self, generation: u64) {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.generation == generation {
            slot.manager = None;
            slot.generation += 1;
        }
    }

    async fn query<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        conn: &mut ConnectionManager,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) if err.is_timeout() => Err(Failure::Timeout),
            // A Redis error reply (`OOM`, `READONLY`, ...): the connection itself is fine.
            Ok(Err(err)) if matches!(err.kind(), redis::ErrorKind::Server(_)) => {
                Err(Failure::Reply(err.to_string()))
            }
            // Reset, broken pipe, closed, or bytes that are no RESP: the connection is done.
            Ok(Err(err)) => Err(Failure::Connection(err.to_string())),
            Err(_elapsed) => Err(Failure::Timeout),
        }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        name: &'static str,
        cmd: redis::Cmd,
    ) -> Result<T, StoreError> {
        let span = tracing::trace_span!("qelos.redis", cmd = name);
        async {
            let (mut conn, mut generation) = self.connection().await?;
            let mut answer = self.query(&cmd, &mut conn).await;
            if matches!(answer, Err(Failure::Connection(_))) {
                // The connection is dead (one that died while idle, say to a Redis that
                // restarted, fails every command of the next burst): it is replaced once,
                // by whichever command saw it first, and each command tries once more on
                // the new one before it counts as a failure.
                self.forget_connection(generation);
                (conn, generation) = self.connection().await?;
                answer = self.query(&cmd, &mut conn).await;
                if matches!(answer, Err(Failure::Connection(_))) {
                    self.forget_connection(generation);
                }
            }
            match answer {
                Ok(value) => {
                    self.failures.store(0, Ordering::Relaxed);
                    self.last_success.store(self.now_ms(), Ordering::Relaxed);
                    Ok(value)
                }
                Err(failure) => Err(self.failed(failure.into())),
            }
        }
        .instrument(span)
        .await
    }

    /// Counts a failure; after [`FAILURES_TO_COOL_DOWN`] of them and a while without a
    /// success, Redis is left alone for [`COOL_DOWN`] (logged once).
    fn failed(&self, error: StoreError) -> StoreError {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let last_success = self.last_success.load(Ordering::Relaxed);
        let silent = last_success == 0
            || self.now_ms().saturating_sub(last_success)
                >= u64::try_from(SILENCE_TO_COOL_DOWN.as_millis()).unwrap_or(1000);
        if failures < FAILURES_TO_COOL_DOWN || !silent {
            return error;
        }
        self.failures.store(0, Ordering::Relaxed);
        let was = self.down_until.swap(
            self.now_ms() + u64::try_from(COOL_DOWN.as_millis()).unwrap_or(1000),
            Ordering::Relaxed,
        );
        if was == 0 || self.now_ms() >= was {
            tracing::warn!(error = %error, "Redis command failed; working in-process for a while");
        }
        error
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

/// The connection in use, if any, and how many were given up before it.
#[derive(Default)]
struct Slot {
    manager: Option<ConnectionManager>,
    generation: u64,
}

/// How one command failed.
enum Failure {
    Timeout,
    Reply(String),
    Connection(String),
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Timeout => StoreError::Timeout,
            Failure::Reply(message) | Failure::Connection(message) => {
                StoreError::Unavailable(message)
            }
        }
    }
}

fn is_tls_url(url: &str) -> bool {
    url.trim_start()
        .get(..9)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("rediss://"))
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SharedStore for RedisStore {
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.key(key))
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl));
            let answer: Option<String> = self.run("SET NX", cmd).await?;
            Ok(answer.is_some())
        })
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("EVAL");
            cmd.arg(UNLOCK_SCRIPT).arg(1).arg(self.key(key)).arg(owner);
            let _deleted: i64 = self.run("EVAL unlock", cmd).await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("GET");
            cmd.arg(self.key(key));
            self.run("GET", cmd).await
        })
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.key(key)).arg(value).arg("PX").arg(millis(ttl));
            let _: () = self.run("SET PX", cmd).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_hides_the_url_and_its_password() {
        let store = RedisStore::new("redis://:hunter2@10.0.0.1:6379/0").unwrap();
        let debug = format!("{store:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("10.0.0.1"),
            "{debug}"
        );
    }

    #[test]
    fn a_url_that_is_not_redis_is_a_config_error() {
        assert!(matches!(
            RedisStore::new("http://example.com"),
            Err(StoreError::Config(_))
        ));
    }

    #[tokio::test]
    async fn redis_down_is_an_error_quickly_never_a_hang() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = RedisStore::new(&format!("redis://127.0.0.1:{port}")).unwrap();
        for _ in 0..FAILURES_TO_COOL_DOWN {
            assert!(store.get("k").await.is_err());
        }
        assert!(
            matches!(store.get("k").await, Err(StoreError::Unavailable(_))),
            "skipped during the cool-down"
        );
        assert!(
            store.failures.load(Ordering::Relaxed) == 0,
            "the count starts again after a cool-down"
        );
    }

    #[tokio::test]
    async fn an_answer_that_is_not_redis_drops_the_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Another program on Redis's port: every read is answered with bytes that are no RESP.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 || socket.write_all(b"%\xff\xfegarbage\r\n").await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let store = RedisStore::new(&format!("redis://127.0.0.1:{port}")).unwrap();
        assert!(
            store.get("k").await.is_err(),
            "garbage is an error, not a value"
        );
        assert!(
            store.connection.lock().unwrap().manager.is_none(),
            "the connection that carried garbage is not used again"
        );
    }
}
