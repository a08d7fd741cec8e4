//! `qelos-bench serial`: the client-side cost of one signed-in identification, measured one
//! request at a time on one thread (no load, no contention), as CPU time per request of this
//! process: the hand-written lower bound, the SDK's two calls alone, and the whole
//! `Integrator::resolve`, interleaved over several rounds. The mock's CPU time per request is
//! printed beside it: one request at a time, the mock's work per request is the same whichever
//! client sends it, which separates what a client costs the mock from how load batches it.

use std::time::Instant;

use qelos_integrator_core::qelos_sdk::{QelosSdk, TokenPair};
use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};

use crate::apps::{Lower, me_body};

/// One measured case: its name and one request (returns the size of what it answered).
type Case<'a> = (&'static str, Box<dyn FnMut() -> usize + 'a>);

/// CPU time of the calling thread (user + system), in microseconds.
fn thread_cpu_us() -> f64 {
    crate::stat_cpu_us("/proc/thread-self/stat") as f64
}

pub(crate) fn run(
    qelos: &str,
    mock_pid: u32,
    bearer: &str,
    requests: usize,
    only: Option<&str>,
) -> crate::Result {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let lower = Lower::new(qelos);
    let integrator = Integrator::new(QelosConfig::builder(qelos).build()?);
    let token = bearer.trim_start_matches("Bearer ");
    let sdk = QelosSdk::builder(qelos)
        .oauth(TokenPair::new(Some(token.into()), None))
        .build()?;
    let mut head = RequestHead::new("/me");
    head.push_header("authorization", bearer.as_bytes());
    let mut cases: Vec<Case<'_>> = vec![
        (
            "lower bound",
            Box::new(|| rt.block_on(lower.me(Some(bearer.to_owned()))).len()),
        ),
        (
            "SDK calls alone",
            Box::new(|| {
                rt.block_on(async {
                    let workspaces = sdk.workspaces();
                    let (me, list) =
                        futures_util::future::join(sdk.get_logged_in_user(), workspaces.list())
                            .await;
                    me.map_or(0, |u| u.username.len()) + list.map_or(0, |l| l.len())
                })
            }),
        ),
        (
            "Integrator::resolve",
            Box::new(|| {
                rt.block_on(async {
                    match integrator.resolve(&head).await {
                        Ok(ctx) => me_body(&ctx).len(),
                        Err(_) => 0,
                    }
                })
            }),
        ),
    ];
    cases.retain(|(name, _)| only.is_none_or(|o| name.to_lowercase().contains(o)));
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut mock_cpu: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 0..5 {
        for (i, (name, case)) in cases.iter_mut().enumerate() {
            let (cpu0, t0) = (thread_cpu_us(), Instant::now());
            let mock0 = crate::cpu_us(mock_pid) as f64;
            let mut answered = 0;
            for _ in 0..requests {
                answered += case();
            }
            let used = (thread_cpu_us() - cpu0) / requests as f64;
            let mock = (crate::cpu_us(mock_pid) as f64 - mock0) / requests as f64;
            println!(
                "round {} {name:<22} {used:>7.1} µs CPU/request  {:>7.1} µs wall/request  mock {mock:>6.1} µs CPU/request  ({answered})",
                round + 1,
                t0.elapsed().as_secs_f64() * 1e6 / requests as f64,
            );
            cpu[i].push(used);
            mock_cpu[i].push(mock);
        }
    }
    for (i, (name, _)) in cases.iter().enumerate() {
        cpu[i].sort_by(f64::total_cmp);
        mock_cpu[i].sort_by(f64::total_cmp);
        println!(
            "median {name:<22} {:>7.1} µs CPU/request  mock {:>6.1} µs CPU/request",
            cpu[i][cpu[i].len() / 2],
            mock_cpu[i][mock_cpu[i].len() / 2]
        );
    }
    Ok(())
}
