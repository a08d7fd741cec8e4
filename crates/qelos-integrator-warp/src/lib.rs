#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bff;
mod filters;
mod reject;

pub use bff::api_proxy;
pub use filters::{Qelos, QelosFilters, RequireUser, from_extensions, require_user, with_qelos};
pub use reject::{QelosRejection, WithCookies, recover, reply};

#[doc(no_inline)]
pub use qelos_integrator_core::{
    self as core, AnonymousReason, ConfigError, Integrator, QelosConfig, QelosContext, RequestHead,
    ResolveWorkspace, ResponseCookies, qelos_sdk, resolve_async,
};
