//! `qelos-mock`: run the fake Qelos server.
//!
//! `qelos-mock --port 3000` (or `PORT`), `--host 127.0.0.1`, `--no-controls`.

use std::net::{IpAddr, SocketAddr};

use qelos_mock::{MockConfig, MockServer};

fn usage() -> ! {
    println!(
        "usage: qelos-mock [--port N] [--host ADDR] [--no-controls] [--no-record]\n\nAn in-memory fake Qelos server. PORT is read when --port is absent (default 3000)."
    );
    std::process::exit(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let mut port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let mut host: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let mut controls = true;
    let mut record = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" | "-p" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port needs a number")?
            }
            "--host" => {
                host = args
                    .next()
                    .and_then(|h| h.parse().ok())
                    .ok_or("--host needs an IP address")?
            }
            "--no-controls" => controls = false,
            "--no-record" => record = false,
            "--help" | "-h" => usage(),
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    let config = MockConfig {
        addr: SocketAddr::new(host, port),
        controls,
        record_requests: record,
        ..MockConfig::default()
    };
    let mock = MockServer::start_with(config).await?;
    let seed = mock.seed();
    println!("qelos-mock listening on {}", mock.url());
    println!("  admin: {} / {}", seed.admin.username, seed.admin.password);
    println!("  user:  {} / {}", seed.user.username, seed.user.password);
    for ws in &seed.workspaces {
        println!("  workspace {:?} ({})", ws.name, ws.id);
    }
    println!("  blueprints: {}", seed.blueprints.join(", "));
    if controls {
        println!("  test controls: {}/__mock/*", mock.url());
    }
    tokio::signal::ctrl_c().await?;
    drop(mock);
    Ok(())
}
