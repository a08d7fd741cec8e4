//! The one server-rendered page, as plain HTML strings. Every value that comes from a user, from
//! Qelos or from the query string goes through [`escape`].

use std::fmt::Write as _;

use qelos_integrator_axum::qelos_sdk::{User, Workspace};

/// Escapes `text` for HTML element content and double-quoted attribute values.
///
/// # Examples
///
/// ```
/// assert_eq!(
///     quickstart::html::escape(r#"<b a="1">'&'</b>"#),
///     "&lt;b a=&quot;1&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;"
/// );
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One row of the entity list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProductRow {
    /// The entity id.
    pub id: String,
    /// Its `name`.
    pub name: String,
    /// Its `price`, if any.
    pub price: Option<f64>,
}

/// What the signed-in page shows.
#[derive(Clone, Debug)]
pub struct SignedInPage<'a> {
    /// The signed-in user.
    pub user: &'a User,
    /// The request's workspace, if any.
    pub workspace: Option<&'a Workspace>,
    /// All of the user's workspaces.
    pub workspaces: &'a [Workspace],
    /// The workspace the session's credentials are bound to, as Qelos reports it on the user
    /// (Qelos scopes entities to it), if any.
    pub session_workspace: Option<&'a Workspace>,
    /// The blueprint whose entities are listed.
    pub blueprint: &'a str,
    /// The entities, or why they could not be listed.
    pub products: Result<Vec<ProductRow>, String>,
    /// A message from the previous action (`?error=`), unescaped.
    pub error: Option<&'a str>,
}

/// A human sentence for an error code of the auth routes or of this app; unknown codes are
/// shown as they are (escaped by the caller).
pub fn error_message(code: &str) -> String {
    match code {
        "INVALID_CREDENTIALS" => "Wrong username or password.".to_owned(),
        "BAD_REQUEST" => "Enter a username and a password.".to_owned(),
        "QELOS_UNAVAILABLE" => "Qelos is unavailable; try again later.".to_owned(),
        "UNKNOWN_WORKSPACE" => "That workspace is not one of yours.".to_owned(),
        "WORKSPACE_NOT_SWITCHED" => "Qelos did not switch the workspace.".to_owned(),
        "NAME_REQUIRED" => "Give the new entity a name.".to_owned(),
        "BAD_PRICE" => "The price must be a number.".to_owned(),
        "CREATE_FAILED" => "Qelos did not create the entity.".to_owned(),
        "SIGN_IN_REQUIRED" => "Sign in first.".to_owned(),
        other => format!("Error: {other}"),
    }
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }}\n\
         form {{ margin: 1rem 0; }} label {{ display: block; margin: .5rem 0; }}\n\
         .error {{ color: #a00; }} table {{ border-collapse: collapse; }} td, th {{ padding: .2rem .6rem; border-bottom: 1px solid #ddd; }}\n\
         </style>\n</head>\n<body>\n<h1>Qelos quickstart</h1>\n{body}</body>\n</html>\n",
        title = escape(title),
    )
}

fn error_block(error: Option<&str>) -> String {
    match error {
        Some(code) if !code.is_empty() => format!(
            "<p id=\"error\" class=\"error\" role=\"alert\">{}</p>\n",
            escape(&error_message(code))
        ),
        _ => String::new(),
    }
}

/// The anonymous page: a sign-in form posting to `/login` (the integrator's auth route) with
/// `next=/`, and the error of a refused sign-in.
pub fn login_page(error: Option<&str>) -> String {
    let body = format!(
        "{error}<form id=\"login-form\" method=\"post\" action=\"/login\">\n\
         <input type=\"hidden\" name=\"next\" value=\"/\">\n\
         <label>Username <input id=\"username\" name=\"username\" autocomplete=\"username\" required></label>\n\
         <label>Password <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\n\
         <button id=\"login\" type=\"submit\">Sign in</button>\n\
         </form>\n",
        error = error_block(error),
    );
    layout("Sign in", &body)
}

/// The signed-in page: user, workspace switcher, entities, a create form and a logout button.
pub fn signed_in_page(page: &SignedInPage<'_>) -> String {
    let user = page.user;
    let display = user
        .full_name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&user.username);
    let mut body = error_block(page.error);
    let _ = writeln!(
        body,
        "<p>Signed in as <strong id=\"user\">{display}</strong> (<span id=\"username-value\">{username}</span>)</p>",
        display = escape(display),
        username = escape(&user.username),
    );
    let active = page.workspace.map(|w| w.id.as_str());
    let _ = writeln!(
        body,
        "<p>Active workspace: <strong id=\"workspace\">{}</strong></p>",
        escape(page.workspace.map_or("(none)", |w| w.name.as_str())),
    );
    if !page.workspaces.is_empty() {
        body.push_str(
            "<form id=\"workspace-form\" method=\"post\" action=\"/workspace\">\n\
             <label>Switch workspace <select id=\"workspace-select\" name=\"id\">\n",
        );
        for ws in page.workspaces {
            let selected = if Some(ws.id.as_str()) == active {
                " selected"
            } else {
                ""
            };
            let _ = writeln!(
                body,
                "<option value=\"{id}\"{selected}>{name}</option>",
                id = escape(&ws.id),
                name = escape(&ws.name),
            );
        }
        body.push_str(
            "</select></label>\n<button id=\"switch-workspace\" type=\"submit\">Switch</button>\n</form>\n",
        );
    }
    let _ = writeln!(
        body,
        "<h2>Entities of <code>{}</code></h2>",
        escape(page.blueprint)
    );
    if let Some(session) = page
        .session_workspace
        .filter(|s| page.workspace.is_some_and(|w| w.id != s.id))
    {
        let _ = writeln!(
            body,
            "<p id=\"entities-scope\">Qelos lists and creates these in <strong>{}</strong>, the workspace \
             this session signed in to: it switches workspaces only for its own cookie sessions.</p>",
            escape(&session.name)
        );
    }
    match &page.products {
        Ok(rows) if rows.is_empty() => {
            body.push_str(
                "<p id=\"entities-empty\">None yet.</p>\n<table id=\"entities\"></table>\n",
            );
        }
        Ok(rows) => {
            body.push_str("<table id=\"entities\">\n<tr><th>name</th><th>price</th></tr>\n");
            for row in rows {
                let _ = writeln!(
                    body,
                    "<tr class=\"entity\" data-id=\"{id}\"><td class=\"entity-name\">{name}</td><td>{price}</td></tr>",
                    id = escape(&row.id),
                    name = escape(&row.name),
                    price = row.price.map(|p| p.to_string()).unwrap_or_default(),
                );
            }
            body.push_str("</table>\n");
        }
        Err(why) => {
            let _ = writeln!(
                body,
                "<p id=\"entities-error\" class=\"error\">Could not list the entities: {}</p>",
                escape(why)
            );
        }
    }
    body.push_str(
        "<form id=\"entity-form\" method=\"post\" action=\"/entities\">\n\
         <label>Name <input id=\"entity-name\" name=\"name\" required></label>\n\
         <label>Price <input id=\"entity-price\" name=\"price\" inputmode=\"decimal\"></label>\n\
         <button id=\"create-entity\" type=\"submit\">Create</button>\n\
         </form>\n\
         <form id=\"logout-form\" method=\"post\" action=\"/logout\">\n\
         <button id=\"logout\" type=\"submit\">Sign out</button>\n\
         </form>\n",
    );
    layout("Home", &body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn user(name: &str) -> User {
        serde_json::from_value(serde_json::json!({
            "_id": "u1", "username": name, "fullName": name
        }))
        .unwrap()
    }

    #[test]
    fn the_login_page_escapes_an_unknown_error_code() {
        let page = login_page(Some("<script>alert(1)</script>"));
        assert!(page.contains("Error: &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("id=\"login-form\""));
        assert!(page.contains("name=\"next\" value=\"/\""));
    }

    #[test]
    fn the_signed_in_page_escapes_user_workspace_and_entity_strings() {
        let u = user("<img src=x>");
        let ws: Vec<Workspace> = serde_json::from_value(serde_json::json!([
            {"_id": "w\"1", "name": "<b>Acme</b>"}
        ]))
        .unwrap();
        let page = signed_in_page(&SignedInPage {
            user: &u,
            workspace: ws.first(),
            workspaces: &ws,
            session_workspace: ws.first(),
            blueprint: "products",
            products: Ok(vec![ProductRow {
                id: "e1".into(),
                name: "<i>x</i>".into(),
                price: Some(2.5),
            }]),
            error: None,
        });
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>Acme"));
        assert!(!page.contains("<i>x"));
        assert!(page.contains("value=\"w&quot;1\" selected"));
        assert!(page.contains("&lt;i&gt;x&lt;/i&gt;"));
        assert!(page.contains("id=\"logout\""));
    }
}
