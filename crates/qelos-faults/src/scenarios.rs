//! The scenarios. Each runs under load from simulated browsers against the three instances,
//! injects its faults, and returns one report row with its checks.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::browsers::{Browser, SharedTally, Tally, take};
use crate::env::Env;
use crate::load;
use crate::report::Row;
use crate::toxiproxy::{Downstream, MIN_BANDWIDTH_KB_S, Upstream, bandwidth, latency, silence};

/// How big a run is: `short` for `cargo xtask test`, full for `cargo xtask faults`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    pub(crate) short: bool,
}

impl Scale {
    fn pick<T>(self, full: T, short: T) -> T {
        if self.short { short } else { full }
    }
}

/// The scenarios, by id.
pub(crate) const ALL: [&str; 9] = ["1", "2a", "2b", "3", "4a", "4b", "5", "6", "7"];

/// Slack above the deadline for a request's own work (routing, JSON, the client's side).
const SLACK: Duration = Duration::from_millis(500);

fn new_row(env: &Env, scenario: &str) -> Row {
    Row {
        scenario: scenario.to_owned(),
        adapter: env.settings.adapter.clone(),
        deadline_ms: env.settings.deadline.as_millis(),
        ..Row::default()
    }
}

fn urls(env: &Env) -> Vec<String> {
    (0..env.apps.len()).map(|i| env.app_url(i)).collect()
}

async fn pause(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// The checks every scenario makes at its end: no request past the deadline, no 500, no
/// panic, every instance alive, no token in a log line; and the row's memory figures.
fn close(env: &mut Env, row: &mut Row, browsers: &[Arc<Browser>]) {
    let limit = env.settings.deadline + SLACK;
    row.check(
        format!(
            "no request past the deadline (max {:.0} ms <= {} ms + {} ms)",
            row.tally.max_ms(),
            limit.as_millis() - SLACK.as_millis(),
            SLACK.as_millis()
        ),
        row.tally.max_ms() <= limit.as_millis() as f64,
    );
    row.check(
        format!("no answer 500 ({})", row.tally.count(500)),
        row.tally.count(500) == 0,
    );
    let expired = first_five(browsers, |b| &b.expired_where);
    if !expired.is_empty() {
        row.note(format!("cookies expired (first 5): {}", expired.join("; ")));
    }
    let refused = first_five(browsers, |b| &b.first_401);
    if !refused.is_empty() {
        row.note(format!(
            "first 401s (first 5 browsers): {}",
            refused.join("; ")
        ));
    }
    let (leaks, panics) = env.log_findings(&load::tokens(browsers));
    row.check(
        format!("no panic, every instance alive ({panics} panic lines)"),
        panics == 0 && env.all_alive(),
    );
    row.check(
        format!("no token in any instance's log ({leaks} lines)"),
        leaks == 0,
    );
    row.rss_mib = env.rss_mib();
}

/// "browser N at WHERE" for the first five browsers that noted something in `field`.
fn first_five(
    browsers: &[Arc<Browser>],
    field: impl Fn(&Browser) -> &std::sync::Mutex<Option<String>>,
) -> Vec<String> {
    browsers
        .iter()
        .filter_map(|b| {
            let noted = field(b)
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            noted.clone().map(|at| format!("browser {} at {at}", b.id))
        })
        .take(5)
        .collect()
}

fn block<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// 1. 300 browsers whose access tokens expired at the same moment, each firing several
///    concurrent requests spread across the three instances.
pub(crate) async fn storm(env: &mut Env, scale: Scale) -> crate::Result<Row> {
    let mut row = new_row(env, "1 refresh storm");
    let browsers = env.browsers(300, |_| None).await?;
    env.reset_calls().await?;
    let per = scale.pick(4, 2);
    row.tally = load::burst(
        &env.http,
        &urls(env),
        &browsers,
        per,
        scale.pick(3, 1),
        "/me",
    )
    .await;
    row.refreshes = env.refreshes().await?;
    row.expiries = load::expiries(&browsers);
    row.logged_out = load::logged_out(&env.http, &urls(env), &browsers).await;
    row.check(
        "every browser signed in (0 logged out)",
        row.logged_out == 0,
    );
    row.check(
        format!(
            "every answer 200 and signed in ({} anonymous)",
            row.tally.anonymous
        ),
        row.tally.anonymous == 0 && row.tally.count(200) == row.tally.requests,
    );
    row.check(
        "exactly one upstream refresh per browser",
        row.refreshes == browsers.len() as u64 && row.expiries == browsers.len(),
    );
    close(env, &mut row, &browsers);
    Ok(row)
}

/// How Redis goes away in scenario 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RedisAway {
    Killed,
    LinkCut,
}

async fn redis_away(env: &mut Env, how: RedisAway) -> crate::Result {
    match how {
        RedisAway::Killed => block(|| env.redis.kill()),
        RedisAway::LinkCut => {
            if !env.net.set_link("redis", false) {
                env.redis_proxy
                    .add("cut-up", silence(0), Upstream, 1.0)
                    .await?;
                env.redis_proxy
                    .add("cut-down", silence(0), Downstream, 1.0)
                    .await?;
            }
        }
    }
    Ok(())
}

async fn redis_back(env: &mut Env, how: RedisAway) -> crate::Result {
    match how {
        RedisAway::Killed => block(|| env.redis.restart())?,
        RedisAway::LinkCut => {
            if !env.net.set_link("redis", true) {
                env.redis_proxy.clear().await?;
            }
        }
    }
    Ok(())
}

/// After a fault on Redis: do the instances coordinate through it again by themselves? A
/// fresh storm of browsers with expired tokens, spread across the instances, must cause
/// exactly one refresh each.
async fn shared_again(env: &mut Env, row: &mut Row, n: usize) -> crate::Result<Vec<Arc<Browser>>> {
    // An instance leaves Redis alone for 1 s once it has had no success for 1 s; give the
    // last cool-down time to end.
    pause(2500).await;
    env.reset_calls().await?;
    let fresh = env.browsers(n, |_| None).await?;
    let t = load::burst(&env.http, &urls(env), &fresh, 3, 2, "/me").await;
    let refreshes = env.refreshes().await?;
    row.tally.merge(t);
    row.check(
        format!(
            "back to shared coordination by itself: {refreshes} refreshes for {n} fresh browsers"
        ),
        refreshes == n as u64,
    );
    Ok(fresh)
}

/// 2. Redis killed (or its link cut) in the middle of a storm, then back.
pub(crate) async fn redis_outage(
    env: &mut Env,
    scale: Scale,
    how: RedisAway,
) -> crate::Result<Row> {
    let name = match how {
        RedisAway::Killed => "2a Redis killed mid-storm",
        RedisAway::LinkCut => "2b Redis link cut mid-storm",
    };
    let mut row = new_row(env, name);
    let n = scale.pick(150, 60);
    // Expiries spread over the first three seconds; Redis is away from 1.2 s to ~3.5 s.
    let browsers = env
        .browsers(n, |i| {
            Some(Duration::from_millis(1000 + (i % 4) as u64 * 700))
        })
        .await?;
    env.reset_calls().await?;
    let tally = SharedTally::default();
    let secs = scale.pick(8, 5);
    let until = Instant::now() + Duration::from_secs(secs);
    let run = load::steady(
        &env.http,
        &urls(env),
        &browsers,
        load::Pace {
            per_browser: 3,
            until,
            pause: Duration::from_millis(100),
        },
        &["/me"],
        &tally,
    );
    pause(1200).await;
    redis_away(env, how).await?;
    pause(2300).await;
    redis_back(env, how).await?;
    let _ = run.await;
    row.tally = take(&tally);
    row.refreshes = env.refreshes().await?;
    row.expiries = load::expiries(&browsers);
    row.check(
        format!(
            "at most one refresh per browser per instance while Redis is away ({} <= 3 x {})",
            row.refreshes, row.expiries
        ),
        row.refreshes <= 3 * row.expiries as u64 && row.refreshes >= row.expiries as u64,
    );
    let fresh = shared_again(env, &mut row, scale.pick(60, 30)).await?;
    let mut all = browsers.clone();
    all.extend(fresh);
    row.logged_out = load::logged_out(&env.http, &urls(env), &all).await;
    let expired = all
        .iter()
        .filter(|b| b.expired_by_app.load(Ordering::SeqCst))
        .count();
    row.check(
        format!(
            "nobody logged out ({} logged out, {expired} had cookies expired)",
            row.logged_out
        ),
        row.logged_out == 0 && expired == 0,
    );
    close(env, &mut row, &all);
    Ok(row)
}

fn signal(pid: Option<u32>, sig: &str) {
    if let Some(pid) = pid {
        let _ = std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status();
    }
}

/// 3. Qelos slow (200-800 ms) and lossy (5 % of connections silent), then restarting (its
///    process frozen, then unreachable, then back), under load on `/me` and `/secret`.
pub(crate) async fn qelos_degraded(env: &mut Env, scale: Scale) -> crate::Result<Row> {
    let mut row = new_row(env, "3 Qelos slow, lossy, restarting");
    let n = scale.pick(150, 60);
    let browsers = env
        .browsers(n, |i| {
            Some(Duration::from_millis(1000 + (i % 3) as u64 * 1000))
        })
        .await?;
    env.reset_calls().await?;
    env.qelos_proxy
        .add("slow", latency(500, 300), Downstream, 1.0)
        .await?;
    env.qelos_proxy
        .add("loss", silence(0), Upstream, 0.05)
        .await?;
    let tally = SharedTally::default();
    let secs = scale.pick(10, 7);
    let until = Instant::now() + Duration::from_secs(secs);
    let run = load::steady(
        &env.http,
        &urls(env),
        &browsers,
        load::Pace {
            per_browser: 2,
            until,
            pause: Duration::from_millis(150),
        },
        &["/me", "/secret"],
        &tally,
    );
    pause(secs * 1000 * 4 / 10).await;
    // The restart: frozen first (connections accepted, nothing answered), then gone from the
    // network, then back. (qelos-mock keeps its state in memory: a real process restart
    // would end every session, which a real Qelos with its database does not.)
    let pid = env.qelos.pid();
    signal(pid, "-STOP");
    pause(1000).await;
    let cut = env.net.set_link("qelos", false);
    signal(pid, "-CONT");
    pause(1000).await;
    if cut {
        env.net.set_link("qelos", true);
    }
    let _ = run.await;
    env.qelos_proxy.clear().await?;
    row.tally = take(&tally);
    row.refreshes = env.refreshes().await?;
    row.expiries = load::expiries(&browsers);
    row.logged_out = load::logged_out(&env.http, &urls(env), &browsers).await;
    let expired = browsers
        .iter()
        .filter(|b| b.expired_by_app.load(Ordering::SeqCst))
        .count();
    row.check(
        format!(
            "never 401 (routes that need a user answer 503): {} x 401, {} x 503",
            row.tally.count(401),
            row.tally.count(503)
        ),
        row.tally.count(401) == 0,
    );
    row.check(
        format!("never an expired cookie ({expired} browsers)"),
        expired == 0,
    );
    row.check(
        format!("sessions survive ({} logged out)", row.logged_out),
        row.logged_out == 0,
    );
    row.note(if cut {
        "restart: 1 s frozen (SIGSTOP), 1 s link down"
    } else {
        "restart: 1 s frozen (SIGSTOP); loopback: no link to cut"
    });
    close(env, &mut row, &browsers);
    Ok(row)
}

/// When instance 1 is killed in scenario 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KillPoint {
    /// Its refresh call has not reached Qelos yet (the request is delayed at Qelos).
    BeforeQelos,
    /// Qelos has rotated the token; the answer is still on its way (delayed in the proxy).
    AfterQelos,
}

/// 4. Instance 1 killed (`SIGKILL`) in the middle of refreshes it owns, while instances 2 and
///    3 wait for them.
pub(crate) async fn instance_killed(
    env: &mut Env,
    scale: Scale,
    at: KillPoint,
) -> crate::Result<Row> {
    let name = match at {
        KillPoint::BeforeQelos => "4a instance killed, refresh unsent",
        KillPoint::AfterQelos => "4b instance killed, Qelos rotated",
    };
    let mut row = new_row(env, name);
    let n = scale.pick(40, 20);
    let browsers = env.browsers(n, |_| None).await?;
    env.reset_calls().await?;
    match at {
        KillPoint::BeforeQelos => {
            env.mock_fault("POST /api/token/refresh", json!({"latencyMs": 1500}))
                .await?;
        }
        KillPoint::AfterQelos => {
            env.qelos_proxy
                .add("slow-answers", latency(1500, 0), Downstream, 1.0)
                .await?;
        }
    }
    let all = urls(env);
    let first = all[0].clone();
    let others: Vec<String> = all[1..].to_vec();
    let owner_tally = SharedTally::default();
    let waiter_tally = SharedTally::default();
    let tasks: Vec<_> = browsers
        .iter()
        .map(|b| {
            let (http, b, first, others) = (
                env.http.clone(),
                Arc::clone(b),
                first.clone(),
                others.clone(),
            );
            let (ot, wt) = (owner_tally.clone(), waiter_tally.clone());
            tokio::spawn(async move {
                let owner = {
                    let (http, b, url) = (http.clone(), Arc::clone(&b), format!("{first}/me"));
                    tokio::spawn(
                        async move { b.send(&http, reqwest::Method::GET, &url, &[]).await },
                    )
                };
                pause(150).await;
                let waits = others.iter().map(|u| {
                    let url = format!("{u}/me");
                    let (http, b) = (&http, &b);
                    async move { b.send(http, reqwest::Method::GET, &url, &[]).await }
                });
                for a in futures_util::future::join_all(waits).await {
                    crate::browsers::record(&wt, &a);
                }
                if let Ok(a) = owner.await {
                    crate::browsers::record(&ot, &a);
                }
            })
        })
        .collect();
    pause(600).await;
    block(|| env.apps[0].kill());
    env.clear_mock_faults().await?;
    env.qelos_proxy.clear().await?;
    for t in tasks {
        let _ = t.await;
    }
    let waiters = take(&waiter_tally);
    let owner = take(&owner_tally);
    row.refreshes = env.refreshes().await?;
    row.expiries = load::expiries(&browsers);
    row.logged_out = load::logged_out(&env.http, &others, &browsers).await;
    row.note(format!(
        "instance 1's own requests: {} (status 0 = connection died with it)",
        owner
            .by_status
            .iter()
            .map(|(s, c)| format!("{s}:{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    row.note(format!(
        "waiting requests on instances 2-3: p50 {:.0} ms, max {:.0} ms (lock TTL {} ms)",
        waiters.percentile_ms(0.5),
        waiters.max_ms(),
        env.settings.lock_ttl.as_millis()
    ));
    row.note(format!(
        "{} of {} browsers whose refresh instance 1 owned ended logged out",
        row.logged_out, n
    ));
    row.tally = waiters;
    if at == KillPoint::BeforeQelos {
        row.check(
            format!(
                "prevented: nobody logged out when the refresh had not reached Qelos ({})",
                row.logged_out
            ),
            row.logged_out == 0,
        );
    } else {
        row.check(
            format!(
                "measured: {} of {n} logged out (Qelos rotated their token; the new pair died with instance 1)",
                row.logged_out
            ),
            true,
        );
    }
    let _ = owner;
    close(env, &mut row, &browsers);
    // `close` counts instance 1 as dead; it was killed on purpose. Start it again and
    // re-check the liveness line against the two others.
    row.checks.retain(|(what, _)| !what.starts_with("no panic"));
    let (_, panics) = env.log_findings(&[]);
    row.check(
        format!("no panic on instances 2-3 ({panics} panic lines)"),
        panics == 0 && env.apps[1..].iter_mut().all(crate::procs::Proc::alive),
    );
    block(|| env.apps[0].restart())?;
    Ok(row)
}

/// The Redis key under which instances publish the pair refreshed from `refresh`.
fn pair_key(refresh: &str) -> String {
    format!(
        "qelos:refresh:pair:{}",
        qelos_integrator_core::TokenKey::new("refresh", refresh).to_hex()
    )
}

/// 5. Redis holding entries sealed under another key, then full (`maxmemory` with
///    `noeviction`), then answering garbage, under a storm.
pub(crate) async fn redis_misbehaving(
    env: &mut Env,
    scale: Scale,
    garbage_bin: &std::path::Path,
) -> crate::Result<Row> {
    let mut row = new_row(env, "5 Redis foreign, full, garbage");
    let marks = env.log_marks();
    let n = scale.pick(150, 60);
    let browsers = env
        .browsers(n, |i| {
            Some(Duration::from_millis(1000 + (i % 6) as u64 * 900))
        })
        .await?;
    env.reset_calls().await?;
    // Entries under the very keys the instances will use, sealed by someone else.
    for b in &browsers {
        if let Some(r) = b.jar().refresh {
            let mut junk = vec![1u8];
            junk.extend_from_slice(format!("sealed-under-another-key-{:032x}", b.id).as_bytes());
            env.redis_cmd(&[b"SET", pair_key(&r).as_bytes(), &junk, b"PX", b"60000"])
                .await?;
        }
    }
    let tally = SharedTally::default();
    let secs = scale.pick(9, 7);
    let until = Instant::now() + Duration::from_secs(secs);
    let run = load::steady(
        &env.http,
        &urls(env),
        &browsers,
        load::Pace {
            per_browser: 3,
            until,
            pause: Duration::from_millis(100),
        },
        &["/me"],
        &tally,
    );
    pause(2000).await;
    env.redis_cmd(&[b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction"])
        .await?;
    let full = env
        .redis_cmd(&[b"CONFIG", b"SET", b"maxmemory", b"1"])
        .await?;
    pause(1500).await;
    env.redis_cmd(&[b"CONFIG", b"SET", b"maxmemory", b"0"])
        .await?;
    pause(500).await;
    // Garbage: another program answers on Redis's address.
    block(|| env.redis.kill());
    let host = env.net.host("redis").cloned().ok_or("no redis host")?;
    let addr = env.redis.addr;
    let garbage = {
        let bin = garbage_bin.to_path_buf();
        let h = host.clone();
        block(|| {
            crate::procs::Proc::start(
                "garbage-redis",
                &env.settings.dir.clone(),
                addr,
                move || {
                    let mut c = h.command(&bin);
                    c.args(["garbage", &addr.to_string()]);
                    c
                },
            )
        })?
    };
    pause(1500).await;
    drop(garbage);
    block(|| env.redis.restart())?;
    let _ = run.await;
    row.tally = take(&tally);
    row.refreshes = env.refreshes().await?;
    row.expiries = load::expiries(&browsers);
    row.logged_out = load::logged_out(&env.http, &urls(env), &browsers).await;
    let expired = browsers
        .iter()
        .filter(|b| b.expired_by_app.load(Ordering::SeqCst))
        .count();
    row.check(
        format!(
            "nobody logged out ({} logged out, {expired} had cookies expired)",
            row.logged_out
        ),
        row.logged_out == 0 && expired == 0,
    );
    row.check(
        format!(
            "refreshes stay within one per browser per instance ({} <= 3 x {})",
            row.refreshes, row.expiries
        ),
        row.refreshes <= 3 * row.expiries as u64,
    );
    let warned = |needle: &str| -> Vec<usize> {
        env.logs_since(&marks)
            .iter()
            .map(|t| {
                t.lines()
                    .filter(|l| l.contains(" WARN ") && l.contains(needle))
                    .count()
            })
            .collect()
    };
    let failed_lines = warned("Redis command failed");
    let foreign_lines = warned("unreadable refresh record");
    row.note(format!("full Redis answered CONFIG SET with {full:?}"));
    row.note(format!(
        "warnings per instance: \"Redis command failed\" {failed_lines:?}, \"shared store unavailable\" {:?}, \"unreadable refresh record\" {foreign_lines:?}",
        warned("shared store unavailable")
    ));
    row.check(
        format!("foreign entries read, ignored and logged once ({foreign_lines:?} warnings)"),
        foreign_lines.iter().sum::<usize>() > 0 && foreign_lines.iter().all(|n| *n <= 1),
    );
    row.check(
        format!(
            "each outage logged once per instance, not per request ({failed_lines:?} for 2 outages)"
        ),
        failed_lines.iter().all(|n| *n <= 4),
    );
    close(env, &mut row, &browsers);
    let _ = shared_again(env, &mut row, scale.pick(30, 15)).await?;
    Ok(row)
}

/// A raw connection that sends `head` then `body_len` bytes of body, in pieces, then closes.
async fn cut_upload(addr: std::net::SocketAddr, declared: usize, sent: usize) {
    use tokio::io::AsyncWriteExt;
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    let head = format!(
        "POST /api/blueprints/todos/entities HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    );
    if s.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    let mut left = sent;
    while left > 0 {
        let n = left.min(chunk.len());
        if s.write_all(&chunk[..n]).await.is_err() {
            return;
        }
        left -= n;
    }
    // Dropped: the upload is cut half way.
}

/// A slow client: a request head sent one byte every `every`, for `for_`.
async fn slowloris(addr: std::net::SocketAddr, every: Duration, for_: Duration) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let until = Instant::now() + for_;
    if s.write_all(format!("GET /api/workspaces HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .is_err()
    {
        return true;
    }
    let line = b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    let mut i = 0;
    while Instant::now() < until {
        if s.write_all(&line[i % line.len()..i % line.len() + 1])
            .await
            .is_err()
        {
            // The server closed it: fine.
            return true;
        }
        i += 1;
        tokio::time::sleep(every).await;
    }
    let mut buf = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await;
    false
}

/// 6. The same-origin `/api` proxy under faults: uploads cut half way while Qelos reads
///    slowly, slow clients (slowloris), Qelos closing mid-body; browsers keep using `/me`.
pub(crate) async fn proxy_faults(env: &mut Env, scale: Scale) -> crate::Result<Row> {
    let mut row = new_row(env, "6 same-origin proxy faults");
    let n = scale.pick(100, 40);
    let browsers = env.browsers(n, |_| Some(Duration::from_secs(3600))).await?;
    // Warm the instances, then take the baseline.
    let _ = load::burst(&env.http, &urls(env), &browsers, 2, 2, "/me").await;
    pause(300).await;
    let rss_before = env.rss_mib();
    let sockets_before: Vec<usize> = env.apps.iter().map(crate::procs::Proc::sockets).collect();
    env.qelos_proxy
        .add("slow-reader", bandwidth(MIN_BANDWIDTH_KB_S), Upstream, 1.0)
        .await?;
    env.mock_fault("GET /api/workspaces", json!({"drop": true}))
        .await?;
    let tally = SharedTally::default();
    let secs = scale.pick(8, 5);
    let until = Instant::now() + Duration::from_secs(secs);
    let run = load::steady(
        &env.http,
        &urls(env),
        &browsers,
        load::Pace {
            per_browser: 2,
            until,
            pause: Duration::from_millis(100),
        },
        &["/me"],
        &tally,
    );
    let addrs: Vec<_> = env.apps.iter().map(|p| p.addr).collect();
    let mut faults = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        for k in 0..scale.pick(20, 8) {
            let addr = *addr;
            faults.push(tokio::spawn(async move {
                pause((k * 100 + i * 30) as u64).await;
                cut_upload(addr, 4 << 20, 1 << 20).await;
                false
            }));
        }
        for _ in 0..scale.pick(60, 20) {
            let addr = *addr;
            let hold = Duration::from_secs(secs.saturating_sub(2).max(2));
            faults.push(tokio::spawn(async move {
                slowloris(addr, Duration::from_millis(200), hold).await
            }));
        }
    }
    // Browsers calling through the proxy while Qelos breaks every answer mid-body.
    let mut mid_body = Tally::default();
    let mut clear = 0u64;
    for b in browsers.iter().take(scale.pick(30, 12)) {
        let url = format!("{}/api/workspaces", env.app_url(b.id));
        let a = b.send(&env.http, reqwest::Method::GET, &url, &[]).await;
        // A clear answer: an error status, or a body the client sees is broken.
        if a.status == 0 || a.status >= 500 || a.body.is_none() {
            clear += 1;
        }
        mid_body.add(&a);
    }
    let mut closed_by_server = 0;
    for f in faults {
        if f.await.unwrap_or(false) {
            closed_by_server += 1;
        }
    }
    let _ = run.await;
    env.qelos_proxy.clear().await?;
    env.clear_mock_faults().await?;
    row.tally = take(&tally);
    // Afterwards: the proxy still works at once, and memory and sockets are back.
    let after = browsers[0]
        .send(
            &env.http,
            reqwest::Method::GET,
            &format!("{}/api/workspaces", env.app_url(0)),
            &[],
        )
        .await;
    pause(1500).await;
    let rss_after = env.rss_mib();
    let sockets_after: Vec<usize> = env.apps.iter().map(crate::procs::Proc::sockets).collect();
    row.expiries = 0;
    row.logged_out = load::logged_out(&env.http, &urls(env), &browsers).await;
    row.check(
        format!(
            "browsers unaffected ({} logged out, {} anonymous answers)",
            row.logged_out, row.tally.anonymous
        ),
        row.logged_out == 0
            && row.tally.anonymous == 0
            && row.tally.count(200) == row.tally.requests,
    );
    row.check(
        format!(
            "Qelos closing mid-body gives the client a clear failure ({clear} of {})",
            mid_body.requests
        ),
        clear == mid_body.requests && mid_body.count(500) == 0,
    );
    row.check(
        format!(
            "proxy answers right after the faults ({} in {:.0} ms)",
            after.status,
            after.latency.as_secs_f64() * 1000.0
        ),
        after.status != 0 && after.status != 500 && after.latency <= env.settings.deadline + SLACK,
    );
    let growth: Vec<f64> = rss_after
        .iter()
        .zip(&rss_before)
        .map(|(a, b)| a - b)
        .collect();
    row.check(
        format!("no memory growth (RSS {rss_before:.0?} -> {rss_after:.0?} MiB)"),
        growth.iter().all(|g| *g <= 24.0),
    );
    row.check(
        format!(
            "no stuck task holding a connection (sockets {sockets_before:?} -> {sockets_after:?})"
        ),
        sockets_after
            .iter()
            .zip(&sockets_before)
            .all(|(a, b)| *a <= b + 12),
    );
    row.note(format!(
        "slow clients closed by the server before they finished: {closed_by_server}"
    ));
    row.note(format!("mid-body answers: {:?}", mid_body.by_status));
    close(env, &mut row, &browsers);
    Ok(row)
}

/// 7. Bad input mixed into a storm: malformed cookies, 16 KiB headers, invalid UTF-8, garbage
///    JSON from Qelos.
pub(crate) async fn bad_input(env: &mut Env, scale: Scale) -> crate::Result<Row> {
    let mut row = new_row(env, "7 bad input in a storm");
    let n = scale.pick(150, 60);
    let browsers = env.browsers(n, |_| None).await?;
    let victims = env
        .browsers(scale.pick(20, 10), |_| Some(Duration::from_secs(3600)))
        .await?;
    env.reset_calls().await?;
    env.mock_fault(
        "GET /api/blueprints/{key}/entities",
        json!({"garbage": true}),
    )
    .await?;
    let tally = SharedTally::default();
    let secs = scale.pick(6, 4);
    let until = Instant::now() + Duration::from_secs(secs);
    let run = load::steady(
        &env.http,
        &urls(env),
        &browsers,
        load::Pace {
            per_browser: 3,
            until,
            pause: Duration::from_millis(100),
        },
        &["/me"],
        &tally,
    );
    let big = "a".repeat(16 * 1024);
    let bad: Vec<Vec<(&'static str, Vec<u8>)>> = vec![
        vec![(
            "cookie",
            b"q_access_token=%E0%A4%A; q_refresh_token=%%zz".to_vec(),
        )],
        vec![("authorization", format!("Bearer {big}").into_bytes())],
        vec![(
            "cookie",
            b"q_access_token=\xff\xfe\xfd; q_refresh_token=\xc3\x28".to_vec(),
        )],
        vec![("cookie", format!("q_access_token={big}").into_bytes())],
        vec![("authorization", b"Bearer".to_vec())],
        vec![("x-tenant", b"\xff\xfe".to_vec())],
    ];
    let bad_tally = SharedTally::default();
    let attackers: Vec<_> = (0..scale.pick(12, 6))
        .map(|k| {
            let (http, urls, bad, t) =
                (env.http.clone(), urls(env), bad.clone(), bad_tally.clone());
            let anon = Arc::new(Browser::anonymous(10_000 + k));
            tokio::spawn(async move {
                let mut i = k;
                while Instant::now() < until {
                    let url = format!("{}/me", urls[i % urls.len()]);
                    let a = anon
                        .send(&http, reqwest::Method::GET, &url, &bad[i % bad.len()])
                        .await;
                    crate::browsers::record(&t, &a);
                    i += 1;
                    pause(20).await;
                }
            })
        })
        .collect();
    // Signed-in users whose entity calls get garbage JSON from Qelos.
    let garbage_tally = SharedTally::default();
    for v in &victims {
        let url = format!("{}/entities/todos", env.app_url(v.id));
        let a = v.send(&env.http, reqwest::Method::GET, &url, &[]).await;
        crate::browsers::record(&garbage_tally, &a);
    }
    for a in attackers {
        let _ = a.await;
    }
    let _ = run.await;
    env.clear_mock_faults().await?;
    row.tally = take(&tally);
    row.refreshes = env.refreshes().await?;
    row.expiries = load::expiries(&browsers);
    row.logged_out = load::logged_out(&env.http, &urls(env), &browsers).await;
    let bad_t = take(&bad_tally);
    let garbage_t = take(&garbage_tally);
    row.check(
        format!(
            "storm unaffected ({} logged out, {} anonymous answers)",
            row.logged_out, row.tally.anonymous
        ),
        row.logged_out == 0 && row.tally.anonymous == 0,
    );
    // The malformed refresh cookie (`%%zz`) is tried once upstream, refused, and the refusal
    // remembered for the grace window: at most one refresh more than the storm's.
    row.check(
        format!(
            "one refresh per storm browser, at most one for the malformed refresh cookie ({} for {})",
            row.refreshes, row.expiries
        ),
        row.expiries == browsers.len()
            && row.refreshes >= row.expiries as u64
            && row.refreshes <= row.expiries as u64 + 1,
    );
    row.check(
        format!("bad input never answers 5xx ({:?})", bad_t.by_status),
        bad_t.by_status.keys().all(|s| (200..500).contains(s)),
    );
    row.check(
        format!(
            "garbage JSON from Qelos is a clear 502, not a 500 ({:?})",
            garbage_t.by_status
        ),
        garbage_t.count(500) == 0 && garbage_t.count(0) == 0,
    );
    row.tally.merge(bad_t);
    row.tally.merge(garbage_t);
    close(env, &mut row, &browsers);
    Ok(row)
}
