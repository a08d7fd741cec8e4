//! actix-web 4 glue: the [`PluginRequest`] extractor and [`Plugin::actix_config`].

use actix_web::dev::Payload;
use actix_web::http::StatusCode as ActixStatus;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use bytes::Bytes;
use futures_util::future::LocalBoxFuture;

use crate::Plugin;
use crate::rejection::{PluginRejection, header_map};
use crate::verify::PluginRequest;

fn headers(req: &HttpRequest) -> http::HeaderMap {
    header_map(
        req.headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes())),
    )
}

/// An `http` response as an actix one.
fn to_actix(response: http::Response<Bytes>) -> HttpResponse {
    let (parts, body) = response.into_parts();
    let status =
        ActixStatus::from_u16(parts.status.as_u16()).unwrap_or(ActixStatus::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        out.append_header((name.as_str(), value.as_bytes()));
    }
    out.body(body)
}

impl ResponseError for PluginRejection {
    fn status_code(&self) -> ActixStatus {
        ActixStatus::from_u16(self.status().as_u16()).unwrap_or(ActixStatus::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        to_actix(self.to_response())
    }
}

/// Verifies the plugin token, then reads the user. Needs `.app_data(plugin.clone())`.
///
/// # Examples
///
/// ```
/// use actix_web::{App, web};
/// use qelos_plugin::{Plugin, PluginRequest};
///
/// async fn me(req: PluginRequest) -> String {
///     req.user().map_or_else(|| "anonymous".to_owned(), |u| u.username.clone())
/// }
///
/// # fn run() -> Result<(), qelos_plugin::ConfigError> {
/// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .build()?;
/// let app = App::new()
///     .app_data(plugin.clone())
///     .configure(plugin.actix_config())
///     .route("/api/play/me", web::get().to(me));
/// # let _ = app; Ok(()) }
/// ```
impl FromRequest for PluginRequest {
    type Error = PluginRejection;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let plugin = req.app_data::<Plugin>().cloned();
        let headers = headers(req);
        Box::pin(async move {
            let plugin = plugin.ok_or(PluginRejection::MissingPlugin)?;
            Ok(plugin.verify(&headers).await?)
        })
    }
}

async fn dispatch(plugin: Plugin, req: HttpRequest, body: Bytes) -> HttpResponse {
    let mut request = http::Request::new(body);
    *request.method_mut() =
        http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default();
    *request.uri_mut() = req.uri().to_string().parse().unwrap_or_default();
    *request.headers_mut() = headers(&req);
    match plugin.handle(request).await {
        Some(response) => to_actix(response),
        None => HttpResponse::NotFound().finish(),
    }
}

impl Plugin {
    /// Registers the plugin's own routes ([`Plugin::routes`]) on an actix `App` or scope:
    /// `App::new().configure(plugin.actix_config())`.
    pub fn actix_config(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
        let plugin = self.clone();
        move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(web::PayloadConfig::new(crate::MAX_BODY));
            for route in plugin.routes() {
                let mut paths = vec![route.path.clone()];
                if route.prefix {
                    paths.push(format!("{}/{{id}}", route.path));
                }
                for path in paths {
                    let p = plugin.clone();
                    cfg.route(
                        &path,
                        web::route().to(move |req: HttpRequest, body: Bytes| {
                            dispatch(p.clone(), req, body)
                        }),
                    );
                }
            }
        }
    }
}
