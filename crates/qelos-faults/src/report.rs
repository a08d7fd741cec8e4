//! One row per scenario and adapter, the table, and the summary line.

use crate::browsers::Tally;

/// What one scenario measured and whether its checks held.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) adapter: String,
    pub(crate) tally: Tally,
    pub(crate) logged_out: usize,
    pub(crate) refreshes: u64,
    pub(crate) expiries: usize,
    pub(crate) deadline_ms: u128,
    pub(crate) rss_mib: Vec<f64>,
    /// Each check: what it says, and whether it held.
    pub(crate) checks: Vec<(String, bool)>,
    /// Measured facts worth a line of their own.
    pub(crate) notes: Vec<String>,
}

impl Row {
    pub(crate) fn check(&mut self, what: impl Into<String>, ok: bool) {
        self.checks.push((what.into(), ok));
    }

    pub(crate) fn note(&mut self, what: impl Into<String>) {
        self.notes.push(what.into());
    }

    pub(crate) fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|(_, ok)| *ok)
    }

    fn statuses(&self) -> String {
        self.tally
            .by_status
            .iter()
            .map(|(s, n)| {
                if *s == 0 {
                    format!("err:{n}")
                } else {
                    format!("{s}:{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub(crate) fn header() -> String {
    format!(
        "| {:<34} | {:<6} | {:>6} | {:<28} | {:>5} | {:>7} | {:>9} | {:>7} | {:>7} | {:>7} | {:>6} | {:<17} | {:<4} |\n|{}|",
        "scenario",
        "app",
        "reqs",
        "answers by status",
        "anon",
        "logged out",
        "refr/exp",
        "p50 ms",
        "p99 ms",
        "max ms",
        "dl ms",
        "RSS MiB (3)",
        "ok",
        "-".repeat(170)
    )
}

pub(crate) fn line(r: &Row) -> String {
    let rss = r
        .rss_mib
        .iter()
        .map(|m| format!("{m:.0}"))
        .collect::<Vec<_>>()
        .join("/");
    format!(
        "| {:<34} | {:<6} | {:>6} | {:<28} | {:>5} | {:>10} | {:>9} | {:>7.1} | {:>7.1} | {:>7.1} | {:>6} | {:<17} | {:<4} |",
        r.scenario,
        r.adapter,
        r.tally.requests,
        r.statuses(),
        r.tally.anonymous,
        r.logged_out,
        format!("{}/{}", r.refreshes, r.expiries),
        r.tally.percentile_ms(0.50),
        r.tally.percentile_ms(0.99),
        r.tally.max_ms(),
        r.deadline_ms,
        rss,
        if r.passed() { "PASS" } else { "FAIL" }
    )
}

pub(crate) fn details(r: &Row) -> String {
    let mut s = format!("  {} / {}:", r.scenario, r.adapter);
    for (what, ok) in &r.checks {
        if *ok {
            s.push_str(&format!("\n    [ok] {what}"));
        } else {
            // Names its row: xtask repeats the failed lines alone at the end of a run.
            s.push_str(&format!(
                "\n    [FAILED] {} / {}: {what}",
                r.scenario, r.adapter
            ));
        }
    }
    for n in &r.notes {
        s.push_str(&format!("\n    note: {n}"));
    }
    s
}

/// The table, every row's checks, where the logs are, and `N passed, M failed`.
pub(crate) fn summary(rows: &[Row], logs: &std::path::Path) -> String {
    let mut s = header();
    for r in rows {
        s.push('\n');
        s.push_str(&line(r));
    }
    s.push('\n');
    for r in rows {
        s.push('\n');
        s.push_str(&details(r));
    }
    let passed = rows.iter().filter(|r| r.passed()).count();
    s.push_str(&format!(
        "\n\nlogs: {}\n{passed} passed, {} failed\n",
        logs.display(),
        rows.len() - passed
    ));
    s
}
