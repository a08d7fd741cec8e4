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
        contract::spawn(config)
    }
}

qelos_contract::contract_tests!(Axum);
qelos_contract::bff_tests!(Axum);
qelos_contract::browser_tests!(Axum);
