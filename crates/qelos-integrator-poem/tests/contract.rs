//! The shared contract suite, run against the poem adapter.

#[path = "../examples/contract.rs"]
#[allow(dead_code)]
mod contract;

use qelos_contract::{ContractApp, QelosConfig, RunningApp};

struct Poem;

impl ContractApp for Poem {
    const NAME: &'static str = "poem";

    fn spawn(config: QelosConfig) -> std::io::Result<RunningApp> {
        RunningApp::spawn_on_tokio(move |listener| async move {
            let acceptor = poem::listener::TcpAcceptor::from_std(listener)?;
            poem::Server::new_with_acceptor(acceptor)
                .run(contract::app(config))
                .await
        })
    }
}

qelos_contract::contract_tests!(Poem);
qelos_contract::bff_tests!(Poem);
qelos_contract::browser_tests!(Poem);
