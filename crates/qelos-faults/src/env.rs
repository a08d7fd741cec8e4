//! One run's world: the test hosts, Redis, Qelos (the mock), three instances of the app, the
//! fault proxies between them, and the mock's test controls.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::browsers::Browser;
use crate::net::Network;
use crate::procs::{self, AppCommand, Proc};
use crate::toxiproxy::Proxy;

/// Number of instances behind the (simulated) load balancer.
pub(crate) const INSTANCES: usize = 3;
/// The mock's refresh endpoint, as its call counter names it.
pub(crate) const REFRESH_CALL: &str = "POST /api/token/refresh";

/// Settings of a run.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) adapter: String,
    pub(crate) app: AppCommand,
    pub(crate) mock_bin: PathBuf,
    /// The apps' configured deadline (`QelosConfig::timeout`).
    pub(crate) deadline: Duration,
    pub(crate) lock_ttl: Duration,
    pub(crate) loopback: bool,
    pub(crate) dir: PathBuf,
    /// The runtime the fault proxies run on.
    pub(crate) proxies: tokio::runtime::Handle,
}

pub(crate) struct Env {
    pub(crate) settings: Settings,
    pub(crate) net: Network,
    pub(crate) redis: Proc,
    pub(crate) qelos: Proc,
    pub(crate) apps: Vec<Proc>,
    pub(crate) redis_proxy: Proxy,
    pub(crate) qelos_proxy: Proxy,
    /// The load generator's pooled client.
    pub(crate) http: reqwest::Client,
    admin: String,
}

fn free_port(ip: IpAddr) -> crate::Result<u16> {
    Ok(std::net::TcpListener::bind((ip, 0))?.local_addr()?.port())
}

impl Env {
    pub(crate) async fn start(settings: Settings) -> crate::Result<Self> {
        let names = ["qelos", "redis", "app1", "app2", "app3"];
        let net = Network::create(&names, settings.loopback);
        let host = |n: &str| net.host(n).cloned().ok_or_else(|| format!("no host {n}"));
        let dir = &settings.dir;
        std::fs::create_dir_all(dir)?;
        let qh = host("qelos")?;
        let rh = host("redis")?;
        let ns = net.namespaces_in_use();
        let port = |fixed: u16, ip: IpAddr| if ns { Ok(fixed) } else { free_port(ip) };
        let qelos = procs::mock(&qh, port(3000, qh.ip)?, dir, &settings.mock_bin)?;
        let redis = procs::redis(&rh, port(6379, rh.ip)?, dir)?;
        // The proxies listen on the suite's side, reachable from every host through its link.
        let listen_ip = if ns {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        };
        let qelos_proxy = Proxy::start(
            &settings.proxies,
            "qelos",
            SocketAddr::new(listen_ip, 0),
            qelos.addr,
        )
        .await?;
        let redis_proxy = Proxy::start(
            &settings.proxies,
            "redis",
            SocketAddr::new(listen_ip, 0),
            redis.addr,
        )
        .await?;
        let mut apps = Vec::new();
        for i in 1..=INSTANCES {
            let h = host(&format!("app{i}"))?;
            let listen = SocketAddr::new(h.ip, port(8080, h.ip)?);
            let args = crate::apps::AppArgs {
                adapter: settings.adapter.clone(),
                listen,
                qelos: format!("http://{}:{}", h.gateway, qelos_proxy.addr().port()),
                redis: format!("redis://{}:{}/0", h.gateway, redis_proxy.addr().port()),
                timeout: settings.deadline,
                lock_ttl: settings.lock_ttl,
            };
            apps.push(procs::app(
                &format!("{}-app{i}", settings.adapter),
                &h,
                dir,
                &settings.app,
                args.to_args(),
                listen,
            )?);
        }
        let http = reqwest::Client::builder()
            .timeout(settings.deadline + Duration::from_secs(5))
            .pool_max_idle_per_host(512)
            .build()?;
        let mut env = Self {
            settings,
            net,
            redis,
            qelos,
            apps,
            redis_proxy,
            qelos_proxy,
            http,
            admin: String::new(),
        };
        let seed = env.control_get("/__mock/seed").await?;
        env.admin = seed
            .pointer("/admin/username")
            .and_then(Value::as_str)
            .ok_or("the mock's seed has no admin")?
            .to_owned();
        Ok(env)
    }

    pub(crate) fn app_url(&self, i: usize) -> String {
        format!("http://{}", self.apps[i % self.apps.len()].addr)
    }

    fn control_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.qelos.addr)
    }

    async fn control_get(&self, path: &str) -> crate::Result<Value> {
        Ok(self
            .http
            .get(self.control_url(path))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    async fn control_post(&self, path: &str, body: Value) -> crate::Result<Value> {
        Ok(self
            .http
            .post(self.control_url(path))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// `n` browsers signed in as the seeded admin, each with its own token pair. With
    /// `access_ttl` `None` the access tokens are already expired (all at the same moment).
    pub(crate) async fn browsers(
        &self,
        n: usize,
        access_ttl: impl Fn(usize) -> Option<Duration>,
    ) -> crate::Result<Vec<Arc<Browser>>> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let body = match access_ttl(i) {
                None => json!({"username": self.admin, "expired": true}),
                Some(ttl) => json!({"username": self.admin, "accessTtlMs": ttl.as_millis() as u64}),
            };
            let t = self.control_post("/__mock/tokens", body).await?;
            let get = |k: &str| {
                t.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| format!("minted tokens lack {k}"))
            };
            out.push(Arc::new(Browser::new(i, get("access")?, get("refresh")?)));
        }
        Ok(out)
    }

    /// Upstream refreshes the mock has seen since the last `reset_calls`.
    pub(crate) async fn refreshes(&self) -> crate::Result<u64> {
        let calls = self.control_get("/__mock/calls").await?;
        Ok(calls.get(REFRESH_CALL).and_then(Value::as_u64).unwrap_or(0))
    }

    pub(crate) async fn reset_calls(&self) -> crate::Result {
        self.control_post("/__mock/reset-calls", json!({})).await?;
        Ok(())
    }

    /// Injects a fault on one of the mock's endpoints (`"GET /api/me"`).
    pub(crate) async fn mock_fault(&self, endpoint: &str, fault: Value) -> crate::Result {
        self.control_post(
            "/__mock/faults",
            json!({"endpoint": endpoint, "fault": fault}),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn clear_mock_faults(&self) -> crate::Result {
        self.http
            .delete(self.control_url("/__mock/faults"))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// A fresh Qelos for the next scenario: the mock restarted (its state is in memory, and
    /// every browser of every scenario signs in as the same seeded user, whose token list
    /// would otherwise grow through the run and slow the mock down), then one signed-in
    /// request per instance so their pooled connections are new.
    pub(crate) async fn fresh_qelos(&mut self) -> crate::Result {
        tokio::task::block_in_place(|| self.qelos.restart())?;
        let warm = self
            .browsers(self.apps.len(), |_| Some(Duration::from_secs(3600)))
            .await?;
        for b in &warm {
            for i in 0..self.apps.len() {
                let url = format!("{}/me", self.app_url(i));
                let _ = b.send(&self.http, reqwest::Method::GET, &url, &[]).await;
            }
        }
        Ok(())
    }

    /// Where each instance's log ends now (to read what a scenario added).
    pub(crate) fn log_marks(&self) -> Vec<usize> {
        self.apps.iter().map(|a| a.log_text().len()).collect()
    }

    /// What each instance logged since `marks`.
    pub(crate) fn logs_since(&self, marks: &[usize]) -> Vec<String> {
        self.apps
            .iter()
            .zip(marks)
            .map(|(a, m)| a.log_text().get(*m..).unwrap_or_default().to_owned())
            .collect()
    }

    /// Every instance still running (none died of a panic or crash).
    pub(crate) fn all_alive(&mut self) -> bool {
        self.apps.iter_mut().all(Proc::alive)
    }

    /// Resident memory of each instance, MiB.
    pub(crate) fn rss_mib(&self) -> Vec<f64> {
        self.apps
            .iter()
            .map(|p| p.rss_kib() as f64 / 1024.0)
            .collect()
    }

    /// Lines of the instances' logs that hold one of `tokens` (should be none), and lines that
    /// report a panic.
    pub(crate) fn log_findings(&self, tokens: &[String]) -> (usize, usize) {
        let mut leaks = 0;
        let mut panics = 0;
        for app in &self.apps {
            let text = app.log_text();
            for line in text.lines() {
                if line.contains("panicked") {
                    panics += 1;
                }
                if tokens
                    .iter()
                    .any(|t| t.len() > 16 && line.contains(t.as_str()))
                {
                    leaks += 1;
                }
            }
        }
        (leaks, panics)
    }

    /// Sends a raw Redis command (RESP) to the Redis process directly; the first line of the
    /// answer.
    pub(crate) async fn redis_cmd(&self, args: &[&[u8]]) -> crate::Result<String> {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let mut s = tokio::net::TcpStream::connect(self.redis.addr).await?;
        let mut msg = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            msg.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            msg.extend_from_slice(a);
            msg.extend_from_slice(b"\r\n");
        }
        s.write_all(&msg).await?;
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).await?;
        Ok(line.trim_end().to_owned())
    }
}
