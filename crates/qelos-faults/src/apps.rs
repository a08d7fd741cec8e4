//! The app under test: an adapter's contract app (the routes every adapter serves identically)
//! with the Redis store configured, as each of the three instances runs it.
//!
//! `qelos-faults app <axum|actix> <listen addr> <qelos url> <redis url> <timeout ms> <lock ttl ms>`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use qelos_integrator_core::QelosConfig;
use qelos_integrator_core::store::redis::RedisStore;

#[path = "../../qelos-integrator-axum/examples/contract.rs"]
#[allow(dead_code, unreachable_pub, missing_docs)]
mod axum_contract;

#[path = "../../qelos-integrator-actix/examples/contract.rs"]
#[allow(dead_code, unreachable_pub, missing_docs)]
mod actix_contract;

/// The adapters the suite knows how to start from this binary.
pub(crate) const ADAPTERS: [&str; 2] = ["axum", "actix"];

/// What one instance is told at start.
pub(crate) struct AppArgs {
    pub(crate) adapter: String,
    pub(crate) listen: SocketAddr,
    pub(crate) qelos: String,
    pub(crate) redis: String,
    pub(crate) timeout: Duration,
    pub(crate) lock_ttl: Duration,
}

impl AppArgs {
    pub(crate) fn parse(args: &[String]) -> crate::Result<Self> {
        let [adapter, listen, qelos, redis, timeout, lock] = args else {
            return Err("usage: qelos-faults app <adapter> <listen> <qelos url> <redis url> <timeout ms> <lock ttl ms>".into());
        };
        Ok(Self {
            adapter: adapter.clone(),
            listen: listen.parse()?,
            qelos: qelos.clone(),
            redis: redis.clone(),
            timeout: Duration::from_millis(timeout.parse()?),
            lock_ttl: Duration::from_millis(lock.parse()?),
        })
    }

    /// The command-line form of these arguments (after `app`).
    pub(crate) fn to_args(&self) -> Vec<String> {
        vec![
            self.adapter.clone(),
            self.listen.to_string(),
            self.qelos.clone(),
            self.redis.clone(),
            self.timeout.as_millis().to_string(),
            self.lock_ttl.as_millis().to_string(),
        ]
    }

    fn config(&self) -> crate::Result<QelosConfig> {
        let store = RedisStore::new(&self.redis)?.with_timeout(Duration::from_millis(200));
        Ok(qelos_contract::app::config_builder(&self.qelos)
            .shared_store(Arc::new(store))
            .timeout(self.timeout)
            .refresh_lock_ttl(self.lock_ttl)
            .proxy_timeout(self.timeout)
            .build()?)
    }
}

/// Serves the contract app until the process is killed. Logs go to stderr (the suite keeps
/// them in a file per instance and checks that no token appears in them).
pub(crate) fn serve(args: &AppArgs) -> crate::Result {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let config = args.config()?;
    let listen = args.listen;
    match args.adapter.as_str() {
        "axum" => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                axum::serve(
                    listener,
                    axum_contract::app(config).into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
            })?;
        }
        "actix" => {
            let qelos = actix_contract::middleware(config);
            actix_web::rt::System::new().block_on(async move {
                actix_web::HttpServer::new(move || {
                    let qelos = qelos.clone();
                    actix_web::App::new().configure(move |cfg| actix_contract::routes(cfg, qelos))
                })
                .workers(2)
                .bind(listen)?
                .run()
                .await
            })?;
        }
        other => return Err(format!("unknown adapter {other} (axum, actix)").into()),
    }
    Ok(())
}
