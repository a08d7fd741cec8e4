//! `cargo run -p quickstart`: the quickstart on `127.0.0.1:$PORT` (default 8080), against the
//! Qelos at `QELOS_APP_URL`, or against an embedded `qelos-mock` when that is not set.

#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> Result<(), quickstart::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let use_env = std::env::var("QELOS_APP_URL").is_ok_and(|v| !v.trim().is_empty());
    let (config, mock) = if use_env {
        (quickstart::config_from_env()?, None)
    } else {
        let (config, mock) = quickstart::with_embedded_mock().await?;
        (config, Some(mock))
    };
    let running = quickstart::start(config, ("127.0.0.1", quickstart::port_from_env())).await?;
    match &mock {
        Some(mock) => {
            let admin = &mock.seed().admin;
            println!(
                "QELOS_APP_URL is not set: using an embedded qelos-mock at {}",
                mock.url()
            );
            println!("quickstart on {}", running.url());
            println!("sign in as {} / {}", admin.username, admin.password);
        }
        None => println!("quickstart on {} (Qelos at $QELOS_APP_URL)", running.url()),
    }
    tokio::signal::ctrl_c().await?;
    drop(running);
    Ok(())
}
