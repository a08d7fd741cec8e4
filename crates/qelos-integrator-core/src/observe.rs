//! What the integrator tells operators: the labels of a request's outcome, the
//! `qelos.resolve` span's fields, rate-limited outage warnings, and (feature `metrics`) the
//! metrics. `docs/operations.md` lists them all.
//!
//! Every label is a `&'static str`: recording allocates nothing per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::context::AnonymousReason;
use crate::rejection::RejectionKind;
use crate::state::Decision;

/// At most one outage warning per this interval; the others go to `debug` and are counted in
/// the next warning's `suppressed` field.
pub(crate) const OUTAGE_WARN_INTERVAL: Duration = Duration::from_secs(10);

/// The `outcome` and `reason` labels of a request on a skip path.
pub(crate) const SKIPPED: Labels = ("skipped", "none");
/// The `outcome` and `reason` labels of a request resolved on demand (`/api/**`).
pub(crate) const DEFERRED: Labels = ("deferred", "none");

/// The `outcome` and `reason` labels of a request.
pub(crate) type Labels = (&'static str, &'static str);

/// The `outcome` and `reason` labels of a decided request.
pub(crate) fn labels(decision: &Decision) -> Labels {
    match decision {
        Ok(ctx) => match ctx.anonymous_reason() {
            None => ("signed_in", "none"),
            Some(reason) => ("anonymous", reason_label(reason)),
        },
        Err(rejection) => (
            "refused",
            match rejection.kind() {
                RejectionKind::Unauthorized => "unauthorized",
                RejectionKind::Unavailable => "unavailable",
                RejectionKind::MiddlewareMissing => "middleware_missing",
            },
        ),
    }
}

/// The label of an anonymous request's reason.
pub(crate) fn reason_label(reason: AnonymousReason) -> &'static str {
    match reason {
        AnonymousReason::NoCredentials => "no_credentials",
        AnonymousReason::InvalidCredentials => "invalid_credentials",
        AnonymousReason::SessionExpired => "session_expired",
        AnonymousReason::Unavailable => "unavailable",
    }
}

/// Where a request's identity came from: `"memory"`/`"shared"` (a cache hit), `"upstream"`
/// (Qelos was asked), `"none"` (no identity was looked up).
pub(crate) type CacheLabel = &'static str;

/// Records a decided request on the current span (when enabled) and in the metrics.
///
/// `started` is `None` when the span is disabled and metrics are off: the clock is read only
/// when someone listens.
pub(crate) fn finish(
    span: &tracing::Span,
    (outcome_label, reason): Labels,
    cache: CacheLabel,
    refreshed: bool,
    started: Option<Instant>,
) {
    let elapsed = started.map(|t| t.elapsed());
    if !span.is_disabled() {
        span.record("outcome", outcome_label);
        span.record("reason", reason);
        span.record("cache", cache);
        span.record("refreshed", refreshed);
        if let Some(elapsed) = elapsed {
            span.record(
                "elapsed_us",
                u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            );
        }
    }
    metrics::request(outcome_label, reason, cache, elapsed);
}

/// `true` when a subscriber may record `debug` spans. The span macros check the same, but when
/// the check fails and no subscriber was ever set, `tracing`'s `log` compatibility (which some
/// web frameworks turn on) still formats every span's fields: the per-request spans are not
/// built then.
pub(crate) fn debug_spans() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    tracing::Level::DEBUG <= STATIC_MAX_LEVEL && tracing::Level::DEBUG <= LevelFilter::current()
}

/// `true` when the clock should be read for this request: the span listens or metrics are on.
pub(crate) fn wants_clock(span: &tracing::Span) -> bool {
    cfg!(feature = "metrics") || !span.is_disabled()
}

/// One warning per interval for a recurring condition (an outage); the rest are counted.
#[derive(Debug)]
pub(crate) struct Throttle {
    interval_ms: u64,
    epoch: Instant,
    /// Milliseconds since `epoch` before which warnings are suppressed.
    next_ms: AtomicU64,
    suppressed: AtomicU64,
}

impl Throttle {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            epoch: Instant::now(),
            next_ms: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(suppressed since the last warning)` when a warning may be logged now; `None` when
    /// it is suppressed (and counted).
    pub(crate) fn admit(&self) -> Option<u64> {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.admit_at(now)
    }

    fn admit_at(&self, now_ms: u64) -> Option<u64> {
        let next = self.next_ms.load(Ordering::Acquire);
        let admitted = now_ms >= next
            && self
                .next_ms
                .compare_exchange(
                    next,
                    now_ms.saturating_add(self.interval_ms).max(1),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_ok();
        if admitted {
            Some(self.suppressed.swap(0, Ordering::AcqRel))
        } else {
            self.suppressed.fetch_add(1, Ordering::AcqRel);
            None
        }
    }
}

/// Logs an outage warning through `throttle`: `warn!` with the count of suppressed ones, or
/// `debug!` while suppressed.
macro_rules! outage_warn {
    ($throttle:expr, $($field:tt)*) => {
        match $throttle.admit() {
            Some(suppressed) => ::tracing::warn!(suppressed, $($field)*),
            None => ::tracing::debug!($($field)*),
        }
    };
}
pub(crate) use outage_warn;

/// The metrics (feature `metrics`); without the feature every function is empty and inlined
/// away.
pub(crate) mod metrics {
    use std::time::Duration;

    #[cfg(feature = "metrics")]
    fn seconds(elapsed: Duration) -> f64 {
        elapsed.as_secs_f64()
    }

    /// `qelos_requests_total{outcome, reason}`, `qelos_identity_lookups_total{source}` and
    /// `qelos_resolve_duration_seconds{outcome}`.
    #[inline]
    pub(crate) fn request(
        outcome: &'static str,
        reason: &'static str,
        cache: &'static str,
        elapsed: Option<Duration>,
    ) {
        #[cfg(feature = "metrics")]
        {
            ::metrics::counter!("qelos_requests_total", "outcome" => outcome, "reason" => reason)
                .increment(1);
            if cache != "none" {
                ::metrics::counter!("qelos_identity_lookups_total", "source" => cache).increment(1);
            }
            if let Some(elapsed) = elapsed {
                ::metrics::histogram!("qelos_resolve_duration_seconds", "outcome" => outcome)
                    .record(seconds(elapsed));
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (outcome, reason, cache, elapsed);
    }

    /// The label of an upstream call's result.
    #[cfg(feature = "metrics")]
    fn result_label<T>(result: &Result<T, qelos_sdk::Error>) -> &'static str {
        match result {
            Ok(_) => "ok",
            Err(e) if e.is_unavailable() => "unavailable",
            Err(_) => "refused",
        }
    }

    /// Awaits one upstream call; with metrics on, records it under `call`.
    pub(crate) fn timed<T>(
        call: &'static str,
        future: impl std::future::Future<Output = Result<T, qelos_sdk::Error>>,
    ) -> impl std::future::Future<Output = Result<T, qelos_sdk::Error>> {
        use futures_util::FutureExt as _;
        lap(future).map(move |(result, lap)| {
            record(call, lap, &result);
            result
        })
    }

    /// How long an upstream call took (with metrics off: nothing).
    #[derive(Clone, Copy)]
    pub(crate) struct Lap(#[cfg(feature = "metrics")] Duration);

    /// Awaits one upstream call and measures it; [`record`] it once its result is final (a
    /// body decoded later can still fail).
    pub(crate) fn lap<T>(
        future: impl std::future::Future<Output = T>,
    ) -> impl std::future::Future<Output = (T, Lap)> {
        // Not an `async fn`: that would hold `future` twice (as the argument and as the awaited
        // value), doubling the size of each identifying call's future.
        use futures_util::FutureExt as _;
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        future.map(move |result| {
            #[cfg(feature = "metrics")]
            let lap = Lap(started.elapsed());
            #[cfg(not(feature = "metrics"))]
            let lap = Lap();
            (result, lap)
        })
    }

    /// Records one upstream call under `call`.
    #[inline]
    pub(crate) fn record<T>(call: &'static str, lap: Lap, result: &Result<T, qelos_sdk::Error>) {
        #[cfg(feature = "metrics")]
        upstream(call, result_label(result), lap.0);
        #[cfg(not(feature = "metrics"))]
        let _ = (call, lap, result);
    }

    /// `qelos_upstream_calls_total{call, result}` and
    /// `qelos_upstream_duration_seconds{call}`.
    #[cfg(feature = "metrics")]
    fn upstream(call: &'static str, result: &'static str, elapsed: Duration) {
        ::metrics::counter!("qelos_upstream_calls_total", "call" => call, "result" => result)
            .increment(1);
        ::metrics::histogram!("qelos_upstream_duration_seconds", "call" => call)
            .record(seconds(elapsed));
    }

    /// `qelos_refreshes_total{result}`: one per refresh sent to Qelos (`ok`, `rejected`,
    /// `unavailable`), or taken from another instance (`shared`).
    #[inline]
    pub(crate) fn refresh(result: &'static str) {
        #[cfg(feature = "metrics")]
        ::metrics::counter!("qelos_refreshes_total", "result" => result).increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = result;
    }

    /// `qelos_proxy_requests_total{status}` (status class `2xx` … `5xx`).
    #[inline]
    pub(crate) fn proxy_request(status: http::StatusCode) {
        #[cfg(feature = "metrics")]
        {
            let class = match status.as_u16() {
                100..=199 => "1xx",
                200..=299 => "2xx",
                300..=399 => "3xx",
                400..=499 => "4xx",
                _ => "5xx",
            };
            ::metrics::counter!("qelos_proxy_requests_total", "status" => class).increment(1);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = status;
    }

    /// `qelos_proxy_bytes_total{direction}` (`request`: to Qelos, `response`: from Qelos).
    #[inline]
    pub(crate) fn proxy_bytes(direction: &'static str, bytes: usize) {
        #[cfg(feature = "metrics")]
        ::metrics::counter!("qelos_proxy_bytes_total", "direction" => direction)
            .increment(u64::try_from(bytes).unwrap_or(u64::MAX));
        #[cfg(not(feature = "metrics"))]
        let _ = (direction, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_admits_one_warning_per_interval_and_counts_the_rest() {
        let throttle = Throttle::new(Duration::from_secs(10));
        assert_eq!(throttle.admit_at(0), Some(0), "the first warning goes out");
        assert_eq!(throttle.admit_at(1), None);
        assert_eq!(throttle.admit_at(9_999), None);
        assert_eq!(
            throttle.admit_at(10_000),
            Some(2),
            "the next one carries the count"
        );
        assert_eq!(throttle.admit_at(10_001), None);
        assert_eq!(throttle.admit_at(25_000), Some(1));
        assert_eq!(throttle.admit_at(40_000), Some(0));
    }

    #[test]
    fn reason_labels_are_distinct() {
        let all = [
            AnonymousReason::NoCredentials,
            AnonymousReason::InvalidCredentials,
            AnonymousReason::SessionExpired,
            AnonymousReason::Unavailable,
        ]
        .map(reason_label);
        let mut unique = all.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "{all:?}");
    }
}
