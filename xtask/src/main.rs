//! Project automation.
//!
//! * `cargo xtask test`: everything CI runs, on a fresh Debian machine: installs what is
//!   missing (apt packages, cargo-nextest, a Python venv with the official `qelos-sdk` client),
//!   checks formatting and lints, runs every test with `cargo nextest` and once more with plain
//!   `cargo test`, runs the doctests, checks the MSRV, builds the docs with warnings denied,
//!   packages every published crate, prints the contract table (scenario × adapter) and runs
//!   the short fault suite.
//! * `cargo xtask msrv` / `docs` / `package`: one of those publishing checks alone.
//! * `cargo xtask faults`: the fault suite (`docs/reliability.md`), full unless `--short`.
//! * `cargo xtask table`: prints the contract table of the last run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The pinned version of the official Python client used by the conformance tests.
const PY_QELOS_SDK: &str = "qelos-sdk==4.0.0";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("table") => print_contract_table(&root()).map(|_| ()),
        Some("bench") => bench(&args[1..]),
        Some("msrv") => msrv(&root()),
        Some("docs") => docs(&root()),
        Some("package") => package(&root()),
        Some("faults") => faults(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <test|bench|faults|table|msrv|docs|package>\n\n  test   install what is missing, lint, run every test, print the contract table\n  msrv / docs / package   one of test's publishing checks alone\n  bench  load benchmarks in release mode (options: --seconds N --connections N --rounds N --frameworks a,b --cases \"a;b\")\n  faults fault suite across processes and networks (options: --short --adapters a,b --scenarios 1,2a --loopback)\n  table  print the contract table of the last test run"
            );
            Err("unknown command".into())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn step(name: &str) {
    println!("\n==> {name}");
}

fn run(cmd: &mut Command) -> Result {
    println!("$ {cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have(program: &str) -> bool {
    succeeds(Command::new("sh").args(["-c", &format!("command -v {program}")]))
}

/// Installs Debian packages that are missing (needs root or sudo; `apt-get update` first).
fn apt_install(packages: &[&str]) -> Result {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !succeeds(Command::new("dpkg").args(["-s", p])))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !have("apt-get") {
        return Err(format!(
            "missing packages {missing:?} and no apt-get to install them"
        ));
    }
    let sudo = if succeeds(Command::new("sh").args(["-c", "[ \"$(id -u)\" = 0 ]"])) {
        vec![]
    } else {
        vec!["sudo"]
    };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.clone();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut cmd = Command::new(all[0]);
        cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update"]))?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(missing.iter().copied());
    run(&mut apt(&install))
}

fn setup(root: &Path) -> Result<PathBuf> {
    step("set-up: system packages");
    let mut packages = vec![];
    if !have("python3") {
        packages.push("python3");
    }
    if !succeeds(Command::new("python3").args(["-c", "import venv, ensurepip"])) {
        packages.push("python3-venv");
    }
    // The Redis backend's tests start their own throw-away redis-server.
    if !have("redis-server") {
        packages.push("redis-server");
    }
    // The fault suite puts each process on a test host of its own (network namespaces).
    if !have("ip") {
        packages.push("iproute2");
    }
    // The `rediss://` tests generate their certificates with the openssl CLI; the
    // `native-tls` feature check links OpenSSL (found through pkg-config).
    if !have("openssl") {
        packages.push("openssl");
    }
    if !have("pkg-config") {
        packages.push("pkg-config");
    }
    packages.push("libssl-dev");
    // The quickstart's browser test drives a real headless Chromium through WebDriver.
    if !have("chromium") {
        packages.push("chromium");
    }
    if !have("chromedriver") {
        packages.push("chromium-driver");
    }
    apt_install(&packages)?;

    step("set-up: cargo-nextest");
    if !succeeds(Command::new("cargo").args(["nextest", "--version"])) {
        run(Command::new("cargo").args(["install", "cargo-nextest", "--locked"]))?;
    }

    step("set-up: Python venv with the official Qelos client");
    let venv = root.join("target").join("py-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let installed = succeeds(Command::new(&python).args(["-c", "import qelos_sdk"]));
    if !installed {
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet", PY_QELOS_SDK]))?;
    }
    Ok(python)
}

fn test(args: &[String]) -> Result {
    let root = root();
    let python = setup(&root)?;
    let mut failures = Vec::new();

    step("format");
    if let Err(e) = run(Command::new("cargo")
        .current_dir(&root)
        .args(["fmt", "--all", "--", "--check"]))
    {
        failures.push(e);
    }

    step("lint");
    if let Err(e) = run(Command::new("cargo").current_dir(&root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])) {
        failures.push(e);
    }

    step("tests (cargo nextest)");
    let mut nextest = Command::new("cargo");
    nextest
        .current_dir(&root)
        .args(["nextest", "run", "--workspace", "--profile", "ci"])
        .args(args)
        .env("QELOS_PYTHON", &python);
    if let Err(e) = run(&mut nextest) {
        failures.push(e);
    }

    if let Err(e) = plain_cargo_test(&root, &python) {
        failures.push(e);
    }

    step("TLS feature combinations (cargo check; https refused without TLS)");
    if let Err(e) = tls_features(&root) {
        failures.push(e);
    }

    step("doctests");
    if let Err(e) =
        run(Command::new("cargo")
            .current_dir(&root)
            .args(["test", "--workspace", "--doc"]))
    {
        failures.push(e);
    }

    // `--workspace` builds qelos-plugin with its default features (axum) only: its actix,
    // poem, warp, Rocket and Redis parts are checked and tested here.
    step("qelos-plugin: every framework and Redis (--all-features)");
    for args in [
        &[
            "clippy",
            "-p",
            "qelos-plugin",
            "--all-features",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ][..],
        &["nextest", "run", "-p", "qelos-plugin", "--all-features"][..],
        &["test", "-p", "qelos-plugin", "--all-features", "--doc"][..],
    ] {
        if let Err(e) = run(Command::new("cargo").current_dir(&root).args(args)) {
            failures.push(e);
        }
    }

    if let Err(e) = release_examples(&root) {
        failures.push(e);
    }

    for check in [msrv, docs, package] {
        if let Err(e) = check(&root) {
            failures.push(e);
        }
    }

    step("benchmark smoke run (checks the bench works, not its speed)");
    let smoke = run(Command::new("cargo").current_dir(&root).args([
        "build",
        "-p",
        "qelos-bench",
        "-p",
        "qelos-mock",
    ]))
    .and_then(|()| {
        run(Command::new(root.join("target/debug/qelos-bench"))
            .current_dir(&root)
            .args(["run", "--smoke", "--out", "target/bench-smoke"]))
    });
    if let Err(e) = smoke {
        failures.push(e);
    }

    if let Err(e) = faults(&["--short".to_owned()]) {
        failures.push(e);
    }

    step("contract table");
    match print_contract_table(&root) {
        Ok(true) => {}
        Ok(false) => failures.push("a contract scenario failed".into()),
        Err(e) => failures.push(e),
    }

    if failures.is_empty() {
        println!("\nall checks passed");
        Ok(())
    } else {
        Err(format!(
            "{} step(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

/// Every contract app and every example app built in release too: optimised builds hit type
/// recursion limits that debug builds do not (warp's filter chains once failed with E0275).
fn release_examples(root: &Path) -> Result {
    step("contract apps and example apps in release");
    let mut build = Command::new("cargo");
    build.current_dir(root).args(["build", "--release"]);
    for adapter in ["axum", "actix", "poem", "rocket", "warp"] {
        build.args(["-p", &format!("qelos-integrator-{adapter}")]);
        build.args(["--example", &format!("{adapter}-contract")]);
    }
    build.args(["-p", "qelos-integrator-tower", "--example", "hyper"]);
    // `--bins` once: it applies to every selected package.
    build.args(["-p", "framework-examples", "-p", "quickstart", "--bins"]);
    run(&mut build)
}

/// Every test once more under plain `cargo test`, which runs a test binary's tests as threads of
/// one process (nextest runs one process per test): a test that needs the process to itself
/// fails here. Doctests run in their own step.
fn plain_cargo_test(root: &Path, python: &Path) -> Result {
    step("tests (plain cargo test, many tests per process)");
    timed("plain cargo test", || {
        run(Command::new("cargo")
            .current_dir(root)
            .args(["test", "--workspace", "--lib", "--bins", "--tests"])
            .env("QELOS_PYTHON", python))
    })
}

/// Runs `f` and prints how long it took (the steps' share of the CI time budget).
fn timed(what: &str, f: impl FnOnce() -> Result) -> Result {
    let start = std::time::Instant::now();
    let result = f();
    println!("({what}: {:.0} s)", start.elapsed().as_secs_f64());
    result
}

/// The published crates, dependencies first (the order `cargo publish` must follow).
const PUBLISHED: [&str; 10] = [
    "qelos-mock",
    "qelos-sdk",
    "qelos-integrator-core",
    "qelos-integrator-tower",
    "qelos-integrator-axum",
    "qelos-integrator-actix",
    "qelos-integrator-poem",
    "qelos-integrator-rocket",
    "qelos-integrator-warp",
    "qelos-plugin",
];

/// MSRV: the workspace's `rust-version` is not below any locked dependency's, and the workspace
/// builds with that toolchain when rustup has it.
fn msrv(root: &Path) -> Result {
    step("MSRV");
    let output = Command::new("cargo")
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--locked"])
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    let version = |p: &serde_json::Value| p["rust_version"].as_str().map(parse_version);
    let members: Vec<&serde_json::Value> =
        packages.iter().filter(|p| p["source"].is_null()).collect();
    let declared = members
        .iter()
        .filter_map(|p| version(p))
        .min()
        .ok_or("no workspace crate declares rust-version")?;
    let mut above: Vec<String> = packages
        .iter()
        .filter(|p| !p["source"].is_null())
        .filter(|p| version(p).is_some_and(|v| v > declared))
        .map(|p| {
            format!(
                "{} {} needs {}",
                p["name"].as_str().unwrap_or("?"),
                p["version"].as_str().unwrap_or("?"),
                p["rust_version"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let declared_text = format!("{}.{}", declared.0, declared.1);
    if !above.is_empty() {
        above.sort();
        return Err(format!(
            "rust-version {declared_text} is below what locked dependencies declare:\n    {}",
            above.join("\n    ")
        ));
    }
    println!(
        "rust-version {declared_text}: no locked dependency declares a higher one ({} packages)",
        packages.len()
    );
    let toolchains = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let installed = toolchains
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|t| {
            t.strip_prefix(&declared_text)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '.']))
        });
    match installed {
        Some(toolchain) => timed("MSRV build", || {
            run(Command::new("cargo")
                .current_dir(root)
                .arg(format!("+{toolchain}"))
                .args(["check", "--workspace", "--all-targets", "--locked"])
                .env("CARGO_TARGET_DIR", target_dir(root).join("msrv")))
        }),
        None => {
            println!(
                "skipped: the MSRV build needs toolchain {declared_text} (`rustup toolchain install {declared_text}`); installed: {}",
                toolchains
                    .split_whitespace()
                    .filter(|w| w.contains('-') || w.starts_with(char::is_numeric))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(())
        }
    }
}

/// `CARGO_TARGET_DIR`, else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// `1.89`, `1.89.0` → `(1, 89, 0)`.
fn parse_version(text: &str) -> (u32, u32, u32) {
    let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The API docs build as docs.rs builds them, warnings denied (broken intra-doc links, bare
/// URLs, unclosed HTML…).
fn docs(root: &Path) -> Result {
    step("docs (rustdoc, warnings denied)");
    timed("docs", || {
        run(Command::new("cargo")
            .current_dir(root)
            .args(["doc", "--workspace", "--all-features", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"))
    })
}

/// Every published crate packages and its packaged copy builds on its own (`cargo package`
/// verifies each tarball against the others through a local overlay registry, dependencies
/// first). `cargo publish --dry-run` is the same check plus a registry upload rehearsal, which
/// needs crates.io itself (see the README).
fn package(root: &Path) -> Result {
    step("package (cargo package, dependencies first)");
    forget_unpacked_packages()?;
    forget_built_packages(root)?;
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args(["package", "--locked", "--allow-dirty"]);
    for krate in PUBLISHED {
        cmd.args(["-p", krate]);
    }
    timed("package", || run(&mut cmd))
}

/// Removes what an earlier `cargo package` unpacked of our own crates under
/// `$CARGO_HOME/registry/src`. Cargo unpacks the overlay registry's tarballs there and never
/// unpacks the same name and version again, so a second run would verify the adapters against the
/// first run's core. Our crates' names are ours, so nothing else is removed.
fn forget_unpacked_packages() -> Result {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let Ok(registries) = std::fs::read_dir(cargo_home.join("registry").join("src")) else {
        return Ok(());
    };
    let version = env!("CARGO_PKG_VERSION");
    for registry in registries.flatten() {
        for krate in PUBLISHED {
            let unpacked = registry.path().join(format!("{krate}-{version}"));
            if unpacked.is_dir() {
                std::fs::remove_dir_all(&unpacked)
                    .map_err(|e| format!("could not remove {}: {e}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// Removes our crates' compiled artifacts from the debug target directory. Cargo takes a
/// registry package's version as its whole fingerprint, so the packaged copies of our crates
/// (all `0.1.0`, from the same overlay registry path) compiled by an earlier run count as fresh,
/// and the adapters were verified against an earlier core (the overlay and path builds share
/// the directory, so both are rebuilt; that is only our own crates).
fn forget_built_packages(root: &Path) -> Result {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    for dir in [".fingerprint", "deps", "build"] {
        let Ok(entries) = std::fs::read_dir(target.join("debug").join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !(name.starts_with("qelos-")
                || name.starts_with("qelos_")
                || name.starts_with("libqelos_"))
            {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| format!("could not remove {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Every TLS choice compiles for the SDK, core (with `redis-tls`), the adapters and the plugin,
/// and the SDK built without TLS refuses an `https` URL. `cargo check` only: cheap.
fn tls_features(root: &Path) -> Result {
    let crates = [
        "qelos-integrator-axum",
        "qelos-integrator-actix",
        "qelos-integrator-poem",
        "qelos-integrator-rocket",
        "qelos-integrator-warp",
        "qelos-plugin",
    ];
    let check = |packages: &[&str], features: &str| {
        let mut cmd = Command::new("cargo");
        cmd.current_dir(root)
            .args(["check", "--no-default-features"]);
        for p in packages {
            cmd.args(["-p", p]);
        }
        if !features.is_empty() {
            cmd.args(["--features", features]);
        }
        run(&mut cmd)
    };
    check(&["qelos-sdk"], "")?;
    check(&["qelos-integrator-core"], "redis")?;
    for tls in ["rustls-ring", "native-tls"] {
        check(&["qelos-sdk"], tls)?;
        check(
            &["qelos-integrator-core"],
            &format!("{tls},redis-tls,metrics"),
        )?;
        check(&crates, tls)?;
    }
    run(Command::new("cargo").current_dir(root).args([
        "test",
        "-p",
        "qelos-sdk",
        "--no-default-features",
        "--lib",
        "tls::",
    ]))
}

/// `cargo xtask bench`: release build, then every framework × case against one qelos-mock.
fn bench(args: &[String]) -> Result {
    let root = root();
    run(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "qelos-bench",
        "-p",
        "qelos-mock",
    ]))?;
    run(Command::new(root.join("target/release/qelos-bench"))
        .current_dir(&root)
        .arg("run")
        .args(args))
}

/// Reads nextest's JUnit report and prints scenario × adapter. Returns whether every
/// contract test that ran passed.
fn print_contract_table(root: &Path) -> Result<bool> {
    let path = root.join("target/nextest/ci/junit.xml");
    let xml = std::fs::read_to_string(&path)
        .map_err(|e| format!("no test report at {}: {e}", path.display()))?;
    // adapter -> scenario -> passed
    let mut table: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
    let mut rest = xml.as_str();
    while let Some(start) = rest.find("<testcase ") {
        rest = &rest[start..];
        let end_tag = rest.find('>').unwrap_or(rest.len());
        let head = &rest[..end_tag];
        let self_closing = head.ends_with('/');
        let body_end = if self_closing {
            end_tag
        } else {
            rest.find("</testcase>").unwrap_or(rest.len())
        };
        let body = &rest[..body_end];
        let name = attr(head, "name");
        let class = attr(head, "classname");
        if let (Some(name), Some(class)) = (name, class)
            && let Some(adapter) = contract_adapter(&class, &name)
        {
            let scenario = name.rsplit("::").next().unwrap_or(&name).to_owned();
            let passed = !body.contains("<failure") && !body.contains("<error");
            table.entry(adapter).or_default().insert(scenario, passed);
        }
        rest = &rest[body_end.max(1)..];
    }
    if table.is_empty() {
        println!("(no contract tests in the report)");
        return Ok(true);
    }
    let adapters: Vec<&String> = table.keys().collect();
    let mut scenarios: Vec<&String> = table.values().flat_map(|m| m.keys()).collect();
    scenarios.sort();
    scenarios.dedup();
    let mut header = format!("| {:<60} |", "scenario");
    for a in &adapters {
        header.push_str(&format!(" {a:^6} |"));
    }
    println!("{header}");
    println!(
        "|{}|{}",
        "-".repeat(62),
        adapters.iter().map(|_| "--------|").collect::<String>()
    );
    let mut all_ok = true;
    for s in scenarios {
        let mut line = format!("| {s:<60} |");
        for a in &adapters {
            let cell = match table[*a].get(s) {
                Some(true) => "pass",
                Some(false) => {
                    all_ok = false;
                    "FAIL"
                }
                None => {
                    // Every adapter runs every scenario: a gap is a failure too.
                    all_ok = false;
                    "absent"
                }
            };
            line.push_str(&format!(" {cell:^6} |"));
        }
        println!("{line}");
    }
    Ok(all_ok)
}

fn attr(head: &str, key: &str) -> Option<String> {
    let pat = format!(" {key}=\"");
    let start = head.find(&pat)? + pat.len();
    let len = head[start..].find('"')?;
    Some(head[start..start + len].to_owned())
}

/// `qelos-integrator-axum::contract` + `s01_…` (or a same-origin `b01_…`, or a browser
/// `w01_…`) → `axum`.
fn contract_adapter(class: &str, name: &str) -> Option<String> {
    let scenario = name.rsplit("::").next()?;
    let is_scenario = scenario.len() > 4
        && (scenario.starts_with('s') || scenario.starts_with('b') || scenario.starts_with('w'))
        && scenario[1..3].bytes().all(|b| b.is_ascii_digit())
        && scenario.as_bytes()[3] == b'_';
    if !is_scenario || !class.ends_with("::contract") {
        return None;
    }
    let krate = class.trim_end_matches("::contract");
    Some(
        krate
            .strip_prefix("qelos-integrator-")
            .unwrap_or(krate)
            .to_owned(),
    )
}

/// `cargo xtask faults [--short] [qelos-faults run options]`: builds the fault suite and
/// `qelos-mock` in release mode, copies both to a directory of this run (the target directory
/// may be shared), and runs the suite (`docs/reliability.md`).
fn faults(args: &[String]) -> Result {
    let root = root();
    step("fault suite (qelos-faults, release)");
    run(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "qelos-faults",
        "--bin",
        "qelos-faults",
        "-p",
        "qelos-mock",
        "--bin",
        "qelos-mock",
    ]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = std::env::temp_dir().join(format!("qelos-faults-bin-{}", std::process::id()));
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    for name in ["qelos-faults", "qelos-mock"] {
        let from = target.join("release").join(name);
        std::fs::copy(&from, bin.join(name))
            .map_err(|e| format!("copy {}: {e}", from.display()))?;
    }
    let summary = target.join("faults-summary.txt");
    let _ = std::fs::remove_file(&summary);
    run(Command::new(bin.join("qelos-faults"))
        .current_dir(&root)
        .arg("run")
        .args(args)
        .arg("--summary")
        .arg(&summary))
    .map_err(|e| {
        // The suite's output scrolls far above the final listing: repeat what failed there.
        let failed = std::fs::read_to_string(&summary)
            .map(|s| {
                s.lines()
                    .filter(|l| l.contains("FAIL") || l.ends_with(" failed"))
                    .map(|l| format!("\n    {l}"))
                    .collect::<String>()
            })
            .unwrap_or_default();
        format!("{e}{failed}")
    })
}
