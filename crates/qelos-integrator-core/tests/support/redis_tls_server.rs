//! A throw-away `redis-server` that speaks only TLS, with a certificate authority and server
//! certificate generated for it (`openssl` CLI) in a private temporary folder; killed and
//! removed on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A running TLS-only `redis-server` and the PEM files of its certificates.
pub(crate) struct RedisTlsServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("these tests need the openssl CLI: apt-get install openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate (for mutual
/// TLS) signed by it, written into `dir`.
fn generate_certificates(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=qelos-test-ca"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    for (name, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
        let mut req = vec!["req", "-new", "-subj"];
        let subject = format!("/CN=qelos-test-{name}");
        req.push(&subject);
        req.extend(ec);
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        req.extend(["-keyout", &key, "-out", &csr]);
        openssl(dir, &req);
        let ext = format!("{name}.ext");
        std::fs::write(
            dir.join(&ext),
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
            ),
        )
        .expect("write the extensions file");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-extfile",
                &ext,
            ],
        );
    }
}

impl RedisTlsServer {
    /// Starts a TLS-only server (`--port 0 --tls-port <free>`). With `auth_clients`, the
    /// server refuses clients without a certificate signed by the test CA.
    pub(crate) fn start(auth_clients: bool) -> RedisTlsServer {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "qelos-redis-tls-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        generate_certificates(&dir);
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
            let mut child = Command::new("redis-server")
                .args(["--port", "0", "--tls-port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--tls-cert-file", &file("server.pem")])
                .args(["--tls-key-file", &file("server.key")])
                .args(["--tls-ca-cert-file", &file("ca.pem")])
                .args([
                    "--tls-auth-clients",
                    if auth_clients { "yes" } else { "no" },
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts (apt-get install redis-server)");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost the port (or no TLS support): try another
                }
                // Listening means the TLS set-up was loaded (redis-server binds after it).
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    std::thread::sleep(Duration::from_millis(50));
                    if matches!(child.try_wait(), Ok(None)) {
                        return RedisTlsServer {
                            child: Some(child),
                            port,
                            dir,
                        };
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server with TLS did not start (does this redis-server build have TLS?)");
    }

    /// `rediss://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// `redis://` on the same port: plain text, which a TLS-only port refuses.
    pub(crate) fn plain_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A PEM file of the generated set: `ca.pem`, `client.pem`, `client.key`.
    pub(crate) fn pem(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).expect("a generated PEM file")
    }
}

impl Drop for RedisTlsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
