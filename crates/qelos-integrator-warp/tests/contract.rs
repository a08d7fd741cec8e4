//! The shared contract suite, run against the warp adapter.

#[path = "../examples/contract.rs"]
#[allow(dead_code)]
mod contract;

use qelos_contract::{ContractApp, QelosConfig, RunningApp};

struct Warp;

impl ContractApp for Warp {
    const NAME: &'static str = "warp";

    fn spawn(config: QelosConfig) -> std::io::Result<RunningApp> {
        RunningApp::spawn_on_tokio(move |listener| async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            contract::serve(listener, config).await
        })
    }
}

qelos_contract::contract_tests!(Warp);
qelos_contract::bff_tests!(Warp);
qelos_contract::browser_tests!(Warp);
