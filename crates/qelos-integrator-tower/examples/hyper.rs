//! The Qelos layer on plain hyper (through `hyper-util`), no web framework:
//! `cargo run -p qelos-integrator-tower --example hyper` (`QELOS_APP_URL`, default
//! `http://localhost:3000`; `PORT`, default 8080).

use std::convert::Infallible;

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use qelos_integrator_tower::{QelosConfig, QelosLayer, RequestState};
use tower_layer::Layer;

/// A plain handler: it reads the state the layer left and returns a plain string. After a
/// refresh the layer still writes both rotated cookies onto this answer.
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let state = request.extensions().get::<RequestState>().cloned();
    let name = match state {
        Some(state) => match state.signed_in_context().await {
            Ok(Some(ctx)) => ctx.user().map(|u| u.username.clone()).unwrap_or_default(),
            _ => "stranger".to_owned(),
        },
        None => "stranger".to_owned(),
    };
    Ok(Response::new(Full::from(format!("hello {name}"))))
}

/// Serves `hello` behind `layer` on `listener`, one task per connection.
pub async fn serve(listener: tokio::net::TcpListener, layer: QelosLayer) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let service = layer.layer(tower::service_fn(hello));
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(err) = connection.await {
                eprintln!("connection error: {err}");
            }
        });
    }
}

#[allow(dead_code)] // the test binary that includes this file calls `serve` only
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("QELOS_APP_URL").unwrap_or_else(|_| "http://localhost:3000".into());
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let layer = QelosLayer::new(QelosConfig::builder(url).build()?);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("hyper + Qelos on http://{}", listener.local_addr()?);
    serve(listener, layer).await?;
    Ok(())
}
