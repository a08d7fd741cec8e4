//! Rocket 0.5 glue: the [`PluginRequest`] request guard, [`Plugin::rocket_routes`] and
//! [`Plugin::rocket_catchers`].

use std::io::Cursor;

use bytes::Bytes;
use rocket::data::ToByteUnit as _;
use rocket::http::{Header, Method as RocketMethod, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::route::{self, Handler};
use rocket::{Catcher, Data, Request, Route};

use crate::Plugin;
use crate::rejection::PluginRejection;
use crate::verify::PluginRequest;

fn headers(req: &Request<'_>) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    for h in req.headers().iter() {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(h.name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(h.value.as_bytes()),
        ) {
            out.append(n, v);
        }
    }
    out
}

fn to_rocket<'r>(response: http::Response<Bytes>) -> rocket::Response<'r> {
    let (parts, body) = response.into_parts();
    let mut out = rocket::Response::build();
    out.status(Status::new(parts.status.as_u16()));
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            out.header_adjoin(Header::new(name.as_str().to_owned(), v.to_owned()));
        }
    }
    out.sized_body(body.len(), Cursor::new(body));
    out.finalize()
}

/// The rejection of the guard, kept for the catchers of [`Plugin::rocket_catchers`].
#[derive(Default)]
struct Refusal(Option<http::Response<Bytes>>);

/// Verifies the plugin token, then reads the user. Needs `.manage(plugin.clone())` and, for
/// plugin-play's refusal bodies and `x-q-auth`, `.register("/", plugin.rocket_catchers())`.
///
/// # Examples
///
/// ```
/// use qelos_plugin::{Plugin, PluginRequest};
///
/// #[rocket::get("/api/play/me")]
/// fn me(req: PluginRequest) -> String {
///     req.user().map_or_else(|| "anonymous".to_owned(), |u| u.username.clone())
/// }
///
/// # fn run() -> Result<(), qelos_plugin::ConfigError> {
/// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .build()?;
/// let app = rocket::build()
///     .manage(plugin.clone())
///     .mount("/", plugin.rocket_routes())
///     .mount("/", rocket::routes![me])
///     .register("/", plugin.rocket_catchers());
/// # let _ = app; Ok(()) }
/// ```
#[rocket::async_trait]
impl<'r> FromRequest<'r> for PluginRequest {
    type Error = PluginRejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(plugin) = req.rocket().state::<Plugin>() else {
            return Outcome::Error((Status::InternalServerError, PluginRejection::MissingPlugin));
        };
        match plugin.verify(&headers(req)).await {
            Ok(r) => Outcome::Success(r),
            Err(e) => {
                let rejection = PluginRejection::Refused(e);
                let response = rejection.to_response();
                let status = Status::new(response.status().as_u16());
                req.local_cache(|| Refusal(Some(response)));
                Outcome::Error((status, rejection))
            }
        }
    }
}

#[derive(Clone)]
struct Dispatch(Plugin);

#[rocket::async_trait]
impl Handler for Dispatch {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> route::Outcome<'r> {
        let body = match data.open(crate::MAX_BODY.bytes()).into_bytes().await {
            Ok(body) if body.is_complete() => body,
            _ => return route::Outcome::Error(Status::PayloadTooLarge),
        };
        let mut request = http::Request::new(Bytes::from(body.into_inner()));
        *request.method_mut() =
            http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default();
        *request.uri_mut() = req.uri().to_string().parse().unwrap_or_default();
        *request.headers_mut() = headers(req);
        match self.0.handle(request).await {
            Some(response) => route::Outcome::Success(to_rocket(response)),
            None => route::Outcome::Error(Status::NotFound),
        }
    }
}

fn catch<'r>(status: Status, req: &'r Request<'_>) -> rocket::catcher::BoxFuture<'r> {
    Box::pin(async move {
        match req.local_cache(Refusal::default).0.clone() {
            Some(response) => Ok(to_rocket(response)),
            None => Err(status),
        }
    })
}

impl Plugin {
    /// The plugin's own routes ([`Plugin::routes`]) for `.mount("/", …)`.
    pub fn rocket_routes(&self) -> Vec<Route> {
        let mut out = Vec::new();
        for r in self.routes() {
            let mut paths = vec![r.path.clone()];
            if r.prefix {
                paths.push(format!("{}/<id>", r.path));
            }
            for path in paths {
                for method in [
                    RocketMethod::Get,
                    RocketMethod::Post,
                    RocketMethod::Put,
                    RocketMethod::Delete,
                ] {
                    out.push(Route::new(method, &path, Dispatch(self.clone())));
                }
            }
        }
        out
    }

    /// Catchers (400, 401, 403, 407, 500) answering a refused [`PluginRequest`] guard as the
    /// other frameworks do: plugin-play's body and `x-q-auth: unauthorized`.
    pub fn rocket_catchers(&self) -> Vec<Catcher> {
        [400, 401, 403, 407, 500]
            .into_iter()
            .map(|code| Catcher::new(code, catch))
            .collect()
    }
}
