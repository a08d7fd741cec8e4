//! Response header helpers: the `Set-Cookie` values a response carries and `no-store`.

/// Appends `Set-Cookie` headers to an `http` header map, skipping values that are not valid
/// header values (they cannot come from this crate, but a custom hook could push one). When at
/// least one cookie is written, the response also gets `Cache-Control: no-store`
/// ([`no_store`]): an answer that sets or clears tokens is never stored by a cache.
pub fn append_set_cookies(headers: &mut http::HeaderMap, set_cookies: Vec<String>) {
    let mut wrote = false;
    for value in set_cookies {
        if let Ok(v) = http::HeaderValue::try_from(value) {
            headers.append(http::header::SET_COOKIE, v);
            wrote = true;
        }
    }
    if wrote {
        no_store(headers);
    }
}

/// What writing `set_cookies` adds to a response, for frameworks with their own header types:
/// one `("set-cookie", value)` per cookie (append these) and, when there is any,
/// `("cache-control", "no-store")` (set this one, replacing the handler's). The same decision
/// as [`append_set_cookies`].
///
/// # Examples
///
/// ```
/// let headers = qelos_integrator_core::adapter::set_cookie_headers(vec!["a=1; Path=/".into()]);
/// assert_eq!(headers, [("set-cookie", "a=1; Path=/".to_owned()), ("cache-control", "no-store".to_owned())]);
/// assert!(qelos_integrator_core::adapter::set_cookie_headers(Vec::new()).is_empty());
/// ```
pub fn set_cookie_headers(set_cookies: Vec<String>) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = set_cookies
        .into_iter()
        .filter(|c| http::HeaderValue::try_from(c.as_str()).is_ok())
        .map(|c| ("set-cookie", c))
        .collect();
    if !out.is_empty() {
        out.push(("cache-control", "no-store".to_owned()));
    }
    out
}

/// Sets `Cache-Control: no-store` (replacing any other `Cache-Control`): the one place the
/// integrator marks a response as never to be cached. Used for every response that sets or
/// clears tokens and for the login and callback redirects.
///
/// # Examples
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// qelos_integrator_core::adapter::no_store(&mut headers);
/// assert_eq!(headers["cache-control"], "no-store");
/// ```
pub fn no_store(headers: &mut http::HeaderMap) {
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
}
