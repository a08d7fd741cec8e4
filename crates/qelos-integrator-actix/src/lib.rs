#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bff;
mod extract;
mod middleware;

pub use bff::api_proxy;
pub use extract::{ExtractFuture, Qelos, QelosRejection, QelosSdk, RequireUser};
pub use middleware::{QelosMiddleware, QelosService, ResponseFuture};

qelos_integrator_core::application_api!();
