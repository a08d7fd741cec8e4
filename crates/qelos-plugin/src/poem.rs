//! poem 3 glue: the [`PluginRequest`] extractor and [`Plugin::poem_route`].

use bytes::Bytes;
use poem::{FromRequest, IntoResponse, Request, RequestBody, Response, Route};

use crate::Plugin;
use crate::rejection::PluginRejection;
use crate::verify::PluginRequest;

fn to_poem(response: http::Response<Bytes>) -> Response {
    let (parts, body) = response.into_parts();
    let mut out = Response::builder().status(parts.status);
    for (name, value) in &parts.headers {
        out = out.header(name, value);
    }
    out.body(body)
}

impl From<PluginRejection> for poem::Error {
    fn from(rejection: PluginRejection) -> Self {
        poem::Error::from_response(to_poem(rejection.to_response()))
    }
}

/// Verifies the plugin token, then reads the user. Needs `.data(plugin.clone())`.
///
/// # Examples
///
/// ```
/// use poem::{EndpointExt, get, handler};
/// use qelos_plugin::{Plugin, PluginRequest};
///
/// #[handler]
/// fn me(req: PluginRequest) -> String {
///     req.user().map_or_else(|| "anonymous".to_owned(), |u| u.username.clone())
/// }
///
/// # fn run() -> Result<(), qelos_plugin::ConfigError> {
/// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .build()?;
/// let app = plugin.poem_route().at("/api/play/me", get(me)).data(plugin.clone());
/// # let _ = app; Ok(()) }
/// ```
impl<'a> FromRequest<'a> for PluginRequest {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let plugin = req.data::<Plugin>().ok_or(PluginRejection::MissingPlugin)?;
        plugin
            .verify(req.headers())
            .await
            .map_err(|e| PluginRejection::Refused(e).into())
    }
}

impl Plugin {
    /// A poem [`Route`] with the plugin's own routes ([`Plugin::routes`]); add the app's
    /// routes to it with `.at(…)`.
    pub fn poem_route(&self) -> Route {
        let mut route = Route::new();
        for r in self.routes() {
            let mut paths = vec![r.path.clone()];
            if r.prefix {
                paths.push(format!("{}/:id", r.path));
            }
            for path in paths {
                let plugin = self.clone();
                route = route.at(
                    path,
                    poem::endpoint::make(move |req: Request| {
                        let plugin = plugin.clone();
                        async move {
                            let method = req.method().clone();
                            let uri = req.uri().clone();
                            let headers = req.headers().clone();
                            let Ok(body) = req.into_body().into_bytes_limit(crate::MAX_BODY).await
                            else {
                                return http::StatusCode::PAYLOAD_TOO_LARGE.into_response();
                            };
                            let mut request = http::Request::new(body);
                            *request.method_mut() = method;
                            *request.uri_mut() = uri;
                            *request.headers_mut() = headers;
                            match plugin.handle(request).await {
                                Some(response) => to_poem(response),
                                None => http::StatusCode::NOT_FOUND.into_response(),
                            }
                        }
                    }),
                );
            }
        }
        route
    }
}
