//! The shared contract suite, run against the axum adapter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

#[path = "../examples/contract.rs"]
#[allow(dead_code)]
mod contract;

use qelos_contract::{ContractApp, QelosConfig, RunningApp};

struct Axum;

impl ContractApp for Axum {
    const NAME: &'static str = "axum";

    fn spawn(config: QelosConfig) -> std::io::Result<RunningApp> {
        RunningApp::spawn(move |listener| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(
                    listener,
                    contract::app(config)
                        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
                )
                .await
            })
        })
    }
}

qelos_contract::contract_tests!(Axum);
qelos_contract::bff_tests!(Axum);
