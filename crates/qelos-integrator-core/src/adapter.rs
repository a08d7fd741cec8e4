//! Everything a framework adapter needs, and nothing an application does.
//!
//! An adapter does three things per request, all with this module:
//!
//! 1. its middleware calls [`Integrator::attach`](crate::Integrator::attach) with the request
//!    (anything implementing [`RequestView`]), awaits [`RequestState::admit`] unless
//!    [`RequestState::is_settled`], answers the refusal or stores the [`RequestState`] in the
//!    request and runs the handler;
//! 2. its extractors read the stored state ([`require_state`] for "the middleware did not run
//!    here") and ask it for the context;
//! 3. after the handler, the middleware writes [`RequestState::take_response_cookies`] with
//!    [`append_set_cookies`] (or [`set_cookie_headers`] for non-`http` header types).
//!
//! The same-origin front (login, logout, social login, the `/api/**` proxy) is answered by
//! [`EndpointRequest`]/[`AuthReply`] and [`Proxy`]. `docs/porting.md` walks through an adapter.

pub use crate::endpoints::{AuthReply, EndpointRequest, SOCIAL_STATE_COOKIE};
pub use crate::headers::{append_set_cookies, no_store, set_cookie_headers};
pub use crate::proxy::{
    BodySender, Inbound, Proxy, ProxyBody, body_channel, body_stream, upstream_headers,
};
pub use crate::request::{RequestHead, RequestView, header_map};
pub use crate::state::{RequestState, optional_context, optional_user, require_state};
