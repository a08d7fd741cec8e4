//! One framework-agnostic entry point: [`Plugin::handle`] answers every route the plugin
//! serves (handshake, micro-frontend authorization, cruds, event hooks) from `http` types.
//! The framework modules only convert requests and responses.

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::Plugin;
use crate::events::QelosEvent;
use crate::handshake::HandshakeError;
use crate::verify::VerifyError;

/// A path the plugin serves; `prefix` paths also serve `<path>/<id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PluginRoute {
    /// The path.
    pub path: String,
    /// Whether `<path>/<anything>` is served too.
    pub prefix: bool,
}

/// The path of a manifest URL (absolute URLs are served at their path).
fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => u.path().to_owned(),
        Err(_) => format!("/{}", url.trim_start_matches('/')),
    }
}

fn json_reply(status: StatusCode, body: &Value) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn refused(e: &VerifyError) -> Response<Bytes> {
    tracing::debug!(target: "qelos_plugin::rejection", reason = %e, "plugin request refused");
    let mut r = json_reply(e.status(), &e.body());
    for (name, value) in e.headers() {
        r.headers_mut().insert(name, value);
    }
    r
}

fn handshake_reply(result: Result<Value, HandshakeError>) -> Response<Bytes> {
    match result {
        Ok(v) => json_reply(StatusCode::OK, &v),
        Err(HandshakeError::Verify(e)) => refused(&e),
        Err(e) => {
            tracing::debug!(target: "qelos_plugin::rejection", reason = %e, "handshake refused");
            json_reply(e.status(), &e.body())
        }
    }
}

fn frontend_reply(result: Result<crate::FrontendAnswer, VerifyError>) -> Response<Bytes> {
    match result {
        Ok(answer) => {
            let mut r = json_reply(StatusCode::OK, &answer.body);
            for c in answer.set_cookies {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Err(VerifyError::NotAuthorized) => json_reply(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "you are not authorized"}),
        ),
        Err(e) => refused(&e),
    }
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

impl Plugin {
    /// Every path [`handle`](Self::handle) answers, for mounting in a router.
    ///
    /// # Examples
    ///
    /// ```
    /// let plugin = qelos_plugin::Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .manifest(qelos_plugin::Manifest::new("todo", "http://127.0.0.1:1086")
    ///         .handshake_urls("/auth/register", "/auth/refresh", "/auth/callback"))
    ///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
    ///     .build()?;
    /// let paths: Vec<String> = plugin.routes().into_iter().map(|r| r.path).collect();
    /// assert!(paths.contains(&"/auth/register".to_owned()));
    /// assert!(paths.contains(&"/auth/refresh".to_owned()));
    /// # Ok::<(), qelos_plugin::ConfigError>(())
    /// ```
    pub fn routes(&self) -> Vec<PluginRoute> {
        let m = &self.inner.manifest;
        let mut exact: Vec<String> = vec![path_of(&m.manifest_url)];
        exact.extend(m.callback_url.as_deref().map(path_of));
        exact.extend(m.authorize_url.as_deref().map(path_of));
        exact.extend(m.un_authorize_url.as_deref().map(path_of));
        if !self.uses_static_token() {
            exact.extend(m.register_url.as_deref().map(path_of));
            exact.extend(
                m.auth_acquire
                    .as_ref()
                    .map(|a| path_of(&a.refresh_token_url)),
            );
        }
        exact.extend(self.inner.hooks.iter().map(|h| h.path.clone()));
        let mut routes: Vec<PluginRoute> = exact
            .into_iter()
            .map(|path| PluginRoute {
                path,
                prefix: false,
            })
            .collect();
        routes.extend(self.inner.cruds.iter().map(|c| PluginRoute {
            path: self.crud_base(c.name()),
            prefix: true,
        }));
        routes.dedup();
        routes
    }

    fn crud_base(&self, name: &str) -> String {
        format!(
            "{}/{name}",
            path_of(&self.inner.manifest.proxy_path).trim_end_matches('/')
        )
    }

    /// Answers a request to one of [`routes`](Self::routes); `None` when the path is not the
    /// plugin's (the framework then routes it elsewhere). The body is the whole request body.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::Plugin;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
    /// # }
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .static_token("a static token of 32 bytes......")
    ///     .build()?;
    /// let req = http::Request::get("/api/play-manifest").body(bytes::Bytes::new())?;
    /// let manifest = block_on(plugin.handle(req)).map(|r| r.status().as_u16());
    /// assert_eq!(manifest, Some(200));
    /// let other = http::Request::get("/elsewhere").body(bytes::Bytes::new())?;
    /// assert!(block_on(plugin.handle(other)).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn handle(&self, request: Request<Bytes>) -> Option<Response<Bytes>> {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path();
        let m = &self.inner.manifest;
        let is = |url: Option<&str>| url.is_some_and(|u| path_of(u) == path);
        let method = &parts.method;
        let headers = &parts.headers;
        if *method == Method::GET && is(Some(&m.manifest_url)) {
            let mut r = json_reply(StatusCode::OK, &json!(m));
            r.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            return Some(r);
        }
        if !self.uses_static_token() && *method == Method::POST {
            if is(m.register_url.as_deref()) {
                return Some(handshake_reply(self.register(headers, &body).await));
            }
            if is(m
                .auth_acquire
                .as_ref()
                .map(|a| a.refresh_token_url.as_str()))
            {
                return Some(handshake_reply(self.refresh(headers).await));
            }
        }
        if *method == Method::GET && is(m.callback_url.as_deref()) {
            let return_url = query_pairs(parts.uri.query())
                .into_iter()
                .find(|(k, _)| k == "returnUrl")
                .map(|(_, v)| v)
                .unwrap_or_default();
            return Some(handshake_reply(self.callback(headers, &return_url).await));
        }
        if *method == Method::POST && is(m.authorize_url.as_deref()) {
            return Some(frontend_reply(self.authorize(headers, &body)));
        }
        if *method == Method::POST && is(m.un_authorize_url.as_deref()) {
            return Some(frontend_reply(self.un_authorize(headers)));
        }
        if let Some(hook) = self.inner.hooks.iter().find(|h| h.path == path) {
            if *method != Method::POST {
                return Some(json_reply(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &json!({"message": "method not allowed"}),
                ));
            }
            let caller = match self.verify(headers).await {
                Ok(c) => c,
                Err(e) => return Some(refused(&e)),
            };
            let Ok(event) = serde_json::from_slice::<QelosEvent>(&body) else {
                return Some(json_reply(
                    StatusCode::BAD_REQUEST,
                    &json!({"message": "the body is not a Qelos event"}),
                ));
            };
            if hook.matches(&event) {
                hook.handler.handle(caller, event).await;
            }
            return Some(json_reply(StatusCode::OK, &json!({})));
        }
        for crud in &self.inner.cruds {
            let base = self.crud_base(crud.name());
            let id = match path.strip_prefix(base.as_str()) {
                Some("" | "/") => None,
                Some(rest) if rest.starts_with('/') && !rest[1..].contains('/') => {
                    Some(rest[1..].to_owned())
                }
                _ => continue,
            };
            let caller = match self.verify_any(headers).await {
                Ok(c) => c,
                Err(e) => return Some(refused(&e)),
            };
            let query = query_pairs(parts.uri.query());
            let reply = crud
                .call(&caller, method, id.as_deref(), &query, &body)
                .await;
            return Some(match reply {
                Ok((status, v)) => json_reply(status, &v),
                Err(e) => json_reply(e.status, &json!({"message": e.message})),
            });
        }
        None
    }
}
