//! The shared contract suite, run against the actix-web adapter.

#[path = "../examples/contract.rs"]
#[allow(dead_code)]
mod contract;

use qelos_contract::{ContractApp, QelosConfig, RunningApp};

struct Actix;

impl ContractApp for Actix {
    const NAME: &'static str = "actix";

    fn spawn(config: QelosConfig) -> std::io::Result<RunningApp> {
        RunningApp::spawn(move |listener| {
            actix_web::rt::System::new().block_on(async move {
                let qelos = contract::middleware(config);
                actix_web::HttpServer::new(move || {
                    let qelos = qelos.clone();
                    actix_web::App::new().configure(move |cfg| contract::routes(cfg, qelos))
                })
                .workers(2)
                .disable_signals()
                .listen(listener)?
                .run()
                .await
            })
        })
    }
}

qelos_contract::contract_tests!(Actix);
qelos_contract::bff_tests!(Actix);
qelos_contract::browser_tests!(Actix);
