//! [`RedisStore`]: registrations shared by several plugin processes.

use futures_util::future::BoxFuture;
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;
use tracing::Instrument as _;

use crate::store::{RegistrationStore, StoreError, StoredRegistration};

/// Writes the record only if its stored revision is the expected one (`""`: absent), and
/// points the tenant at it. `KEYS[1]` record hash, `KEYS[2]` tenant key; `ARGV` expected
/// revision, new revision, record JSON, registration id.
const CAS_SCRIPT: &str = r"
local current = redis.call('HGET', KEYS[1], 'revision')
if (current or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'revision', ARGV[2], 'record', ARGV[3])
redis.call('SET', KEYS[2], ARGV[4])
return 1
";

/// A [`RegistrationStore`] on Redis: `<prefix>registration:<id>` is a hash of `revision` and
/// the record JSON (credentials and tokens sealed, refresh identifier hashed),
/// `<prefix>tenant:<tenant>` names the tenant's registration. Writes run one Lua script that
/// compares the revision and writes atomically, so a refresh token is single-use across
/// processes. One multiplexed, auto-reconnecting connection opened on first use.
///
/// `Debug` does not show the URL (it may hold a password).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use qelos_plugin::{Plugin, RedisStore};
/// let store = RedisStore::new("redis://127.0.0.1:6379/0")?.with_prefix("todo-plugin:");
/// let plugin = Plugin::builder("todo", "https://plugin.example.com")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .encryption_key("the same key in every process...")
///     .store(Arc::new(store))
///     .build()?;
/// # let _ = plugin;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    connection: OnceCell<ConnectionManager>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn failed(e: &redis::RedisError) -> StoreError {
    StoreError(format!("redis: {}", e.kind_name()))
}

trait KindName {
    fn kind_name(&self) -> &'static str;
}

impl KindName for redis::RedisError {
    fn kind_name(&self) -> &'static str {
        if self.is_timeout() {
            "timeout"
        } else if self.is_io_error() || self.is_connection_dropped() {
            "connection failed"
        } else {
            "command failed"
        }
    }
}

impl RedisStore {
    /// A store on `url` (`redis://[:password@]host:port/db`); nothing connects yet.
    ///
    /// # Errors
    ///
    /// [`StoreError`] for a malformed URL.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(|_| StoreError("invalid redis URL".into()))?,
            prefix: "qelos-plugin:".into(),
            connection: OnceCell::new(),
        })
    }

    /// Key prefix (default `qelos-plugin:`).
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        self.connection
            .get_or_try_init(|| ConnectionManager::new(self.client.clone()))
            .await
            .cloned()
            .map_err(|e| failed(&e))
    }

    fn record_key(&self, id: &str) -> String {
        format!("{}registration:{id}", self.prefix)
    }

    fn tenant_key(&self, tenant: &str) -> String {
        format!("{}tenant:{tenant}", self.prefix)
    }

    async fn load_key(&self, key: &str) -> Result<Option<StoredRegistration>, StoreError> {
        let mut c = self.connection().await?;
        let json: Option<String> = c.hget(key, "record").await.map_err(|e| failed(&e))?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|_| StoreError("unreadable registration".into()))
        })
        .transpose()
    }
}

impl RegistrationStore for RedisStore {
    fn load<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRegistration>, StoreError>> {
        let span = tracing::debug_span!("qelos_plugin.redis.load");
        Box::pin(async move { self.load_key(&self.record_key(id)).await }.instrument(span))
    }

    fn find_tenant<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRegistration>, StoreError>> {
        let span = tracing::debug_span!("qelos_plugin.redis.find_tenant", tenant = %tenant);
        Box::pin(
            async move {
                let mut c = self.connection().await?;
                let id: Option<String> = c
                    .get(self.tenant_key(tenant))
                    .await
                    .map_err(|e| failed(&e))?;
                match id {
                    Some(id) => self.load_key(&self.record_key(&id)).await,
                    None => Ok(None),
                }
            }
            .instrument(span),
        )
    }

    fn compare_and_swap(
        &self,
        expected: Option<u64>,
        record: StoredRegistration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let span = tracing::debug_span!("qelos_plugin.redis.compare_and_swap");
        Box::pin(
            async move {
                let json = serde_json::to_string(&record)
                    .map_err(|_| StoreError("registration not serializable".into()))?;
                let mut c = self.connection().await?;
                // Plain EVAL (the script is short; no script cache or SHA-1 dependency).
                let swapped: i64 = redis::cmd("EVAL")
                    .arg(CAS_SCRIPT)
                    .arg(2)
                    .arg(self.record_key(&record.id))
                    .arg(self.tenant_key(&record.tenant))
                    .arg(expected.map(|r| r.to_string()).unwrap_or_default())
                    .arg(record.revision.to_string())
                    .arg(json)
                    .arg(&record.id)
                    .query_async(&mut c)
                    .await
                    .map_err(|e| failed(&e))?;
                Ok(swapped == 1)
            }
            .instrument(span),
        )
    }
}
