#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bff;
mod filters;
mod serve;

pub use bff::{QelosRoutes, api_proxy};
pub use filters::{
    Qelos, QelosRejection, QelosSdk, RequireUser, optional, optional_user, qelos, recover,
    require_user, sdk,
};
pub use qelos_integrator_tower::{QelosLayer, QelosService};
pub use serve::{PeerAddr, serve};
/// `QelosLayer::layer(service)`: tower's `Layer`, re-exported.
pub use tower_layer::Layer;

qelos_integrator_core::application_api!();
