//! The integrator contract suite.
//!
//! The scenarios of the integrator contract (`docs/contract.md`), written once and run against
//! every adapter over real HTTP: each starts `qelos-mock` and the adapter's contract app on
//! free ports. An adapter runs the whole suite with one macro call in `tests/contract.rs`:
//!
//! ```ignore
//! #[path = "../examples/contract.rs"]
//! #[allow(dead_code)]
//! mod contract;
//!
//! struct Axum;
//! impl qelos_contract::ContractApp for Axum {
//!     const NAME: &'static str = "axum";
//!     fn spawn(config: qelos_contract::QelosConfig) -> std::io::Result<qelos_contract::RunningApp> {
//!         qelos_contract::RunningApp::spawn(move |listener| { /* serve contract::app(config) */ Ok(()) })
//!     }
//! }
//!
//! qelos_contract::contract_tests!(Axum);
//! ```
//!
//! This is test code: its assertions panic by design.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod app;
pub mod bff;
pub mod browser;
pub mod harness;
pub mod memory;
pub mod scenarios;
pub mod upstream;
pub mod webdriver;

pub use harness::{CapturedLogs, ContractApp, RunningApp, capture_logs};
pub use qelos_integrator_core::QelosConfig;

/// Runs one scenario on a fresh multi-threaded runtime (the app under test has its own).
pub fn run<F: std::future::Future<Output = ()>>(scenario: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("test runtime builds");
    runtime.block_on(scenario);
}

/// The scenario names, in order, as the test functions are called (for the CI table).
pub const SCENARIOS: [&str; 28] = [
    "s01_bearer_token_resolves_user",
    "s02_access_cookie_resolves_user",
    "s03_anonymous_makes_no_upstream_call",
    "s04_require_auth_rejects_anonymous",
    "s05_require_user_guard",
    "s06_skip_paths_match_whole_segments",
    "s07_expired_access_is_refreshed_and_cookies_rotate",
    "s08_concurrent_refresh_is_single_flight",
    "s09_dead_refresh_token_expires_cookies",
    "s10_forbidden_and_not_found_never_refresh",
    "s11_api_token_mode_uses_x_api_key",
    "s12_workspace_resolution",
    "s13_entities_through_request_sdk",
    "s14_token_expiring_mid_request_is_refreshed_by_the_sdk",
    "s15_session_cookie_rotation_is_relayed_with_inbound_domain",
    "s16_qelos_down_is_unavailable_not_logged_out",
    "s17_slow_qelos_is_cut_at_the_timeout",
    "s18_garbage_or_5xx_from_qelos_is_unavailable",
    "s19_malformed_input_is_never_a_500",
    "s20_tokens_never_appear_in_logs",
    "s21_missing_middleware_is_a_clear_500",
    "s22_plain_handler_after_a_refresh_sends_both_rotated_cookies",
    "s23_different_routes_at_once_share_one_refresh",
    "s24_the_apps_own_not_found_handler_still_answers",
    "s25_extractor_semantics_are_the_same_everywhere",
    "s26_require_auth_subtree_refuses_anonymous_and_shares_refresh",
    "s27_the_apps_own_unauthorized_handler_still_answers",
    "s28_on_token_refresh_hook_sets_its_own_cookie",
];

/// Expands to one `#[test]` per scenario for the adapter type `$app` (a [`ContractApp`]).
#[macro_export]
macro_rules! contract_tests {
    ($app:ty) => {
        $crate::contract_tests!(@each $app;
            s01_bearer_token_resolves_user,
            s02_access_cookie_resolves_user,
            s03_anonymous_makes_no_upstream_call,
            s04_require_auth_rejects_anonymous,
            s05_require_user_guard,
            s06_skip_paths_match_whole_segments,
            s07_expired_access_is_refreshed_and_cookies_rotate,
            s08_concurrent_refresh_is_single_flight,
            s09_dead_refresh_token_expires_cookies,
            s10_forbidden_and_not_found_never_refresh,
            s11_api_token_mode_uses_x_api_key,
            s12_workspace_resolution,
            s13_entities_through_request_sdk,
            s14_token_expiring_mid_request_is_refreshed_by_the_sdk,
            s15_session_cookie_rotation_is_relayed_with_inbound_domain,
            s16_qelos_down_is_unavailable_not_logged_out,
            s17_slow_qelos_is_cut_at_the_timeout,
            s18_garbage_or_5xx_from_qelos_is_unavailable,
            s19_malformed_input_is_never_a_500,
            s20_tokens_never_appear_in_logs,
            s21_missing_middleware_is_a_clear_500,
            s22_plain_handler_after_a_refresh_sends_both_rotated_cookies,
            s23_different_routes_at_once_share_one_refresh,
            s24_the_apps_own_not_found_handler_still_answers,
            s25_extractor_semantics_are_the_same_everywhere,
            s26_require_auth_subtree_refuses_anonymous_and_shares_refresh,
            s27_the_apps_own_unauthorized_handler_still_answers,
            s28_on_token_refresh_hook_sets_its_own_cookie,
        );
    };
    (@each $app:ty; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::run($crate::scenarios::$name::<$app>());
            }
        )*
    };
}
