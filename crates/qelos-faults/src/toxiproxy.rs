//! Fault-injecting TCP proxies: `noxious` (a Rust port of Toxiproxy's core), used as a library
//! inside the suite's process. Every path between an instance and Redis or Qelos, and between
//! the load generator and the instances' `/api` proxy, goes through one of these.
//!
//! Toxics are Toxiproxy's: `latency` (delay ± jitter), `bandwidth` (KB/s), `timeout` (no data
//! flows; `0` = the connection stays open and silent: half-open), `limit_data` (the connection
//! is closed after N bytes: a reset mid-body), `slicer`, `slow_close`. A toxic's `toxicity` is
//! the share of connections it applies to (Toxiproxy draws it per connection), which is how
//! "5 % loss" is modelled: 5 % of connections go silent.

use std::net::SocketAddr;

use bmrng::RequestSender;
use noxious::proxy::{ProxyConfig, ProxyRunner, Runner as _, Toxics};
use noxious::signal::{Close, Stop, Stopper};
use noxious::toxic::{
    StreamDirection, Toxic, ToxicEvent, ToxicEventKind, ToxicEventResult, ToxicKind,
};

/// One running proxy.
pub(crate) struct Proxy {
    name: String,
    listen: SocketAddr,
    events: RequestSender<ToxicEvent, ToxicEventResult>,
    stopper: Option<Stopper>,
    /// Names of the toxics installed, so `clear` removes exactly those.
    installed: Vec<String>,
}

impl Proxy {
    /// Listens on `listen` (port 0: a free one) and forwards to `upstream`. The proxy runs on
    /// `runtime` (a runtime of its own, so its latency does not depend on how busy the load
    /// generator is).
    pub(crate) async fn start(
        runtime: &tokio::runtime::Handle,
        name: &str,
        listen: SocketAddr,
        upstream: SocketAddr,
    ) -> crate::Result<Self> {
        // noxious binds by address string; to learn the port of a `:0` bind, bind first here.
        let probe = std::net::TcpListener::bind(listen)?;
        let bound = probe.local_addr()?;
        drop(probe);
        let config = ProxyConfig {
            name: name.to_owned(),
            listen: bound.to_string(),
            upstream: upstream.to_string(),
            enabled: true,
            rand_seed: None,
        };
        let (events, receiver) = bmrng::channel::<ToxicEvent, ToxicEventResult>(16);
        let (stop, stopper) = Stop::new();
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        runtime.spawn(async move {
            type Listener = noxious::socket::TcpListener;
            match ProxyRunner::initialize_proxy::<Listener>(config, Toxics::empty()).await {
                Ok((listener, info)) => {
                    let _ = ready_tx.send(Ok(()));
                    let (_close, closer) = Close::new();
                    let _ =
                        ProxyRunner::run_proxy::<Listener>(listener, info, receiver, stop, closer)
                            .await;
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            }
        });
        ready.await.map_err(|_| "the proxy runtime stopped")??;
        Ok(Self {
            name: name.to_owned(),
            listen: bound,
            events,
            stopper: Some(stopper),
            installed: Vec::new(),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.listen
    }

    async fn send(&self, kind: ToxicEventKind) -> crate::Result {
        let event = ToxicEvent::new(self.name.clone(), kind);
        match self.events.send_receive(event).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("proxy {}: {e}", self.name).into()),
            Err(_) => Err(format!("proxy {} stopped", self.name).into()),
        }
    }

    /// Adds a toxic on one direction (`upstream`: client to server).
    pub(crate) async fn add(
        &mut self,
        name: &str,
        kind: ToxicKind,
        direction: StreamDirection,
        toxicity: f32,
    ) -> crate::Result {
        let toxic = Toxic {
            kind,
            name: name.to_owned(),
            toxicity,
            direction,
        };
        self.send(ToxicEventKind::AddToxic(toxic)).await?;
        self.installed.push(name.to_owned());
        Ok(())
    }

    /// Removes every toxic, one by one by name: noxious 1.0.4's "remove all" empties only the
    /// upstream list (the downstream toxics stay), so it is not used.
    pub(crate) async fn clear(&mut self) -> crate::Result {
        for name in std::mem::take(&mut self.installed) {
            self.send(ToxicEventKind::RemoveToxic(name)).await?;
        }
        Ok(())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(s) = self.stopper.take() {
            s.stop();
        }
    }
}

/// `latency` ms ± `jitter` on the answers (downstream), on every connection.
pub(crate) fn latency(latency: u64, jitter: u64) -> ToxicKind {
    ToxicKind::Latency { latency, jitter }
}

/// No data flows (`timeout` 0: the connection stays open: half-open; otherwise closed after
/// `ms`).
pub(crate) fn silence(ms: u64) -> ToxicKind {
    ToxicKind::Timeout { timeout: ms }
}

/// The lowest rate [`bandwidth`] installs, in KB/s.
///
/// noxious 1.0.4's `bandwidth` toxic cuts a chunk larger than `rate × 100` bytes into 100-byte
/// pieces 100 ms apart and subtracts 100 ms from the chunk's own delay per piece, which
/// underflows ("overflow when subtracting durations") and kills the proxy's task for any chunk
/// bigger than `rate × 100` bytes. Its reads are at most 32 KiB, so from 330 KB/s on no chunk is
/// ever cut and the toxic only sleeps `len / rate` per chunk, as Toxiproxy does.
pub(crate) const MIN_BANDWIDTH_KB_S: u64 = 330;

/// At most `kb_s` KB/s (never below [`MIN_BANDWIDTH_KB_S`], see there).
pub(crate) fn bandwidth(kb_s: u64) -> ToxicKind {
    ToxicKind::Bandwidth {
        rate: kb_s.max(MIN_BANDWIDTH_KB_S),
    }
}

pub(crate) use noxious::toxic::StreamDirection::{Downstream, Upstream};
