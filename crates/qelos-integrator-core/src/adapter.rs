//! Everything a framework adapter needs, and nothing an application does.
//!
//! An adapter does three things per request, all with this module:
//!
//! 1. its middleware calls [`Integrator::attach`](crate::Integrator::attach) with the request
//!    (anything implementing [`RequestView`]: `http` 1.x requests already do, a [`ForeignView`]
//!    covers a framework's own header type), awaits [`RequestState::admit`] unless
//!    [`RequestState::is_settled`], answers the refusal or stores the [`RequestState`] in the
//!    request and runs the handler;
//! 2. its extractors read the stored state: the types come from
//!    [`extractor_types!`](crate::extractor_types), each made with [`FromState::from_state`]
//!    ([`require_state`] answers "the middleware did not run here"), and their refusal type from
//!    [`rejection_type!`](crate::rejection_type);
//! 3. after the handler, the middleware writes [`RequestState::take_response_cookies`] with
//!    [`append_set_cookies`] (or [`set_cookie_headers`] for non-`http` header types).
//!
//! A middleware that cannot answer a request (one that runs before routing) leaves a
//! [`RequestSlot`] instead ([`Integrator::attach_slot`](crate::Integrator::attach_slot)). The
//! middleware's builder methods come from [`integrator_methods!`](crate::integrator_methods),
//! the application's imports from [`application_api!`](crate::application_api).
//!
//! The same-origin front (login, logout, social login, the `/api/**` proxy) is one table of
//! routes ([`AUTH_ROUTES`], [`PROXY_ROUTES`]) that an adapter mounts in its framework's syntax
//! ([`FrontRoute::path`]), all answered by [`Front::serve`]. `docs/porting.md` walks through an
//! adapter.

pub use crate::endpoints::{AuthReply, EndpointRequest, SOCIAL_STATE_COOKIE};
pub use crate::front::{
    AUTH_ROUTES, Front, FrontEndpoint, FrontRequest, FrontRoute, LOGIN_BODY_LIMIT, PROXY_ROUTES,
    Segment, front_route,
};
pub use crate::headers::{append_set_cookies, no_store, set_cookie_headers};
pub use crate::proxy::{
    BodySender, Inbound, Proxy, ProxyBody, body_channel, body_stream, upstream_headers,
};
pub use crate::request::{
    CREDENTIAL_HEADERS, Each, ForeignView, RequestHead, RequestView, each_value, header_map,
};
pub use crate::state::{
    LocalState, RequestSlot, RequestState, optional_context, optional_user, require_state,
};

/// The statuses a refusal can have (401, 500, 503) that an application has no error handler
/// for, given the statuses its handlers take (`None`: a default handler, which takes every
/// status): where an adapter registers handlers of its own (Rocket's catchers), the
/// application's keep answering theirs.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::uncaught_refusal_statuses;
/// let free: Vec<u16> = uncaught_refusal_statuses([Some(401), Some(404)]).collect();
/// assert_eq!(free, [500, 503]);
/// assert_eq!(uncaught_refusal_statuses([None]).count(), 0, "a default handler takes all");
/// ```
pub fn uncaught_refusal_statuses(
    taken: impl IntoIterator<Item = Option<u16>>,
) -> impl Iterator<Item = u16> {
    let taken: Vec<Option<u16>> = taken.into_iter().collect();
    [401, 500, 503]
        .into_iter()
        .filter(move |code| !taken.contains(&Some(*code)) && !taken.contains(&None))
}

/// What an extractor type is made of: the [`RequestState`] the middleware left on the request.
/// [`extractor_types!`](crate::extractor_types) implements it for `Qelos`, `RequireUser` and
/// `QelosSdk`, so an adapter's extraction is one call.
pub trait FromState: Sized {
    /// The value for a request whose middleware left `state` (`None`: the middleware did not
    /// run here, answered `500 QELOS_MIDDLEWARE_MISSING` with `hint`).
    fn from_state(
        state: Option<RequestState>,
        hint: &'static str,
    ) -> impl std::future::Future<Output = Result<Self, crate::Rejection>> + Send + 'static;
}

/// Declares an adapter's extractor types, each a newtype with `Deref` to what it holds and
/// [`FromState`]: `Qelos` (the [`QelosContext`](crate::QelosContext)), `RequireUser` (a
/// [`SignedIn`](crate::SignedIn); `401` for anonymous callers and on skip paths) and
/// `QelosSdk` (the request's [`QelosSdk`](crate::qelos_sdk::QelosSdk)). The adapter writes
/// only the framework's extraction for them; the doc comments (with the framework's
/// examples) go before each name.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::FromState;
///
/// qelos_integrator_core::extractor_types! {
///     /// The request's Qelos context.
///     Qelos;
///     /// A signed-in user.
///     RequireUser;
///     /// The request's SDK.
///     QelosSdk;
/// }
/// # async fn use_it() {
/// let refused = Qelos::from_state(None, "add the middleware").await;
/// assert_eq!(refused.map(|_| ()).unwrap_err().status(), 500);
/// # }
/// ```
#[macro_export]
macro_rules! extractor_types {
    ($(#[$q:meta])* Qelos; $(#[$u:meta])* RequireUser; $(#[$s:meta])* QelosSdk;) => {
        $crate::extractor_types!(@one $(#[$q])* Qelos($crate::QelosContext)
            |state| state.context().await);
        $crate::extractor_types!(@one $(#[$u])* RequireUser($crate::SignedIn)
            |state| state.signed_in().await);
        $crate::extractor_types!(@one $(#[$s])* QelosSdk($crate::qelos_sdk::QelosSdk)
            |state| state.context().await.map(|ctx| ctx.sdk().clone()));
    };
    (@one $(#[$m:meta])* $name:ident($inner:ty) |$state:ident| $make:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug)]
        pub struct $name(pub $inner);

        impl ::std::ops::Deref for $name {
            type Target = $inner;
            fn deref(&self) -> &$inner {
                &self.0
            }
        }

        impl $crate::adapter::FromState for $name {
            fn from_state(
                state: ::std::option::Option<$crate::RequestState>,
                hint: &'static str,
            ) -> impl ::std::future::Future<
                Output = ::std::result::Result<Self, $crate::Rejection>,
            > + Send
                   + 'static {
                async move {
                    let $state = $crate::adapter::require_state(state.as_ref(), hint)?;
                    $make.map($name)
                }
            }
        }
    };
}

/// Declares an adapter's refusal type: `QelosRejection(pub Rejection)`, with `Display`,
/// `Error`, `From<Rejection>` and `Deref` to the [`Rejection`](crate::Rejection). The adapter
/// implements its framework's response trait for it; the doc comment goes before the name.
///
/// # Examples
///
/// ```
/// qelos_integrator_core::rejection_type! {
///     /// Why a request was refused.
///     QelosRejection
/// }
/// let refused = QelosRejection::from(qelos_integrator_core::Rejection::unauthorized());
/// assert_eq!(refused.to_string(), "401 UNAUTHORIZED");
/// ```
#[macro_export]
macro_rules! rejection_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Debug)]
        pub struct $name(pub $crate::Rejection);

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::error::Error for $name {}

        impl ::std::convert::From<$crate::Rejection> for $name {
            fn from(rejection: $crate::Rejection) -> Self {
                Self(rejection)
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = $crate::Rejection;
            fn deref(&self) -> &$crate::Rejection {
                &self.0
            }
        }
    };
}

/// The builder methods every adapter's middleware type has, over its `integrator` field:
/// `new(config)`, `integrator()`, `resolve_workspace(resolver)` and `on_token_refresh(hook)`;
/// with `{ field: value, .. }` after the type name (empty for none) also
/// `from_integrator(integrator)`, the other fields set to those values; with `{ excluded }`
/// (an `excluded: Vec<String>` field) also `exclude(prefix)` and `excludes(path)`, for a
/// middleware that covers the whole application (Rocket's fairing). Without the braces the
/// type writes its own `from_integrator`.
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
///     excluded: Vec<String>,
/// }
///
/// qelos_integrator_core::integrator_methods!(QelosMiddleware { excluded });
/// # fn build() -> Result<QelosMiddleware, qelos_integrator_core::ConfigError> {
/// let config = qelos_integrator_core::QelosConfig::builder("http://localhost:3000").build()?;
/// let middleware = QelosMiddleware::new(config).exclude("/health");
/// assert!(middleware.excludes("/health/live") && !middleware.excludes("/healthz"));
/// # Ok(middleware)
/// # }
/// ```
#[macro_export]
macro_rules! integrator_methods {
    ($ty:ident { excluded $(,)? }) => {
        impl $ty {
            /// The middleware over an existing integrator (several middlewares, or routers,
            /// sharing one refresh coordinator and cache).
            pub fn from_integrator(integrator: $crate::Integrator) -> Self {
                Self { integrator, excluded: ::std::vec::Vec::new() }
            }

            /// Leaves requests under `prefix` (whole segments) entirely alone, as routes
            /// outside a middleware in other frameworks: extractors there answer
            /// `500 QELOS_MIDDLEWARE_MISSING`. For paths that should simply get no context,
            /// use the config's skip paths.
            #[must_use]
            pub fn exclude(mut self, prefix: impl ::std::convert::Into<::std::string::String>) -> Self {
                self.excluded.push(prefix.into());
                self
            }

            /// `true` when `path` is under a prefix given to [`exclude`](Self::exclude).
            pub fn excludes(&self, path: &str) -> bool {
                self.excluded.iter().any(|prefix| $crate::config::path_is_under(path, prefix))
            }
        }

        $crate::integrator_methods!($ty);
    };
    ($ty:ident { $($field:ident : $value:expr),* $(,)? }) => {
        impl $ty {
            /// The middleware over an existing integrator (several middlewares, or routers,
            /// sharing one refresh coordinator and cache).
            pub fn from_integrator(integrator: $crate::Integrator) -> Self {
                Self { integrator, $($field: $value),* }
            }
        }

        $crate::integrator_methods!($ty);
    };
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

            /// Runs `hook` (an async closure of a [`TokenRefresh`]($crate::TokenRefresh)) after
            /// each token refresh instead of writing the default cookies; replaces a hook given
            /// in the config. See [`OnTokenRefresh`]($crate::OnTokenRefresh).
            #[must_use]
            pub fn on_token_refresh(mut self, hook: impl $crate::OnTokenRefresh) -> Self {
                self.integrator = self.integrator.on_token_refresh(hook);
                self
            }
        }
    };
}

/// Re-exports at an adapter's top level what applications use from the core: the core itself
/// (as `core`), the config, the context, the hooks' types and the SDK, so an application
/// depends on its adapter alone.
///
/// # Examples
///
/// ```
/// mod my_adapter {
///     qelos_integrator_core::application_api!();
/// }
/// let _ = my_adapter::QelosConfig::builder("http://localhost:3000");
/// ```
#[macro_export]
macro_rules! application_api {
    () => {
        #[doc(no_inline)]
        pub use $crate::cookies::SetCookie;
        #[doc(no_inline)]
        pub use $crate::{
            self as core, AnonymousReason, ConfigError, Integrator, QelosConfig, QelosContext,
            RequestHead, ResolveWorkspace, ResponseCookies, TokenRefresh, qelos_sdk, resolve_async,
        };
    };
}
