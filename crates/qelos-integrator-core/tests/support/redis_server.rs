//! A throw-away `redis-server` on a free port, killed on drop.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` with no persistence.
pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
}

fn binary() -> PathBuf {
    let system = PathBuf::from("/usr/bin/redis-server");
    if system.is_file() {
        return system;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("redis-server"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("these tests need redis-server (/usr/bin/redis-server or on PATH): apt-get install redis-server")
        })
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut buf).is_ok()
        && &buf == b"+PONG\r\n"
}

impl RedisServer {
    /// Starts a server on a port that was free a moment ago (retrying on a lost race).
    pub(crate) fn start() -> RedisServer {
        let binary = binary();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new(&binary)
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if answers_ping(port) {
                    return RedisServer {
                        child: Some(child),
                        port,
                    };
                }
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break; // lost the port to someone else: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server and starts a new, empty one on the same port (as a restarted Redis
    /// without persistence), waiting until it answers.
    #[allow(dead_code)] // not every test binary that includes this module restarts Redis
    pub(crate) fn restart(&mut self) {
        self.kill();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let mut child = Command::new(binary())
                .args(["--port", &self.port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let up = Instant::now();
            while up.elapsed() < Duration::from_secs(2) {
                if answers_ping(self.port) {
                    self.child = Some(child);
                    return;
                }
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break; // the port is not free again yet
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start again on port {}", self.port);
    }

    /// Kills the server now (the port then refuses connections).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
