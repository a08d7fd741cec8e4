//! The official Python client `qelos-sdk==4.0.0`, unmodified, against qelos-mock: the
//! authentication and entity conformance script, the administrator SDK, and the user-API
//! endpoints (AI with its SSE stream and RAG, blocks, app configuration, invites, lambdas), and
//! payments, AI agents, blueprint charts and impersonation through the gateway.
//!
//! Uses the interpreter in `QELOS_PYTHON` when set (the test command prepares one), else
//! creates or reuses a venv at `<workspace>/target/py-venv` and installs the client there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::{Path, PathBuf};
use std::process::Command;

use qelos_mock::MockServer;
use qelos_mock::fakes::{AI_INTEGRATION_ID, AI_SOURCE_ID, LAMBDA_INTEGRATION_ID};

const CLIENT: &str = "qelos-sdk==4.0.0";

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("QELOS_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/py-venv");
    let python = venv.join("bin/python");
    // Test processes run side by side (nextest): one creates the venv and installs the client
    // while the others wait on this lock, then find both ready.
    std::fs::create_dir_all(venv.parent().expect("target dir")).expect("target dir");
    let lock = std::fs::File::create(venv.with_extension("lock")).expect("lock file");
    lock.lock().expect("lock the venv");
    if !python.exists() {
        let status = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .status()
            .expect("python3 runs");
        assert!(status.success(), "python3 -m venv failed");
    }
    let has_client = Command::new(&python)
        .args(["-c", "import qelos_sdk"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        let status = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", CLIENT])
            .status()
            .expect("pip runs");
        assert!(status.success(), "pip install {CLIENT} failed");
    }
    drop(lock);
    python
}

/// Runs `tests/conformance/<script>` with the mock's URL and `args`, asserts it succeeded and
/// returns the number of checks it reports on its `<label>: ok N` line.
async fn run_script(url: String, script: &str, args: &[&str], label: &str) -> u32 {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(script);
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(script)
            .arg(url)
            .args(args)
            .output()
            .expect("the script runs")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{label} failed:\n{stdout}\n{stderr}"
    );
    let prefix = format!("{label}: ok ");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the script reports its checks")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_passes_against_the_mock() {
    let mock = MockServer::start().await.expect("mock starts");
    let checks = run_script(mock.url(), "qelos_sdk_conformance.py", &[], "conformance").await;
    assert!(checks >= 27, "every check ran (got {checks})");
    assert!(
        mock.calls("POST /api/token/refresh") >= 2,
        "refresh and the refused reuse reached the mock"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_administrator_client_passes_against_the_mock() {
    let mock = MockServer::start().await.expect("mock starts");
    let checks = run_script(
        mock.url(),
        "qelos_admin_conformance.py",
        &[],
        "admin conformance",
    )
    .await;
    assert!(checks >= 79, "every check ran (got {checks})");
    assert!(
        mock.calls("POST /api/plugins") >= 1,
        "the admin routes were driven"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_drives_the_user_api_endpoints() {
    let mock = MockServer::start().await.expect("mock starts");
    let checks = run_script(
        mock.url(),
        "user_api_conformance.py",
        &[AI_INTEGRATION_ID, AI_SOURCE_ID, LAMBDA_INTEGRATION_ID],
        "user-api conformance",
    )
    .await;
    assert!(checks >= 27, "every check ran (got {checks})");
    assert!(mock.total_calls() >= 30, "the calls reached this mock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_client_drives_payments_agents_charts_and_impersonation() {
    let mock = MockServer::start().await.expect("mock starts");
    let checks = run_script(
        mock.url(),
        "payments_ai_charts_conformance.py",
        &[AI_SOURCE_ID],
        "payments-ai-charts conformance",
    )
    .await;
    assert!(checks >= 32, "every check ran (got {checks})");
    assert!(
        mock.calls("GET /api/subscriptions/me") >= 2,
        "the payments routes were driven"
    );
}
