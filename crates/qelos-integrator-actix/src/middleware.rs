//! The actix-web `Transform` that resolves the Qelos context before the handler runs.

use std::borrow::Cow;
use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue, SET_COOKIE};
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_util::future::LocalBoxFuture;
use qelos_integrator_core::adapter::{RequestView, header_map, set_cookie_headers};
use qelos_integrator_core::{Integrator, Rejection};

/// An actix-web middleware that gives every request a Qelos context (or refuses it).
///
/// Build it **once**, outside the `HttpServer::new` factory, and clone it into each worker's
/// `App`: the clones share one refresh coordinator and one HTTP connection pool.
///
/// # Examples
///
/// ```no_run
/// use actix_web::{App, HttpServer, web};
/// use qelos_integrator_actix::{Qelos, QelosConfig, QelosMiddleware};
///
/// async fn me(q: Qelos) -> String {
///     q.user().map(|u| u.username.clone()).unwrap_or_default()
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let qelos = QelosMiddleware::new(QelosConfig::from_env()?);
/// HttpServer::new(move || App::new().wrap(qelos.clone()).route("/me", web::get().to(me)))
///     .bind(("127.0.0.1", 8080))?
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct QelosMiddleware {
    integrator: Integrator,
}

impl QelosMiddleware {
    /// A middleware over an existing integrator.
    pub fn from_integrator(integrator: Integrator) -> Self {
        Self { integrator }
    }
}

qelos_integrator_core::integrator_methods!(QelosMiddleware);

impl<S, B> Transform<S, ServiceRequest> for QelosMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = QelosService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(QelosService {
            service: Rc::new(service),
            integrator: self.integrator.clone(),
        }))
    }
}

/// The service made by [`QelosMiddleware`].
#[derive(Debug)]
pub struct QelosService<S> {
    service: Rc<S>,
    integrator: Integrator,
}

/// The core rejection as an actix response.
pub(crate) fn rejection_response(rejection: Rejection) -> HttpResponse {
    let (head, body) = rejection.into_response::<String>().into_parts();
    crate::bff::builder(&head).body(body)
}

/// The request as the core reads it. Header conversion (actix has its own header map) happens
/// only when the core asks for the headers, which it does not for requests without credentials.
struct View<'a>(&'a ServiceRequest);

impl RequestView for View<'_> {
    fn path(&self) -> &str {
        self.0.path()
    }
    fn headers(&self) -> Cow<'_, http::HeaderMap> {
        let pairs = self.0.headers().iter();
        Cow::Owned(header_map(pairs.map(|(n, v)| (n.as_str(), v.as_bytes()))))
    }
    fn has_header(&self, name: &http::HeaderName) -> bool {
        self.0.headers().contains_key(name.as_str())
    }
}

impl<S, B> Service<ServiceRequest> for QelosService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // The request is read now; the state owns its data, so `!Send` actix types never
        // cross an await inside the core.
        let state = self.integrator.attach(&View(&req));
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            if let Err(rejection) = state.admit().await {
                let response = req.into_response(rejection_response(rejection));
                return Ok(response.map_into_right_body());
            }
            req.extensions_mut().insert(state.clone());
            let mut response = service.call(req).await?;
            for (name, value) in set_cookie_headers(state.take_response_cookies()) {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    let name = HeaderName::from_static(name);
                    if name == SET_COOKIE {
                        response.headers_mut().append(name, value);
                    } else {
                        response.headers_mut().insert(name, value);
                    }
                }
            }
            Ok(response.map_into_left_body())
        })
    }
}

/// The response future of [`QelosService`].
pub type ResponseFuture<B> = LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>;
