//! `qelos-faults`: the fault suite (see `docs/reliability.md`).
//!
//! * `qelos-faults run [--short] [--adapters axum,actix] [--scenarios 1,2a,…] [--loopback]
//!   [--mock-bin PATH] [--app-bin PATH [--app-arg ARG]…] [--out DIR] [--summary FILE]`: starts, per adapter,
//!   one `qelos-mock`, one `redis-server` and three instances of the adapter's app, each on
//!   its own test host (network namespaces; loopback where they cannot be made), puts a
//!   fault-injecting proxy (noxious, Toxiproxy's core) between the instances and Redis and
//!   Qelos, runs the scenarios under load from simulated browsers, prints one row per
//!   scenario and the line `N passed, M failed` (also to `--summary FILE`). Exit status 1 when a scenario failed.
//! * `qelos-faults app <adapter> <listen> <qelos url> <redis url> <timeout ms> <lock ttl ms>`:
//!   one instance (the adapter's contract app with the Redis store). `--app-bin` runs another
//!   program with the same arguments (after its `--app-arg`s), so the suite is generic over
//!   the app binary.
//! * `qelos-faults garbage <addr>`: a server that answers every Redis command with garbage.

#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod apps;
mod browsers;
mod env;
mod load;
mod net;
mod procs;
mod report;
mod scenarios;
mod toxiproxy;

use std::path::PathBuf;
use std::time::Duration;

use env::{Env, Settings};
use procs::AppCommand;
use scenarios::{KillPoint, RedisAway, Scale};

pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("app") => apps::AppArgs::parse(&args[1..]).and_then(|a| apps::serve(&a)),
        Some("garbage") => garbage(args.get(1).map(String::as_str)),
        Some("run") => return run(&args[1..]),
        _ => {
            println!(
                "usage: qelos-faults run [--short] [--adapters axum,actix] [--scenarios 1,2a,...] [--loopback] [--summary FILE]"
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qelos-faults: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Answers everything with bytes that are no Redis protocol.
fn garbage(addr: Option<&str>) -> Result {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(addr.ok_or("garbage <addr>")?)?;
    for stream in listener.incoming() {
        let Ok(mut s) = stream else { continue };
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0
                    || s.write_all(b"%\xff\xfegarbage\r\n$-9\r\n:not-a-number\r\n")
                        .is_err()
                {
                    break;
                }
            }
        });
    }
    Ok(())
}

struct Options {
    scale: Scale,
    adapters: Vec<String>,
    scenarios: Vec<String>,
    loopback: bool,
    mock_bin: Option<PathBuf>,
    app: Option<AppCommand>,
    out: PathBuf,
    /// Where the table, the failed checks and the summary line are also written.
    summary: Option<PathBuf>,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        scale: Scale { short: false },
        adapters: apps::ADAPTERS.iter().map(|s| (*s).to_owned()).collect(),
        scenarios: scenarios::ALL.iter().map(|s| (*s).to_owned()).collect(),
        loopback: false,
        mock_bin: None,
        app: None,
        out: std::env::temp_dir().join(format!("qelos-faults-{}", std::process::id())),
        summary: None,
    };
    let mut it = args.iter();
    let list = |v: Option<&String>| -> Result<Vec<String>> {
        Ok(v.ok_or("a list is missing")?
            .split(',')
            .map(str::to_owned)
            .collect())
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--short" => o.scale.short = true,
            "--loopback" => o.loopback = true,
            "--adapters" => o.adapters = list(it.next())?,
            "--scenarios" => o.scenarios = list(it.next())?,
            "--mock-bin" => o.mock_bin = Some(PathBuf::from(it.next().ok_or("--mock-bin PATH")?)),
            "--app-bin" => {
                o.app = Some(AppCommand {
                    program: PathBuf::from(it.next().ok_or("--app-bin PATH")?),
                    prefix: Vec::new(),
                })
            }
            "--app-arg" => {
                let arg = it.next().ok_or("--app-arg ARG")?.clone();
                o.app
                    .as_mut()
                    .ok_or("--app-arg comes after --app-bin")?
                    .prefix
                    .push(arg);
            }
            "--out" => o.out = PathBuf::from(it.next().ok_or("--out DIR")?),
            "--summary" => o.summary = Some(PathBuf::from(it.next().ok_or("--summary FILE")?)),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(o)
}

fn run(args: &[String]) -> std::process::ExitCode {
    match run_all(args) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("qelos-faults: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_all(args: &[String]) -> Result<bool> {
    let o = options(args)?;
    let me = std::env::current_exe()?;
    let mock_bin = match o.mock_bin.clone() {
        Some(p) => p,
        None => me
            .parent()
            .map(|d| d.join("qelos-mock"))
            .filter(|p| p.exists())
            .ok_or("qelos-mock not found beside qelos-faults (or pass --mock-bin)")?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let proxies = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fault-proxies")
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for adapter in &o.adapters {
        let settings = Settings {
            adapter: adapter.clone(),
            app: o.app.clone().unwrap_or_else(|| AppCommand {
                program: me.clone(),
                prefix: vec!["app".into()],
            }),
            mock_bin: mock_bin.clone(),
            deadline: Duration::from_millis(3000),
            lock_ttl: Duration::from_millis(2000),
            loopback: o.loopback,
            dir: o.out.join(adapter),
            proxies: proxies.handle().clone(),
        };
        let adapter_rows = rt.block_on(run_adapter(settings, &o, &me))?;
        rows.extend(adapter_rows);
    }
    let summary = report::summary(&rows, &o.out);
    println!("\n{summary}");
    if let Some(path) = &o.summary {
        std::fs::write(path, &summary)?;
    }
    Ok(rows.iter().all(report::Row::passed))
}

async fn run_adapter(
    settings: Settings,
    o: &Options,
    me: &std::path::Path,
) -> Result<Vec<report::Row>> {
    let adapter = settings.adapter.clone();
    let mut env = Env::start(settings).await?;
    match &env.net.fallback {
        None => {
            println!("[{adapter}] test hosts: network namespaces (one per process), veth links")
        }
        Some(why) => println!("[{adapter}] test hosts: loopback ({why})"),
    }
    let scale = o.scale;
    let mut rows = Vec::new();
    for id in &o.scenarios {
        println!("[{adapter}] scenario {id} ...");
        if let Err(e) = env.fresh_qelos().await {
            println!("[{adapter}] could not restart qelos-mock: {e}");
        }
        let row = match id.as_str() {
            "1" => scenarios::storm(&mut env, scale).await,
            "2a" => scenarios::redis_outage(&mut env, scale, RedisAway::Killed).await,
            "2b" => scenarios::redis_outage(&mut env, scale, RedisAway::LinkCut).await,
            "3" => scenarios::qelos_degraded(&mut env, scale).await,
            "4a" => scenarios::instance_killed(&mut env, scale, KillPoint::BeforeQelos).await,
            "4b" => scenarios::instance_killed(&mut env, scale, KillPoint::AfterQelos).await,
            "5" => scenarios::redis_misbehaving(&mut env, scale, me).await,
            "6" => scenarios::proxy_faults(&mut env, scale).await,
            "7" => scenarios::bad_input(&mut env, scale).await,
            other => Err(format!("unknown scenario {other}").into()),
        };
        let row = row.unwrap_or_else(|e| {
            let mut r = report::Row {
                scenario: id.clone(),
                adapter: adapter.clone(),
                ..report::Row::default()
            };
            r.check(format!("the scenario ran ({e})"), false);
            r
        });
        println!("{}", report::line(&row));
        rows.push(row);
    }
    Ok(rows)
}
