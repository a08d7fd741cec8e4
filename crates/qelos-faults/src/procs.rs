//! The processes of a run: `redis-server`, `qelos-mock` and the app instances, each on its
//! host, with its output in a log file of the run's directory.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::Host;

/// A child process, killed (`SIGKILL`) and reaped on drop.
pub(crate) struct Proc {
    pub(crate) name: String,
    child: Option<Child>,
    pub(crate) log: PathBuf,
    pub(crate) addr: SocketAddr,
    /// How to start it again (`restart`).
    spawn: Box<dyn Fn() -> std::io::Result<Child> + Send + Sync>,
}

impl Proc {
    /// Starts `cmd` (already placed on its host), logging to `dir/name.log`, and waits until
    /// `addr` accepts connections.
    pub(crate) fn start(
        name: &str,
        dir: &Path,
        addr: SocketAddr,
        make: impl Fn() -> Command + Send + Sync + 'static,
    ) -> crate::Result<Self> {
        let log = dir.join(format!("{name}.log"));
        let log_for_spawn = log.clone();
        let spawn = move || {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_for_spawn)?;
            let mut cmd = make();
            cmd.stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file)
                .spawn()
        };
        let child = spawn()?;
        let mut p = Self {
            name: name.to_owned(),
            child: Some(child),
            log,
            addr,
            spawn: Box::new(spawn),
        };
        p.wait_ready()?;
        Ok(p)
    }

    fn wait_ready(&mut self) -> crate::Result {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!(
                    "{} exited at start ({status}); see {}",
                    self.name,
                    self.log.display()
                )
                .into());
            }
            if Instant::now() > deadline {
                return Err(format!("{} does not listen on {}", self.name, self.addr).into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `SIGKILL`, and reaped.
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again (after `kill`) and waits until it listens.
    pub(crate) fn restart(&mut self) -> crate::Result {
        self.kill();
        self.child = Some((self.spawn)()?);
        self.wait_ready()
    }

    /// Whether it is still running (not exited by itself: a panic that aborts, a crash).
    pub(crate) fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Resident memory in KiB (`VmRSS` of `/proc/<pid>/status`), 0 when not running.
    pub(crate) fn rss_kib(&self) -> u64 {
        let Some(pid) = self.pid() else { return 0 };
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Open sockets of the process (file descriptors that are sockets).
    pub(crate) fn sockets(&self) -> usize {
        let Some(pid) = self.pid() else { return 0 };
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| {
                        std::fs::read_link(e.path())
                            .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// The log so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `redis-server` on `host` at `port`, no persistence.
pub(crate) fn redis(host: &Host, port: u16, dir: &Path) -> crate::Result<Proc> {
    let bin =
        which("redis-server").ok_or("redis-server not found (apt-get install redis-server)")?;
    let h = host.clone();
    let work = dir.to_path_buf();
    Proc::start("redis", dir, SocketAddr::new(host.ip, port), move || {
        let mut c = h.command(&bin);
        c.arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg(h.ip.to_string())
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&work);
        c
    })
}

/// `qelos-mock` (the binary at `bin`) on `host` at `port`.
pub(crate) fn mock(host: &Host, port: u16, dir: &Path, bin: &Path) -> crate::Result<Proc> {
    let h = host.clone();
    let bin = bin.to_path_buf();
    Proc::start("qelos", dir, SocketAddr::new(host.ip, port), move || {
        let mut c = h.command(&bin);
        c.arg("--port")
            .arg(port.to_string())
            .args(["--no-record", "--host"])
            .arg(h.ip.to_string())
            .env("RUST_LOG", "warn");
        c
    })
}

/// How to start one instance of the app under test: a program and the arguments before the
/// suite's own (`<adapter> <listen> <qelos url> <redis url> <timeout ms> <lock ttl ms>`).
#[derive(Clone, Debug)]
pub(crate) struct AppCommand {
    pub(crate) program: PathBuf,
    pub(crate) prefix: Vec<String>,
}

/// One instance on `host`.
pub(crate) fn app(
    name: &str,
    host: &Host,
    dir: &Path,
    command: &AppCommand,
    args: Vec<String>,
    addr: SocketAddr,
) -> crate::Result<Proc> {
    let h = host.clone();
    let command = command.clone();
    Proc::start(name, dir, addr, move || {
        let mut c = h.command(&command.program);
        c.args(&command.prefix)
            .args(&args)
            .env("RUST_LOG", "info,qelos_integrator_core=debug");
        c
    })
}

pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.exists())
}
