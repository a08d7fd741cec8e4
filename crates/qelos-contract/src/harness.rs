//! Starting a contract app and `qelos-mock` on free ports, and capturing logs.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use qelos_integrator_core::QelosConfig;

/// A framework's contract app, as the suite starts it.
///
/// # Examples
///
/// ```ignore
/// struct Axum;
/// impl qelos_contract::ContractApp for Axum {
///     const NAME: &'static str = "axum";
///     fn spawn(config: QelosConfig) -> std::io::Result<RunningApp> {
///         RunningApp::spawn(move |listener| {
///             let rt = tokio::runtime::Runtime::new()?;
///             rt.block_on(async move {
///                 let listener = tokio::net::TcpListener::from_std(listener)?;
///                 axum::serve(listener, contract::app(config)).await
///             })
///         })
///     }
/// }
/// qelos_contract::contract_tests!(Axum);
/// ```
pub trait ContractApp {
    /// The adapter's name, as shown in the CI table.
    const NAME: &'static str;
    /// `true` where a route without a Qelos extractor resolves nothing (rocket: the guards
    /// resolve the request on first use), so it spends no refresh and sends no cookie.
    const RESOLVES_ON_DEMAND: bool = false;
    /// Starts the contract app with `config` (its middleware configured from it, plus the
    /// tenant resolver) and returns once it accepts connections.
    ///
    /// # Errors
    ///
    /// I/O errors from binding or starting the server.
    fn spawn(config: QelosConfig) -> std::io::Result<RunningApp>;
}

/// A running contract app.
#[derive(Debug)]
pub struct RunningApp {
    addr: SocketAddr,
}

impl RunningApp {
    /// Binds `127.0.0.1:0` and runs `serve(listener)` on its own thread (with whatever runtime
    /// the framework wants). The listener is already bound, so connections queue until the
    /// server accepts them. The thread ends with the test process.
    ///
    /// # Errors
    ///
    /// Binding errors.
    pub fn spawn<F>(serve: F) -> std::io::Result<RunningApp>
    where
        F: FnOnce(TcpListener) -> std::io::Result<()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        std::thread::Builder::new()
            .name("contract-app".into())
            .spawn(move || {
                if let Err(err) = serve(listener) {
                    eprintln!("contract app stopped: {err}");
                }
            })?;
        Ok(RunningApp { addr })
    }

    /// [`spawn`](Self::spawn) for a server that runs on tokio: `serve` gets the listener and
    /// its future runs on a runtime of its own with two workers (as a small production app).
    ///
    /// # Errors
    ///
    /// Binding errors.
    pub fn spawn_on_tokio<F, Fut>(serve: F) -> std::io::Result<RunningApp>
    where
        F: FnOnce(TcpListener) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = std::io::Result<()>>,
    {
        Self::spawn(move |listener| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(serve(listener))
        })
    }

    /// For frameworks that bind by port themselves: a port that was free a moment ago.
    ///
    /// # Errors
    ///
    /// Binding errors.
    pub fn free_port() -> std::io::Result<u16> {
        Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
    }

    /// Wraps an address the app already listens on (see [`free_port`](Self::free_port)).
    pub fn at(addr: SocketAddr) -> RunningApp {
        RunningApp { addr }
    }

    /// The app's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Everything logged in this process since [`capture_logs`] was first called.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// The captured text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once per process) a global `tracing` subscriber at TRACE level for every target,
/// writing into memory, and returns the capture.
pub fn capture_logs() -> CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        let sink = Arc::clone(&logs.0);
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || CaptureWriter(Arc::clone(&sink)))
            .try_init();
        logs
    })
    .clone()
}
