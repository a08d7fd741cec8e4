//! Traffic: bursts (every browser fires several concurrent requests at once, spread across the
//! instances) and steady load (browsers keep doing that until a deadline), plus the final look
//! that tells who is still signed in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::browsers::{Browser, SharedTally, Tally, record, take};

/// One browser's requests of one moment: `per_browser` concurrent `GET path`, the `j`-th to
/// instance `(id + j + round) % n`.
async fn fire(
    http: &reqwest::Client,
    urls: &[String],
    b: &Browser,
    per_browser: usize,
    round: usize,
    path: &str,
    tally: &SharedTally,
) {
    let calls = (0..per_browser).map(|j| {
        let url = format!("{}{path}", urls[(b.id + j + round) % urls.len()]);
        async move { b.send(http, Method::GET, &url, &[]).await }
    });
    for a in futures_util::future::join_all(calls).await {
        record(tally, &a);
    }
}

/// Every browser fires `per_browser` concurrent requests, `rounds` times.
pub(crate) async fn burst(
    http: &reqwest::Client,
    urls: &[String],
    browsers: &[Arc<Browser>],
    per_browser: usize,
    rounds: usize,
    path: &'static str,
) -> Tally {
    let tally = SharedTally::default();
    let tasks: Vec<_> = browsers
        .iter()
        .map(|b| {
            let (http, urls, b, tally) =
                (http.clone(), urls.to_vec(), Arc::clone(b), tally.clone());
            tokio::spawn(async move {
                for r in 0..rounds {
                    fire(&http, &urls, &b, per_browser, r, path, &tally).await;
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    take(&tally)
}

/// How hard browsers keep going: `per_browser` concurrent requests, then `pause`, until
/// `until`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    pub(crate) per_browser: usize,
    pub(crate) until: Instant,
    pub(crate) pause: Duration,
}

/// Browsers keep firing (`paths` in turn) at `pace`. Returns the running task; its tally is
/// in `tally`.
pub(crate) fn steady(
    http: &reqwest::Client,
    urls: &[String],
    browsers: &[Arc<Browser>],
    pace: Pace,
    paths: &'static [&'static str],
    tally: &SharedTally,
) -> tokio::task::JoinHandle<()> {
    let Pace {
        per_browser,
        until,
        pause,
    } = pace;
    let tasks: Vec<_> = browsers
        .iter()
        .map(|b| {
            let (http, urls, b, tally) =
                (http.clone(), urls.to_vec(), Arc::clone(b), tally.clone());
            tokio::spawn(async move {
                let mut round = 0;
                while Instant::now() < until {
                    let path = paths[(b.id + round) % paths.len()];
                    fire(&http, &urls, &b, per_browser, round, path, &tally).await;
                    round += 1;
                    tokio::time::sleep(pause).await;
                }
            })
        })
        .collect();
    tokio::spawn(async move {
        for t in tasks {
            let _ = t.await;
        }
    })
}

/// Browsers whose session ended: `/secret` (a route that needs a user, on instance `id % n`,
/// faults cleared) answers `401`. A `503` (Qelos still coming back) is asked again a few
/// times; it is not a logout.
pub(crate) async fn logged_out(
    http: &reqwest::Client,
    urls: &[String],
    browsers: &[Arc<Browser>],
) -> usize {
    let checks = browsers.iter().map(|b| {
        let url = format!("{}/secret", urls[b.id % urls.len()]);
        async move {
            for _ in 0..20 {
                let a = b.send(http, Method::GET, &url, &[]).await;
                match (a.status, a.signed_in) {
                    (200, Some(true)) => return false,
                    (401, _) | (200, Some(false)) => return true,
                    _ => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
            true
        }
    });
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .filter(|out| *out)
        .count()
}

/// Distinct expired access tokens the browsers sent: the refreshes they needed.
pub(crate) fn expiries(browsers: &[Arc<Browser>]) -> usize {
    browsers.iter().map(|b| b.expiries()).sum()
}

/// Every token the browsers have held.
pub(crate) fn tokens(browsers: &[Arc<Browser>]) -> Vec<String> {
    browsers.iter().flat_map(|b| b.tokens_seen()).collect()
}
