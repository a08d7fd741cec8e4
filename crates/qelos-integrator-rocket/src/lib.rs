#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bff;
mod fairing;
mod guards;

pub use bff::api_proxy;
pub use fairing::{QelosFairing, refusal};
pub use guards::{Qelos, QelosSdk, RequireUser};
/// The refusal a guard fails with (its `Error`): status, JSON body and cookies.
pub use qelos_integrator_core::Rejection as QelosRejection;

qelos_integrator_core::application_api!();
