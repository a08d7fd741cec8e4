//! Serving warp inside the Qelos layer: warp's own server takes filters, not tower services,
//! so the accept loop is here.

use std::net::SocketAddr;
use std::task::{Context, Poll};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tower_service::Service;
use warp::hyper::body::Incoming;

/// The address of the connection a request came on, in the request's extensions (what
/// `warp::addr::remote()` gives under `warp::serve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Serves `service` on `listener`, HTTP/1 and HTTP/2, one task per connection, with the
/// connection's [`PeerAddr`] in each request. `service` is warp's routes inside the Qelos
/// layer, `layer.layer(warp::service(routes))`: every request gets its Qelos state before any
/// filter runs, the response cookies are written after every reply whatever the handler
/// returned, and one layer (one integrator) serves every route.
///
/// # Errors
///
/// An error accepting a connection.
///
/// # Examples
///
/// ```no_run
/// use tower_layer::Layer;
/// use warp::Filter;
/// use qelos_integrator_warp::{Qelos, QelosConfig, QelosLayer, qelos, recover, serve};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = QelosLayer::new(QelosConfig::builder("http://localhost:3000").build()?);
/// let me = warp::path("me").and(qelos()).map(|q: Qelos| {
///     q.user().map(|u| u.username.clone()).unwrap_or_default()
/// });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// serve(listener, layer.layer(warp::service(me.recover(recover)))).await?;
/// # Ok(()) }
/// ```
pub async fn serve<S, B>(listener: tokio::net::TcpListener, service: S) -> std::io::Result<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let (stream, peer) = listener.accept().await?;
        let service = TowerToHyperService::new(WithPeer {
            inner: service.clone(),
            peer: PeerAddr(peer),
        });
        tokio::spawn(async move {
            let io = TokioIo::new(stream);
            if let Err(err) = Builder::new(TokioExecutor::new())
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(error = %err, "connection closed with an error");
            }
        });
    }
}

/// Puts the connection's [`PeerAddr`] into each request.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: PeerAddr,
}

impl<S, B> Service<http::Request<B>> for WithPeer<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.peer);
        self.inner.call(request)
    }
}
