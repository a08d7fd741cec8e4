//! The shared contract suite, run against the Rocket adapter.

#[path = "../examples/contract.rs"]
#[allow(dead_code)]
mod contract;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use qelos_contract::{ContractApp, QelosConfig, RunningApp};

struct Rocket;

impl ContractApp for Rocket {
    const NAME: &'static str = "rocket";
    // The guards resolve a request on first use: a route without one resolves nothing.
    const RESOLVES_ON_DEMAND: bool = true;

    fn spawn(config: QelosConfig) -> std::io::Result<RunningApp> {
        let port = RunningApp::free_port()?;
        let figment = rocket::Config::figment()
            .merge(("port", port))
            .merge(("address", "127.0.0.1"))
            .merge(("workers", 2))
            .merge(("log_level", "off"))
            .merge(("cli_colors", false))
            .merge(("shutdown.ctrlc", false));
        std::thread::Builder::new()
            .name("contract-app".into())
            .spawn(move || {
                let launched =
                    rocket::execute(contract::app(rocket::custom(figment), config).launch());
                if let Err(err) = launched {
                    eprintln!("rocket stopped: {err}");
                }
            })?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other("rocket did not start"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(RunningApp::at(addr))
    }
}

qelos_contract::contract_tests!(Rocket);
qelos_contract::bff_tests!(Rocket);
qelos_contract::browser_tests!(Rocket);
