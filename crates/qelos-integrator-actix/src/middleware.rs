//! The actix-web `Transform` that resolves the Qelos context before the handler runs.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::SET_COOKIE;
use actix_web::{Error, HttpMessage, ResponseError as _};
use futures_util::future::LocalBoxFuture;
use qelos_integrator_core::Integrator;
use qelos_integrator_core::adapter::{ForeignView, append_set_cookies, each_value, header_map};

use crate::QelosRejection;

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

qelos_integrator_core::integrator_methods!(QelosMiddleware {});

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
        let view = ForeignView {
            method: req.method().as_str(),
            path: req.path(),
            get: each_value(|name| req.headers().get_all(name)),
            all: || header_map(crate::bff::pairs(req.headers())),
        };
        let state = self.integrator.attach(&view);
        drop(view); // its lookups borrow `req`, which the future below takes
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            if let Err(rejection) = state.admit().await {
                let response = req.into_response(QelosRejection(rejection).error_response());
                return Ok(response.map_into_right_body());
            }
            req.extensions_mut().insert(state.clone());
            let mut response = service.call(req).await?;
            let mut cookies = http::HeaderMap::new();
            append_set_cookies(&mut cookies, state.take_response_cookies());
            for (name, value) in crate::bff::actix_headers(&cookies) {
                if name == SET_COOKIE {
                    response.headers_mut().append(name, value);
                } else {
                    response.headers_mut().insert(name, value);
                }
            }
            Ok(response.map_into_left_body())
        })
    }
}

/// The response future of [`QelosService`].
pub type ResponseFuture<B> = LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, Error>>;
