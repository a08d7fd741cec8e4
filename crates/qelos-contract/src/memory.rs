//! Measuring an app's memory where nothing else shares it: the app under test runs alone in a
//! child process, the test binary itself re-run in serving mode, and the parent reads the
//! child's peak resident memory.
//!
//! A test runner may run many tests in one process (plain `cargo test`) or one per process
//! (`cargo nextest`); the child is the app's own process under either.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::app::config_builder;
use crate::harness::ContractApp;

/// Set in the child: `<qelos url> <proxy target url>`.
const SERVE_ENV: &str = "QELOS_CONTRACT_CHILD_APP";
/// The line the child prints once its app accepts connections.
const READY_PREFIX: &str = "QELOS_CONTRACT_CHILD_ADDR=";

/// A contract app running alone in a child process; killed when dropped.
#[derive(Debug)]
pub struct ChildApp {
    child: Child,
    // Held open: the child serves until it reads end of input.
    _stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl ChildApp {
    /// Whether this process is such a child (the scenario should call [`serve`](Self::serve)).
    pub fn is_requested() -> bool {
        std::env::var_os(SERVE_ENV).is_some()
    }

    /// Re-runs the current test in a child process that serves the contract app `A` (against
    /// Qelos at `qelos_url`, the `/api` proxy pointed at `proxy_target`), and waits until it
    /// accepts connections.
    ///
    /// Must be called on the test's own thread (the test harness names it after the test,
    /// which is how the child runs the same test).
    ///
    /// # Errors
    ///
    /// The child cannot start, or exits before announcing its address.
    pub fn start(qelos_url: &str, proxy_target: &str) -> std::io::Result<ChildApp> {
        let current = std::thread::current();
        let test = current
            .name()
            .filter(|name| *name != "main")
            .ok_or_else(|| std::io::Error::other("not on a test thread named after its test"))?;
        let mut child = Command::new(std::env::current_exe()?)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(SERVE_ENV, format!("{qelos_url} {proxy_target}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(std::io::Error::other("child without stdout"));
        };
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        let addr = loop {
            line.clear();
            if lines.read_line(&mut line)? == 0 {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::other(
                    "the child app exited before accepting connections",
                ));
            }
            // The test harness may have printed `test <name> ... ` on the same line.
            if let Some((_, addr)) = line.trim().split_once(READY_PREFIX) {
                break addr.parse().map_err(std::io::Error::other)?;
            }
        };
        // Drain whatever else the child prints so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = lines.read_to_end(&mut sink);
        });
        Ok(ChildApp {
            child,
            _stdin: stdin,
            addr,
        })
    }

    /// The child's app address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The child's peak resident memory in bytes (`VmHWM`), where `/proc` has it (Linux).
    pub fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()?;
        Some(kib * 1024)
    }

    /// The child's side: starts the contract app `A` as [`start`](Self::start) asked, prints
    /// its address, and serves until the parent closes this process's input.
    pub fn serve<A: ContractApp>() {
        let spec = std::env::var(SERVE_ENV).expect("the parent says what to serve");
        let (qelos_url, proxy_target) = spec.split_once(' ').expect("`<qelos url> <target>`");
        let config = config_builder(qelos_url)
            .proxy_target(proxy_target)
            .build()
            .expect("contract config is valid");
        let app = A::spawn(config).expect("contract app starts");
        println!("\n{READY_PREFIX}{}", app.addr());
        let mut rest = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut rest);
    }
}

impl Drop for ChildApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
