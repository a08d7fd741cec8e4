//! A small HTTP/1.1 load generator on hyper: a fixed number of keep-alive connections, each
//! sending requests back to back for a fixed time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stats {
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    pub(crate) seconds: f64,
    pub(crate) p50_us: u64,
    pub(crate) p99_us: u64,
    /// CPU time the app used per successful request (user + system), in µs.
    pub(crate) app_cpu_us: f64,
    /// CPU time `qelos-mock` used per successful request, in µs.
    pub(crate) mock_cpu_us: f64,
}

impl Stats {
    pub(crate) fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }
}

async fn connection(
    addr: SocketAddr,
    path: &'static str,
    authorization: Option<String>,
    until: Instant,
) -> (u64, u64, Vec<u32>) {
    let (mut ok, mut errors, mut latencies) = (0u64, 0u64, Vec::with_capacity(16 * 1024));
    'reconnect: while Instant::now() < until {
        let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
            errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, conn)) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
        else {
            errors += 1;
            continue;
        };
        tokio::spawn(conn);
        while Instant::now() < until {
            let mut req = http::Request::get(path).header("host", addr.to_string());
            if let Some(a) = &authorization {
                req = req.header("authorization", a.as_str());
            }
            let Ok(req) = req.body(Empty::<Bytes>::new()) else {
                errors += 1;
                continue 'reconnect;
            };
            let started = Instant::now();
            match sender.send_request(req).await {
                Ok(resp) => {
                    let good = resp.status().is_success();
                    let body = resp.into_body().collect().await;
                    latencies
                        .push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
                    if good && body.is_ok() {
                        ok += 1
                    } else {
                        errors += 1
                    }
                }
                Err(_) => {
                    errors += 1;
                    continue 'reconnect;
                }
            }
        }
    }
    (ok, errors, latencies)
}

/// Drives `GET path` on `addr` with `connections` connections for `duration`.
pub(crate) async fn run(
    addr: SocketAddr,
    path: &'static str,
    authorization: Option<String>,
    connections: usize,
    duration: Duration,
) -> Stats {
    let (mut stats, latencies) = run_raw(addr, path, authorization, connections, duration).await;
    stats.set_percentiles(latencies);
    stats
}

impl Stats {
    /// Adds another slice of the same case: counts and time add up, CPU per request is
    /// weighted by requests. Percentiles are set afterwards from all slices' latencies.
    pub(crate) fn absorb(&mut self, other: &Stats) {
        let total = (self.ok + other.ok).max(1) as f64;
        self.app_cpu_us =
            (self.app_cpu_us * self.ok as f64 + other.app_cpu_us * other.ok as f64) / total;
        self.mock_cpu_us =
            (self.mock_cpu_us * self.ok as f64 + other.mock_cpu_us * other.ok as f64) / total;
        self.ok += other.ok;
        self.errors += other.errors;
        self.seconds += other.seconds;
    }

    /// p50 and p99 of `latencies` (µs).
    pub(crate) fn set_percentiles(&mut self, mut latencies: Vec<u32>) {
        latencies.sort_unstable();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        self.p50_us = u64::from(pct(0.50));
        self.p99_us = u64::from(pct(0.99));
    }
}

/// [`run`] without percentiles: the counts and every request's latency (µs).
pub(crate) async fn run_raw(
    addr: SocketAddr,
    path: &'static str,
    authorization: Option<String>,
    connections: usize,
    duration: Duration,
) -> (Stats, Vec<u32>) {
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(addr, path, authorization.clone(), until)))
        .collect();
    let mut stats = Stats::default();
    let mut all = Vec::new();
    for t in tasks {
        if let Ok((ok, errors, lat)) = t.await {
            stats.ok += ok;
            stats.errors += errors;
            all.extend(lat);
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    (stats, all)
}
