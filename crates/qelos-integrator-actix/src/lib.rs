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

#[doc(no_inline)]
pub use qelos_integrator_core::{
    self as core, AnonymousReason, ConfigError, Integrator, QelosConfig, QelosContext, RequestHead,
    ResolveWorkspace, ResponseCookies, qelos_sdk, resolve_async,
};
