//! `qelos-bench`: overhead per request of every adapter, against the bare framework and against
//! the hand-written lower bound, all against one `qelos-mock`.
//!
//! * `qelos-bench run [--smoke] [--seconds N] [--connections N] [--rounds N] [--slices N] [--frameworks a,b] [--cases "adapter, signed in;bare"] [--out DIR]`
//! * `qelos-bench app <framework> <bare|lower|adapter|cached> <port> <qelos url>` (internal)

#![allow(clippy::print_stdout)]

mod apps;
mod load;
mod serial;

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apps::Mode;
use load::Stats;

pub(crate) type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const FRAMEWORKS: [&str; 5] = ["axum", "actix", "poem", "warp", "rocket"];

fn main() -> Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("app") => {
            let (fw, mode, port, url) = match &args[1..] {
                [fw, mode, port, url] => (fw, mode, port, url),
                _ => {
                    return Err(
                        "usage: qelos-bench app <framework> <mode> <port> <qelos url>".into(),
                    );
                }
            };
            let mode = Mode::parse(mode).ok_or("mode: bare|lower|adapter|cached")?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port.parse::<u16>()?));
            apps::serve(fw, mode, addr, url)
        }
        Some("run") => run(&args[1..]),
        Some("soak") => soak(&args[1..]),
        Some("load") => {
            // `qelos-bench load <addr> <seconds> [authorization] [--connections N]`: drive one
            // running app (for profiling it under valgrind, perf or gdb); 4 connections unless
            // told.
            let (mut positional, mut connections) = (Vec::new(), 4usize);
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--connections" => {
                        connections = it.next().ok_or("--connections N")?.parse()?;
                    }
                    _ => positional.push(a.clone()),
                }
            }
            let addr: SocketAddr = positional.first().ok_or("load <addr> <seconds>")?.parse()?;
            let seconds: f64 = positional.get(1).ok_or("load <addr> <seconds>")?.parse()?;
            let auth = positional.get(2).cloned();
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            let stats = rt.block_on(load::run(
                addr,
                "/me",
                auth,
                connections,
                Duration::from_secs_f64(seconds),
            ));
            println!(
                "{} ok, {} errors, {:.0} req/s",
                stats.ok,
                stats.errors,
                stats.rps()
            );
            Ok(())
        }
        Some("serial") => {
            let requests = match args.get(1) {
                Some(n) => n.parse()?,
                None => 20_000,
            };
            let (mock, qelos, _rt, bearer) = start_mock()?;
            let only = args.get(2).map(String::as_str);
            serial::run(&qelos, mock.0.id(), &bearer, requests, only)
        }
        _ => {
            println!(
                "usage: qelos-bench run [--smoke] [--seconds N] [--connections N] [--rounds N] [--slices N] [--frameworks a,b] [--cases \"adapter, signed in;bare\"] [--out DIR]"
            );
            Ok(())
        }
    }
}

struct Options {
    smoke: bool,
    seconds: f64,
    connections: usize,
    frameworks: Vec<String>,
    out: PathBuf,
    rounds: usize,
    /// Slices per case and round (alternating between the cases).
    slices: usize,
    /// Only the cases whose label contains one of these (all when empty).
    cases: Vec<String>,
}

fn options(args: &[String]) -> Result<Options> {
    let mut o = Options {
        smoke: false,
        seconds: 3.0,
        connections: 32,
        frameworks: FRAMEWORKS.iter().map(|s| (*s).to_owned()).collect(),
        out: PathBuf::from("target/bench"),
        rounds: 15,
        slices: 6,
        cases: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--smoke" => {
                o.smoke = true;
                o.seconds = 0.5;
                o.connections = 2;
                o.rounds = 1;
                o.slices = 1;
            }
            "--seconds" => o.seconds = it.next().ok_or("--seconds N")?.parse()?,
            "--connections" => o.connections = it.next().ok_or("--connections N")?.parse()?,
            "--rounds" => o.rounds = it.next().ok_or("--rounds N")?.parse::<usize>()?.max(1),
            "--slices" => o.slices = it.next().ok_or("--slices N")?.parse::<usize>()?.max(1),
            "--frameworks" => {
                o.frameworks = it
                    .next()
                    .ok_or("--frameworks a,b")?
                    .split(',')
                    .map(str::to_owned)
                    .collect()
            }
            "--out" => o.out = PathBuf::from(it.next().ok_or("--out DIR")?),
            "--cases" => {
                o.cases = it
                    .next()
                    .ok_or("--cases \"adapter, signed in;bare\"")?
                    .split(';')
                    .map(str::to_owned)
                    .collect()
            }
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(o)
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_for(addr: SocketAddr) -> Result {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            return Err(format!("nothing listens on {addr}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn sibling(name: &str) -> Result<PathBuf> {
    let me = std::env::current_exe()?;
    let dir = me.parent().ok_or("no executable directory")?;
    let path = dir.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} not built (cargo build -p qelos-mock)", path.display()).into())
    }
}

/// A memory figure of a process from `/proc/<pid>/status`, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time a process has used so far (user + system, all threads), in microseconds.
pub(crate) fn cpu_us(pid: u32) -> u64 {
    stat_cpu_us(&format!("/proc/{pid}/stat"))
}

/// User + system CPU time from a `/proc/.../stat` file, in microseconds (0 when unreadable).
pub(crate) fn stat_cpu_us(path: &str) -> u64 {
    // Fields 14 and 15, counted after the parenthesised command name.
    let ticks = std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 1..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    // Linux reports these in USER_HZ, which is 100 on every platform it supports.
    ticks * 10_000
}

/// Peak resident memory of a process, in KiB (`VmHWM`).
fn peak_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

/// `qelos-bench soak --minutes M --framework F`: the adapter under signed-in and anonymous load
/// for M minutes; resident memory sampled every 15 s.
fn soak(args: &[String]) -> Result {
    let mut minutes = 10.0_f64;
    let mut framework = "axum".to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--minutes" => minutes = it.next().ok_or("--minutes M")?.parse()?,
            "--framework" => framework = it.next().ok_or("--framework F")?.clone(),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let (_mock, qelos, rt, bearer) = start_mock()?;
    let port = free_port()?;
    let app = Guard(
        Command::new(std::env::current_exe()?)
            .args(["app", &framework, "adapter", &port.to_string(), &qelos])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for(addr)?;
    let slices = ((minutes * 60.0) / 15.0).ceil().max(1.0) as usize;
    let mut samples = Vec::with_capacity(slices);
    let mut total = 0u64;
    for i in 0..slices {
        let (signed, anon) = rt.block_on(async {
            futures_util::future::join(
                load::run(
                    addr,
                    "/me",
                    Some(bearer.clone()),
                    8,
                    Duration::from_secs(15),
                ),
                load::run(addr, "/me", None, 8, Duration::from_secs(15)),
            )
            .await
        });
        total += signed.ok + anon.ok;
        let rss = status_kib(app.0.id(), "VmRSS:");
        println!(
            "t={:>4}s rss {rss:>7} KiB  signed-in {:>7.0} req/s  anonymous {:>7.0} req/s  errors {}",
            (i + 1) * 15,
            signed.rps(),
            anon.rps(),
            signed.errors + anon.errors
        );
        samples.push(rss);
    }
    let first = samples.iter().take(4).copied().max().unwrap_or(0);
    let last = samples.last().copied().unwrap_or(0);
    let max = samples.iter().copied().max().unwrap_or(0);
    println!(
        "{framework}: {total} requests in {minutes} min; RSS after the first minute {first} KiB, at the end {last} KiB, max {max} KiB ({:+.1}% end vs first minute)",
        if first > 0 {
            (last as f64 - first as f64) * 100.0 / first as f64
        } else {
            0.0
        }
    );
    Ok(())
}

struct Row {
    framework: String,
    case: &'static str,
    /// The median round.
    stats: Stats,
    /// Requests/s of every round, in round order.
    per_round: Vec<f64>,
    /// CPU time per request of every round (the app's and the mock's), in round order.
    cpu_per_round: Vec<f64>,
    peak_kib: u64,
}

fn run(args: &[String]) -> Result {
    let o = options(args)?;
    std::fs::create_dir_all(&o.out)?;
    let (mock, qelos, rt, bearer) = start_mock()?;
    let me = std::env::current_exe()?;
    let duration = Duration::from_secs_f64(o.seconds);
    // Each compared pair sits side by side in this (cyclic) order, so within a round the two
    // halves of a ratio are measured one right after the other.
    let all_cases: [(&str, Mode, bool); 6] = [
        ("adapter, signed in", Mode::Adapter, true),
        ("lower bound, signed in", Mode::Lower, true),
        ("adapter, anonymous", Mode::Adapter, false),
        ("bare, anonymous", Mode::Bare, false),
        ("adapter + cache, signed in", Mode::Cached, true),
        ("lower bound, anonymous", Mode::Lower, false),
    ];
    let cases: Vec<(&str, Mode, bool)> = all_cases
        .into_iter()
        .filter(|(label, _, _)| {
            o.cases.is_empty() || o.cases.iter().any(|c| label.contains(c.as_str()))
        })
        .collect();
    let mut rows = Vec::new();
    for fw in &o.frameworks {
        // All six apps of a framework run side by side; the cases are measured in rounds, each
        // round starting with a different case, and each case reports its median round: slow
        // phases of a shared machine then hit every case alike instead of skewing one ratio.
        let mut apps = Vec::with_capacity(cases.len());
        for &(_, mode, _) in &cases {
            let port = free_port()?;
            let mode_name = match mode {
                Mode::Bare => "bare",
                Mode::Lower => "lower",
                Mode::Adapter => "adapter",
                Mode::Cached => "cached",
                Mode::Floor => "floor",
            };
            let app = Guard(
                Command::new(&me)
                    .args(["app", fw, mode_name, &port.to_string(), &qelos])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?,
            );
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            apps.push((app, addr));
        }
        for (i, (_, addr)) in apps.iter().enumerate() {
            wait_for(*addr)?;
            let auth = cases[i].2.then(|| bearer.clone());
            rt.block_on(load::run(
                *addr,
                "/me",
                auth,
                o.connections,
                duration.min(Duration::from_millis(500)) / 2,
            ));
        }
        let mut measured: Vec<Vec<Stats>> = vec![Vec::new(); cases.len()];
        let slice = duration / u32::try_from(o.slices).unwrap_or(1);
        // Before every slice, an unmeasured warm-up: the case before may have left the upstream
        // connections idle (the anonymous and cached cases never call the mock), and whichever
        // half of a ratio ran first would pay for waking them.
        let warm_up = (slice / 4).min(Duration::from_millis(250));
        for round in 0..o.rounds {
            // Each case's time in a round is cut into `slices` slices, and the slices of all
            // cases alternate: the two halves of a ratio are then measured under the same
            // phases of a shared machine, which change within seconds.
            let mut sums: Vec<(Stats, Vec<u32>)> = vec![Default::default(); cases.len()];
            for _ in 0..o.slices {
                for k in 0..cases.len() {
                    let i = (k + round) % cases.len();
                    let auth = cases[i].2.then(|| bearer.clone());
                    let (app_pid, mock_pid) = (apps[i].0.0.id(), mock.0.id());
                    rt.block_on(load::run(
                        apps[i].1,
                        "/me",
                        auth.clone(),
                        o.connections,
                        warm_up,
                    ));
                    let (app0, mock0) = (cpu_us(app_pid), cpu_us(mock_pid));
                    let (mut stats, latencies) =
                        rt.block_on(load::run_raw(apps[i].1, "/me", auth, o.connections, slice));
                    let per = |used: u64| used as f64 / stats.ok.max(1) as f64;
                    stats.app_cpu_us = per(cpu_us(app_pid).saturating_sub(app0));
                    stats.mock_cpu_us = per(cpu_us(mock_pid).saturating_sub(mock0));
                    sums[i].0.absorb(&stats);
                    sums[i].1.extend(latencies);
                }
            }
            for (i, (mut stats, latencies)) in sums.into_iter().enumerate() {
                let (case, _, _) = cases[i];
                stats.set_percentiles(latencies);
                println!(
                    "{fw:<7} {case:<28} round {} {:>9.0} req/s  p50 {:>6} µs  p99 {:>6} µs  app cpu {:>5.1} µs/req  mock cpu {:>5.1} µs/req  errors {}",
                    round + 1,
                    stats.rps(),
                    stats.p50_us,
                    stats.p99_us,
                    stats.app_cpu_us,
                    stats.mock_cpu_us,
                    stats.errors
                );
                if o.smoke && (stats.ok == 0 || stats.errors > 0) {
                    return Err(
                        format!("{fw} {case}: {} ok, {} errors", stats.ok, stats.errors).into(),
                    );
                }
                measured[i].push(stats);
            }
        }
        for (i, runs) in measured.into_iter().enumerate() {
            let per_round: Vec<f64> = runs.iter().map(Stats::rps).collect();
            let cpu_per_round: Vec<f64> =
                runs.iter().map(|r| r.app_cpu_us + r.mock_cpu_us).collect();
            let mut sorted = runs;
            sorted.sort_by(|a, b| a.rps().total_cmp(&b.rps()));
            let stats = sorted.get(sorted.len() / 2).cloned().unwrap_or_default();
            rows.push(Row {
                framework: fw.clone(),
                case: cases[i].0,
                stats,
                per_round,
                cpu_per_round,
                peak_kib: peak_kib(apps[i].0.0.id()),
            });
        }
    }
    drop(mock);
    report(&rows, &o)
}

/// Starts `qelos-mock` (call recording off) on a free port and waits for it; returns it with
/// its URL, the load generator's runtime and a signed-in `Authorization` value.
fn start_mock() -> Result<(Guard, String, tokio::runtime::Runtime, String)> {
    let mock_port = free_port()?;
    let mock = Guard(
        Command::new(sibling("qelos-mock")?)
            .args(["--port", &mock_port.to_string(), "--no-record"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let mock_addr = SocketAddr::from(([127, 0, 0, 1], mock_port));
    wait_for(mock_addr)?;
    let qelos = format!("http://{mock_addr}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let bearer = format!("Bearer {}", rt.block_on(mint(&qelos))?);
    Ok((mock, qelos, rt, bearer))
}

async fn mint(qelos: &str) -> Result<String> {
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{qelos}/__mock/tokens"))
        .json(&serde_json::json!({"username": "test@test.com"}))
        .send()
        .await?
        .json()
        .await?;
    Ok(v["access"].as_str().ok_or("mint failed")?.to_owned())
}

fn row<'a>(rows: &'a [Row], fw: &str, case: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.framework == fw && r.case == case)
}

/// The median over rounds of `case`'s requests/s divided by `reference`'s in the same round.
/// Pairing by round cancels the slow drifts of a shared machine, which move both halves of a
/// ratio together; `0` when either case was not measured.
fn paired_ratio(rows: &[Row], fw: &str, case: &str, reference: &str) -> f64 {
    let (Some(a), Some(b)) = (row(rows, fw, case), row(rows, fw, reference)) else {
        return 0.0;
    };
    median_ratio(&a.per_round, &b.per_round)
}

/// The median over rounds of `reference`'s CPU time per request (app and mock) divided by
/// `case`'s in the same round: 1.0 when the case costs what the reference costs. CPU time per
/// request moves less with the machine's other load than requests/s.
fn paired_cost_ratio(rows: &[Row], fw: &str, case: &str, reference: &str) -> f64 {
    let (Some(a), Some(b)) = (row(rows, fw, case), row(rows, fw, reference)) else {
        return 0.0;
    };
    median_ratio(&b.cpu_per_round, &a.cpu_per_round)
}

fn median_ratio(numerators: &[f64], denominators: &[f64]) -> f64 {
    let mut ratios: Vec<f64> = numerators
        .iter()
        .zip(denominators)
        .filter(|(_, d)| **d > 0.0)
        .map(|(n, d)| n / d)
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or(0.0)
}

fn report(rows: &[Row], o: &Options) -> Result {
    let mut md = String::from(
        "| framework | case | req/s | p50 µs | p99 µs | app CPU µs/req | mock CPU µs/req | peak KiB | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {:.0} | {} | {} | {:.1} | {:.1} | {} | {} |\n",
            r.framework,
            r.case,
            r.stats.rps(),
            r.stats.p50_us,
            r.stats.p99_us,
            r.stats.app_cpu_us,
            r.stats.mock_cpu_us,
            r.peak_kib,
            r.stats.errors
        ));
    }
    const PAIRS: [(&str, &str); 3] = [
        ("adapter, signed in", "lower bound, signed in"),
        ("adapter, anonymous", "bare, anonymous"),
        ("adapter + cache, signed in", "bare, anonymous"),
    ];
    md.push_str("\nRatios: the median over rounds of the two cases' requests/s in the same round.\n\n| framework | adapter / lower bound (signed in, target ≥ 0.9) | adapter / bare (anonymous, target ≥ 0.95) | cached adapter / bare (target ≥ 0.8) |\n|---|---:|---:|---:|\n");
    for fw in &o.frameworks {
        let [a, b, c] = PAIRS.map(|(case, reference)| paired_ratio(rows, fw, case, reference));
        md.push_str(&format!("| {fw} | {a:.2} | {b:.2} | {c:.2} |\n"));
    }
    md.push_str("\nCost ratios: the median over rounds of the reference's CPU time per request (app and mock) divided by the case's (1.00: the same cost).\n\n| framework | lower bound / adapter, signed in | bare / adapter, anonymous | bare / cached adapter |\n|---|---:|---:|---:|\n");
    for fw in &o.frameworks {
        let [a, b, c] = PAIRS.map(|(case, reference)| paired_cost_ratio(rows, fw, case, reference));
        md.push_str(&format!("| {fw} | {a:.2} | {b:.2} | {c:.2} |\n"));
    }
    println!("\n{md}");
    std::fs::write(o.out.join("results.md"), &md)?;
    std::fs::write(
        o.out.join("requests-per-second.svg"),
        svg(rows, &o.frameworks),
    )?;
    println!(
        "wrote {}/results.md and requests-per-second.svg",
        o.out.display()
    );
    Ok(())
}

/// A grouped bar chart of requests/s per framework and case.
fn svg(rows: &[Row], frameworks: &[String]) -> String {
    let cases = [
        "bare, anonymous",
        "adapter, anonymous",
        "lower bound, signed in",
        "adapter, signed in",
        "adapter + cache, signed in",
    ];
    let colors = ["#9aa5b1", "#3e7cb1", "#f0a202", "#d1495b", "#2a9d8f"];
    let max = rows.iter().map(|r| r.stats.rps()).fold(1.0, f64::max);
    let (w, h, left, bottom) = (900.0, 420.0, 70.0, 60.0);
    let group = (w - left - 20.0) / frameworks.len().max(1) as f64;
    let bar = group / (cases.len() as f64 + 1.0);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    out.push_str(&format!(
        r#"<text x="{left}" y="20" font-size="15">Requests per second (higher is better)</text>"#
    ));
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = h - bottom - (h - bottom - 40.0) * f64::from(i) / 4.0;
        out.push_str(&format!(r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v:.0}</text>"##, w - 20.0, left - 6.0, y + 4.0));
    }
    for (g, fw) in frameworks.iter().enumerate() {
        let x0 = left + group * g as f64 + bar / 2.0;
        for (c, case) in cases.iter().enumerate() {
            let v = row(rows, fw, case).map_or(0.0, |r| r.stats.rps());
            let bh = (h - bottom - 40.0) * v / max;
            out.push_str(&format!(
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{}"><title>{fw} {case}: {v:.0}</title></rect>"#,
                x0 + bar * c as f64, h - bottom - bh, bar * 0.9, colors[c]
            ));
        }
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{fw}</text>"#,
            x0 + bar * cases.len() as f64 / 2.0,
            h - bottom + 18.0
        ));
    }
    for (c, case) in cases.iter().enumerate() {
        let x = left + 170.0 * (c % 5) as f64;
        out.push_str(&format!(r#"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{case}</text>"#, h - 22.0, colors[c], x + 14.0, h - 13.0));
    }
    out.push_str("</svg>\n");
    out
}
