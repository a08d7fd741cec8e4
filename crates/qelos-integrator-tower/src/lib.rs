#![doc = include_str!("../README.md")]
//!
//! ---
//!
//! The [`QelosLayer`] resolves each request's Qelos state before the inner service runs,
//! leaves it in the request's extensions as a
//! [`RequestState`], answers refusals itself, and writes
//! the response cookies after *every* inner response, whatever the handler returned. Any
//! `http` 1.x stack can mount it: axum, warp (around `warp::service`), plain hyper through
//! `hyper-util`, tonic. Framework crates add only their extractors.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod future;
mod layer;

pub use future::ResponseFuture;
pub use layer::{QelosLayer, QelosService};
/// `QelosLayer::layer(service)`: tower's `Layer`, re-exported.
pub use tower_layer::Layer;

#[doc(no_inline)]
pub use qelos_integrator_core::{
    self as core, ConfigError, Integrator, QelosConfig, QelosContext, RequestState,
};
