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
pub use crate::request::{ForeignView, RequestHead, RequestView, header_map};
pub use crate::state::{RequestSlot, RequestState, optional_context, optional_user, require_state};

/// Declares an adapter's extractor types, each a newtype with `Deref` to what it holds:
/// `Qelos` (the [`QelosContext`](crate::QelosContext)), `RequireUser` (a
/// [`SignedIn`](crate::SignedIn)) and `QelosSdk` (the request's
/// [`QelosSdk`](crate::qelos_sdk::QelosSdk)). The adapter writes only the framework's
/// extraction for them; the doc comments (with the framework's examples) go before each name.
///
/// # Examples
///
/// ```
/// qelos_integrator_core::extractor_types! {
///     /// The request's Qelos context.
///     Qelos;
///     /// A signed-in user.
///     RequireUser;
///     /// The request's SDK.
///     QelosSdk;
/// }
/// # fn use_it(q: Qelos) -> bool { q.is_authenticated() }
/// ```
#[macro_export]
macro_rules! extractor_types {
    ($(#[$q:meta])* Qelos; $(#[$u:meta])* RequireUser; $(#[$s:meta])* QelosSdk;) => {
        $(#[$q])*
        #[derive(Clone, Debug)]
        pub struct Qelos(pub $crate::QelosContext);

        impl ::std::ops::Deref for Qelos {
            type Target = $crate::QelosContext;
            fn deref(&self) -> &$crate::QelosContext {
                &self.0
            }
        }

        $(#[$u])*
        #[derive(Clone, Debug)]
        pub struct RequireUser(pub $crate::SignedIn);

        impl ::std::ops::Deref for RequireUser {
            type Target = $crate::SignedIn;
            fn deref(&self) -> &$crate::SignedIn {
                &self.0
            }
        }

        $(#[$s])*
        #[derive(Clone, Debug)]
        pub struct QelosSdk(pub $crate::qelos_sdk::QelosSdk);

        impl ::std::ops::Deref for QelosSdk {
            type Target = $crate::qelos_sdk::QelosSdk;
            fn deref(&self) -> &$crate::qelos_sdk::QelosSdk {
                &self.0
            }
        }
    };
}

/// The builder methods every adapter's middleware type has, over its `integrator` field and
/// its own `from_integrator` constructor: `new(config)`, `integrator()`,
/// `resolve_workspace(resolver)` and `on_token_refresh(hook)`.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::Integrator;
///
/// /// My framework's middleware.
/// #[derive(Clone, Debug)]
/// pub struct QelosMiddleware {
///     integrator: Integrator,
/// }
///
/// impl QelosMiddleware {
///     /// A middleware over an existing integrator.
///     pub fn from_integrator(integrator: Integrator) -> Self {
///         Self { integrator }
///     }
/// }
///
/// qelos_integrator_core::integrator_methods!(QelosMiddleware);
/// # fn build() -> Result<QelosMiddleware, qelos_integrator_core::ConfigError> {
/// # Ok(QelosMiddleware::new(qelos_integrator_core::QelosConfig::builder("http://localhost:3000").build()?))
/// # }
/// ```
#[macro_export]
macro_rules! integrator_methods {
    ($ty:ty) => {
        impl $ty {
            /// The middleware for `config`, with an integrator of its own.
            pub fn new(config: $crate::QelosConfig) -> Self {
                Self::from_integrator($crate::Integrator::new(config))
            }

            /// The integrator (its auth helpers: `sign_in`, `sign_out`, ...; its config).
            pub fn integrator(&self) -> &$crate::Integrator {
                &self.integrator
            }

            /// Chooses each request's workspace with `resolver` (a closure
            /// `Fn(&RequestHead, &User, &[Workspace]) -> Option<Workspace>`, or
            /// [`resolve_async`]($crate::resolve_async)).
            #[must_use]
            pub fn resolve_workspace(mut self, resolver: impl $crate::ResolveWorkspace) -> Self {
                self.integrator = self.integrator.resolve_workspace(resolver);
                self
            }

            /// Runs `hook` after each token refresh instead of writing the default cookies.
            #[must_use]
            pub fn on_token_refresh(mut self, hook: impl $crate::OnTokenRefresh) -> Self {
                self.integrator = self.integrator.on_token_refresh(hook);
                self
            }
        }
    };
}
