//! The same end-to-end scenarios through the qelos-mock gateway, for each framework.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

#[path = "frameworks/apps.rs"]
mod apps;
#[path = "frameworks/scenarios.rs"]
#[macro_use]
mod scenarios;

#[cfg(feature = "axum")]
plugin_scenarios!(axum, super::apps::axum);
#[cfg(feature = "actix")]
plugin_scenarios!(actix, super::apps::actix);
#[cfg(feature = "poem")]
plugin_scenarios!(poem, super::apps::poem);
#[cfg(feature = "warp")]
plugin_scenarios!(warp, super::apps::warp);
#[cfg(feature = "rocket")]
plugin_scenarios!(rocket, super::apps::rocket);
