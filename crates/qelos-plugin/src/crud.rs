//! [`Crud`]: REST endpoints over a [`CrudStore`] plus the manifest entries that show them
//! (plugin-play's `createCrud`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::manifest::{CrudDisplay, CrudEntry, MicroFrontend, NavBarGroup, NavBarPosition};
use crate::verify::PluginRequest;

/// A crud store failed or refused; `status` and `message` make the response.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CrudError {
    /// HTTP status.
    pub status: StatusCode,
    /// Message for the body (never secrets).
    pub message: String,
}

impl CrudError {
    /// An error answered with `status` and `message`.
    pub fn new(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            message: message.to_owned(),
        }
    }
}

/// Storage behind a [`Crud`]. Every call gets the verified caller (tenant, user), so a store
/// keeps tenants apart. Items are JSON objects; the identifier key is `_id`.
pub trait CrudStore: Send + Sync + 'static {
    /// Items matching the query string pairs.
    fn list<'a>(
        &'a self,
        caller: &'a PluginRequest,
        query: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<Vec<Value>, CrudError>>;
    /// One item.
    fn get<'a>(
        &'a self,
        caller: &'a PluginRequest,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, CrudError>>;
    /// Creates an item (the store assigns `_id`).
    fn create<'a>(
        &'a self,
        caller: &'a PluginRequest,
        item: Map<String, Value>,
    ) -> BoxFuture<'a, Result<Value, CrudError>>;
    /// Merges `changes` into an item.
    fn update<'a>(
        &'a self,
        caller: &'a PluginRequest,
        id: &'a str,
        changes: Map<String, Value>,
    ) -> BoxFuture<'a, Result<Option<Value>, CrudError>>;
    /// Deletes an item, returning it.
    fn delete<'a>(
        &'a self,
        caller: &'a PluginRequest,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, CrudError>>;
}

/// An in-memory [`CrudStore`], one collection per tenant; `list` filters on exact
/// query-string matches of top-level string fields.
///
/// # Examples
///
/// ```
/// use qelos_plugin::{CrudStore, MemoryCrudStore, PluginRequest};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
/// # }
/// let store = MemoryCrudStore::default();
/// let caller = PluginRequest::default();
/// let item = serde_json::json!({"title": "milk"}).as_object().cloned().unwrap_or_default();
/// let created = block_on(store.create(&caller, item))?;
/// let id = created["_id"].as_str().unwrap_or_default();
/// assert_eq!(block_on(store.get(&caller, id))?.map(|v| v["title"].clone()), Some("milk".into()));
/// # Ok::<(), qelos_plugin::CrudError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryCrudStore {
    items: Arc<Mutex<HashMap<String, Vec<Value>>>>,
}

impl MemoryCrudStore {
    fn with<T>(&self, caller: &PluginRequest, f: impl FnOnce(&mut Vec<Value>) -> T) -> T {
        let tenant = caller.tenant.clone().unwrap_or_default();
        let mut all = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        f(all.entry(tenant).or_default())
    }
}

fn id_of(v: &Value) -> Option<&str> {
    v.get("_id").and_then(Value::as_str)
}

impl CrudStore for MemoryCrudStore {
    fn list<'a>(
        &'a self,
        caller: &'a PluginRequest,
        query: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<Vec<Value>, CrudError>> {
        let found = self.with(caller, |items| {
            items
                .iter()
                .filter(|item| {
                    query
                        .iter()
                        .all(|(k, v)| item.get(k).and_then(Value::as_str) == Some(v))
                })
                .cloned()
                .collect()
        });
        Box::pin(async move { Ok(found) })
    }

    fn get<'a>(
        &'a self,
        caller: &'a PluginRequest,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, CrudError>> {
        let found = self.with(caller, |items| {
            items.iter().find(|i| id_of(i) == Some(id)).cloned()
        });
        Box::pin(async move { Ok(found) })
    }

    fn create<'a>(
        &'a self,
        caller: &'a PluginRequest,
        mut item: Map<String, Value>,
    ) -> BoxFuture<'a, Result<Value, CrudError>> {
        item.insert("_id".into(), json!(crate::crypto::random_hex()));
        let item = Value::Object(item);
        self.with(caller, |items| items.push(item.clone()));
        Box::pin(async move { Ok(item) })
    }

    fn update<'a>(
        &'a self,
        caller: &'a PluginRequest,
        id: &'a str,
        changes: Map<String, Value>,
    ) -> BoxFuture<'a, Result<Option<Value>, CrudError>> {
        let updated = self.with(caller, |items| {
            let item = items.iter_mut().find(|i| id_of(i) == Some(id))?;
            if let Value::Object(fields) = item {
                for (k, v) in changes {
                    if k != "_id" {
                        fields.insert(k, v);
                    }
                }
            }
            Some(item.clone())
        });
        Box::pin(async move { Ok(updated) })
    }

    fn delete<'a>(
        &'a self,
        caller: &'a PluginRequest,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Value>, CrudError>> {
        let removed = self.with(caller, |items| {
            let at = items.iter().position(|i| id_of(i) == Some(id))?;
            Some(items.remove(at))
        });
        Box::pin(async move { Ok(removed) })
    }
}

/// A CRUD resource: `GET/POST <proxyPath>/<name>`, `GET/PUT/DELETE <proxyPath>/<name>/<id>`,
/// callable by Qelos (plugin token) and by authorized micro-frontends (cookie), plus the
/// `cruds` entry, a nav-bar group and the list/create/edit screens in the manifest.
///
/// # Examples
///
/// ```
/// use qelos_plugin::{Crud, MemoryCrudStore, Plugin};
/// let plugin = Plugin::builder("todo", "https://p.example.com")
///     .static_token("a static token of 32 bytes......")
///     .crud(Crud::new("todo item", MemoryCrudStore::default()).public_keys(["title", "done"]))
///     .build()?;
/// let m = plugin.manifest();
/// assert_eq!(m.cruds[0].name, "todo-items");
/// assert_eq!(m.nav_bar_groups[0].name, "Todo Items");
/// assert_eq!(m.micro_frontends.len(), 3);
/// # Ok::<(), qelos_plugin::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Crud<S> {
    name: String,
    display: CrudDisplay,
    public_keys: Option<Vec<String>>,
    screens: [String; 3],
    store: S,
}

impl<S: CrudStore> Crud<S> {
    /// A resource displayed as `display_name` (its URL name is the hyphenated plural).
    pub fn new(display_name: &str, store: S) -> Self {
        let display = CrudDisplay::of(display_name);
        Self {
            name: display.plural.replace(' ', "-"),
            display,
            public_keys: None,
            screens: ["rows-list".into(), "basic-form".into(), "basic-form".into()],
            store,
        }
    }

    /// Only these keys (and `_id`) leave the plugin.
    #[must_use]
    pub fn public_keys<I: IntoIterator<Item = T>, T: Into<String>>(mut self, keys: I) -> Self {
        self.public_keys = Some(keys.into_iter().map(Into::into).collect());
        self
    }

    /// The Qelos screens for list, create and edit (defaults `rows-list`, `basic-form`,
    /// `basic-form`).
    #[must_use]
    pub fn screens(mut self, list: &str, create: &str, edit: &str) -> Self {
        self.screens = [list.into(), create.into(), edit.into()];
        self
    }

    pub(crate) fn manifest_entries(&self) -> (CrudEntry, NavBarGroup, Vec<MicroFrontend>) {
        let d = &self.display;
        let single = d.name.to_lowercase().replace(' ', "-");
        let [list, create, edit] = &self.screens;
        let mfes = vec![
            MicroFrontend::pre_designed(
                "List",
                &format!("List of {}", d.capitalized_plural),
                list,
                &self.name,
            )
            .route("List", &self.name, NavBarPosition::Top),
            MicroFrontend::pre_designed(
                "Create",
                &format!("Create a new {}", d.capitalized),
                create,
                &self.name,
            )
            .route("Create", &format!("add-{single}"), NavBarPosition::Top),
            MicroFrontend::pre_designed(
                "Edit",
                &format!("Edit existing {}", d.capitalized),
                edit,
                &self.name,
            )
            .route(
                "Edit",
                &format!("edit-{single}/:id"),
                NavBarPosition::Hidden,
            ),
        ];
        (
            CrudEntry {
                name: self.name.clone(),
                display: d.clone(),
            },
            NavBarGroup::new(&self.name, &d.capitalized_plural),
            mfes,
        )
    }

    fn public(&self, item: Value) -> Value {
        let Some(keys) = &self.public_keys else {
            return item;
        };
        let mut out = Map::new();
        out.insert(
            "_id".into(),
            item.get("_id").cloned().unwrap_or(Value::Null),
        );
        for k in keys {
            out.insert(k.clone(), item.get(k).cloned().unwrap_or(Value::Null));
        }
        Value::Object(out)
    }
}

/// What a crud call answers.
pub(crate) type CrudReply = Result<(StatusCode, Value), CrudError>;

/// A [`Crud`] with its store type erased, as the plugin keeps it.
pub(crate) trait ErasedCrud: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn call<'a>(
        &'a self,
        caller: &'a PluginRequest,
        method: &'a Method,
        id: Option<&'a str>,
        query: &'a [(String, String)],
        body: &'a [u8],
    ) -> BoxFuture<'a, CrudReply>;
}

fn object(body: &[u8]) -> Result<Map<String, Value>, CrudError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(CrudError::new(
            StatusCode::BAD_REQUEST,
            "the body must be a JSON object",
        )),
    }
}

fn not_found() -> CrudError {
    CrudError::new(StatusCode::NOT_FOUND, "item not found")
}

impl<S: CrudStore> ErasedCrud for Crud<S> {
    fn name(&self) -> &str {
        &self.name
    }

    fn call<'a>(
        &'a self,
        caller: &'a PluginRequest,
        method: &'a Method,
        id: Option<&'a str>,
        query: &'a [(String, String)],
        body: &'a [u8],
    ) -> BoxFuture<'a, CrudReply> {
        Box::pin(async move {
            let s = &self.store;
            let found = |v: Option<Value>| v.map(|v| self.public(v)).ok_or_else(not_found);
            match (method.clone(), id) {
                (Method::GET, None) => {
                    let list = s.list(caller, query).await?;
                    let list = list.into_iter().map(|v| self.public(v)).collect();
                    Ok((StatusCode::OK, Value::Array(list)))
                }
                (Method::POST, None) => {
                    let created = s.create(caller, object(body)?).await?;
                    Ok((StatusCode::OK, self.public(created)))
                }
                (Method::GET, Some(id)) => Ok((StatusCode::OK, found(s.get(caller, id).await?)?)),
                (Method::PUT, Some(id)) => Ok((
                    StatusCode::OK,
                    found(s.update(caller, id, object(body)?).await?)?,
                )),
                (Method::DELETE, Some(id)) => {
                    Ok((StatusCode::OK, found(s.delete(caller, id).await?)?))
                }
                _ => Err(CrudError::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed",
                )),
            }
        })
    }
}
