//! Blueprint entities: list, get, create, update, remove, count, with a typed query builder.
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! use qelos_sdk::EntityQuery;
//! #[derive(serde::Deserialize, serde::Serialize)]
//! struct Product { name: String, price: f64 }
//!
//! let products = sdk.entities::<Product>("products");
//! let created = products.create(&Product { name: "Widget".into(), price: 10.0 }).await?;
//! let cheap = products.list(&EntityQuery::new().where_("price", 10).limit(20).sort("-created")).await?;
//! println!("{} {}", created.id, cheap.len());
//! # Ok(()) }
//! ```

use std::marker::PhantomData;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::segment;
use crate::client::{Call, QelosSdk};
use crate::error::Error;

/// An entity: its `id` (the `identifier`), the caller's view of it as `T`, and every field `T`
/// does not hold in [`extra`](Self::extra).
///
/// `T` is deserialised from the whole entity object (flat: properties at the top level, and
/// also under `metadata`), so a struct with `name` and `price` fields reads those properties.
/// The fields `T` does not serialise back (`tenant`, `created`, `metadata`, ...) are kept in
/// `extra`; serialising an `Entity` gives back the API's JSON (`extra`, then `T`, then `id`).
/// With `T = serde_json::Value` (the default) `T` holds every field and `extra` is empty.
///
/// # Examples
///
/// ```
/// use qelos_sdk::Entity;
/// #[derive(serde::Deserialize, serde::Serialize)]
/// struct Product { name: String }
///
/// let json = serde_json::json!({"id": "0190", "name": "A", "tenant": "0", "metadata": {"name": "A"}});
/// let typed: Entity<Product> = serde_json::from_value(json.clone()).unwrap();
/// assert_eq!((typed.id.as_str(), typed.data.name.as_str()), ("0190", "A"));
/// assert_eq!(typed.extra["tenant"], "0");
/// assert_eq!(serde_json::to_value(&typed).unwrap(), json);
///
/// let untyped: Entity = serde_json::from_value(json.clone()).unwrap();
/// assert_eq!(untyped.data["metadata"]["name"], "A");
/// assert_eq!(serde_json::to_value(&untyped).unwrap(), json);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Entity<T = Value> {
    /// The entity id (`id`, the same value as `identifier`); empty if the answer had none.
    pub id: String,
    /// The entity as `T`.
    pub data: T,
    /// The fields `T` does not hold.
    pub extra: Map<String, Value>,
}

impl<'de, T: DeserializeOwned + Serialize> Deserialize<'de> for Entity<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut map = Map::<String, Value>::deserialize(deserializer)?;
        let id = match map.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let data: T =
            serde_json::from_value(Value::Object(map.clone())).map_err(D::Error::custom)?;
        // Whatever `T` gives back is `T`'s; the rest is kept aside.
        if let Ok(Value::Object(held)) = serde_json::to_value(&data) {
            map.retain(|k, _| !held.contains_key(k));
        }
        map.remove("id");
        Ok(Entity {
            id,
            data,
            extra: map,
        })
    }
}

impl<T: Serialize> Serialize for Entity<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut out = self.extra.clone();
        match serde_json::to_value(&self.data).map_err(S::Error::custom)? {
            Value::Object(fields) => out.extend(fields),
            Value::Null => {}
            _ => {
                return Err(S::Error::custom(
                    "an entity's data must serialise to an object",
                ));
            }
        }
        let same_id = match out.get("id") {
            Some(Value::String(s)) => *s == self.id,
            Some(Value::Number(n)) => n.to_string() == self.id,
            _ => self.id.is_empty(),
        };
        if !same_id {
            out.insert("id".into(), Value::String(self.id.clone()));
        }
        out.serialize(serializer)
    }
}

/// A list query: filters, `$limit`, `$page`, `$sort`, `$flat`.
///
/// # Examples
///
/// ```
/// use qelos_sdk::EntityQuery;
/// let q = EntityQuery::new().where_("category", "tools").limit(10).page(2).sort("-metadata.price");
/// assert_eq!(
///     q.pairs(),
///     vec![
///         ("category".to_string(), "tools".to_string()),
///         ("$limit".into(), "10".into()),
///         ("$page".into(), "2".into()),
///         ("$sort".into(), "-metadata.price".into()),
///         ("$flat".into(), "true".into()),
///     ]
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntityQuery {
    filters: Vec<(String, String)>,
    limit: Option<u64>,
    page: Option<u64>,
    sort: Option<String>,
    flat: Option<bool>,
    skip: Option<u64>,
    select: Option<String>,
    populate: Option<String>,
}

impl EntityQuery {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }
    /// A filter on a property (`where` in the other SDKs).
    #[must_use]
    pub fn where_(mut self, key: impl Into<String>, value: impl std::fmt::Display) -> Self {
        self.filters.push((key.into(), value.to_string()));
        self
    }
    /// `$limit`.
    #[must_use]
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// `$page` (1-based).
    #[must_use]
    pub fn page(mut self, n: u64) -> Self {
        self.page = Some(n);
        self
    }
    /// `$sort` (`-field` descending; properties as `metadata.<name>`).
    #[must_use]
    pub fn sort(mut self, s: impl Into<String>) -> Self {
        self.sort = Some(s.into());
        self
    }
    /// `$flat` (default `true`: properties at the top level).
    #[must_use]
    pub fn flat(mut self, flat: bool) -> Self {
        self.flat = Some(flat);
        self
    }
    /// `$skip`: leave out the first `n` matches (the official query builder's `skip`).
    #[must_use]
    pub fn skip(mut self, n: u64) -> Self {
        self.skip = Some(n);
        self
    }
    /// `$select`: only these fields (the official builder's `select`, joined with `,`).
    #[must_use]
    pub fn select<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = fields.into_iter().map(|f| f.as_ref().to_owned()).collect();
        self.select = Some(joined.join(","));
        self
    }
    /// `$populate`: resolve these relation properties (Qelos's `$populate`, joined with `,`).
    #[must_use]
    pub fn populate<I, S>(mut self, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = properties
            .into_iter()
            .map(|f| f.as_ref().to_owned())
            .collect();
        self.populate = Some(joined.join(","));
        self
    }
    /// The query-string pairs of a list call: filters, `$limit`, `$page`, `$sort`, then `$flat`
    /// (`true` unless [`flat`](Self::flat) or a `$flat` filter chose otherwise).
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = self.filter_pairs();
        let chosen = self.filters.iter().any(|(k, _)| k == "$flat");
        match self.flat {
            Some(flat) => {
                out.retain(|(k, _)| k != "$flat");
                out.push(("$flat".into(), flat.to_string()));
            }
            None if !chosen => out.push(("$flat".into(), "true".into())),
            None => {}
        }
        out
    }
    /// `/charts/count` takes the raw filters and no `$flat`.
    pub(crate) fn count_pairs(&self) -> Vec<(String, String)> {
        let mut out = self.filter_pairs();
        out.retain(|(k, _)| !matches!(k.as_str(), "$flat" | "$skip" | "$select" | "$populate"));
        out
    }
    fn filter_pairs(&self) -> Vec<(String, String)> {
        let mut out = self.filters.clone();
        if let Some(n) = self.limit {
            out.push(("$limit".into(), n.to_string()));
        }
        if let Some(n) = self.page {
            out.push(("$page".into(), n.to_string()));
        }
        if let Some(s) = &self.sort {
            out.push(("$sort".into(), s.clone()));
        }
        if let Some(n) = self.skip {
            out.push(("$skip".into(), n.to_string()));
        }
        if let Some(s) = &self.select {
            out.push(("$select".into(), s.clone()));
        }
        if let Some(s) = &self.populate {
            out.push(("$populate".into(), s.clone()));
        }
        out
    }
}

/// The entities of one blueprint, typed as `T`.
#[derive(Debug)]
pub struct Entities<T = Value> {
    sdk: QelosSdk,
    path: String,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Entities<T> {
    fn clone(&self) -> Self {
        Self {
            sdk: self.sdk.clone(),
            path: self.path.clone(),
            _t: PhantomData,
        }
    }
}

impl QelosSdk {
    /// The entities of blueprint `key`.
    pub fn entities<T>(&self, key: &str) -> Entities<T> {
        Entities {
            sdk: self.clone(),
            path: format!("/api/blueprints/{}", segment(key)),
            _t: PhantomData,
        }
    }
}

fn flat() -> Vec<(String, String)> {
    vec![("$flat".into(), "true".into())]
}

impl<T: DeserializeOwned + Serialize> Entities<T> {
    fn one(&self, id: &str) -> String {
        format!("{}/entities/{}", self.path, segment(id))
    }

    /// `GET …/entities` with the query.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 (`not permitted`), 404 (`blueprint not found`); network, timeout,
    /// decode errors.
    pub async fn list(&self, query: &EntityQuery) -> Result<Vec<Entity<T>>, Error> {
        let path = format!("{}/entities", self.path);
        self.sdk
            .send(Call::new(Method::GET, &path).query(query.pairs()))
            .await?
            .json()
    }
    /// `GET …/entities/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 (`entity not found`), 403.
    pub async fn get(&self, id: &str) -> Result<Entity<T>, Error> {
        self.sdk
            .send(Call::new(Method::GET, &self.one(id)).query(flat()))
            .await?
            .json()
    }
    /// `POST …/entities`: properties flat or under `metadata`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403, 406 (validation).
    pub async fn create(&self, entity: &impl Serialize) -> Result<Entity<T>, Error> {
        let body = serde_json::to_value(entity).map_err(|e| Error::encode(&e))?;
        let path = format!("{}/entities", self.path);
        self.sdk
            .send(Call::new(Method::POST, &path).query(flat()).json(body))
            .await?
            .json()
    }
    /// `PUT …/entities/:id`: merges the given properties.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403, 404, 406.
    pub async fn update(&self, id: &str, changes: &impl Serialize) -> Result<Entity<T>, Error> {
        let body = serde_json::to_value(changes).map_err(|e| Error::encode(&e))?;
        self.sdk
            .send(
                Call::new(Method::PUT, &self.one(id))
                    .query(flat())
                    .json(body),
            )
            .await?
            .json()
    }
    /// `DELETE …/entities/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403, 404.
    pub async fn remove(&self, id: &str) -> Result<(), Error> {
        self.sdk
            .send(Call::new(Method::DELETE, &self.one(id)))
            .await?
            .ok()?;
        Ok(())
    }
    /// `GET …/charts/count` with the query's filters.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when anonymous, 403.
    pub async fn count(&self, query: &EntityQuery) -> Result<u64, Error> {
        #[derive(Deserialize)]
        struct Count {
            count: u64,
        }
        let path = format!("{}/charts/count", self.path);
        let c: Count = self
            .sdk
            .send(Call::new(Method::GET, &path).query(query.count_pairs()))
            .await?
            .json()?;
        Ok(c.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn flat_is_sent_unless_the_caller_chose() {
        assert_eq!(EntityQuery::new().pairs(), [pair("$flat", "true")]);
        assert_eq!(
            EntityQuery::new().flat(false).pairs(),
            [pair("$flat", "false")]
        );
        assert_eq!(
            EntityQuery::new().where_("$flat", 0).pairs(),
            [pair("$flat", "0")]
        );
        assert_eq!(
            EntityQuery::new().where_("$flat", 0).flat(true).pairs(),
            [pair("$flat", "true")],
            "flat() wins over a raw filter"
        );
    }

    #[test]
    fn count_sends_the_filters_without_flat() {
        let q = EntityQuery::new().where_("name", "a").flat(true).limit(5);
        assert_eq!(q.count_pairs(), [pair("name", "a"), pair("$limit", "5")]);
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Product {
        name: String,
        #[serde(default)]
        price: Option<f64>,
    }

    #[test]
    fn a_typed_entity_splits_its_fields_and_serialises_back() {
        let api = json!({"id": "e1", "identifier": "e1", "name": "A", "price": 2.5,
                         "metadata": {"name": "A", "price": 2.5}, "__v": 0});
        let e: Entity<Product> = serde_json::from_value(api.clone()).unwrap();
        assert_eq!(e.id, "e1");
        assert_eq!(
            e.data,
            Product {
                name: "A".into(),
                price: Some(2.5)
            }
        );
        let mut keys: Vec<_> = e.extra.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["__v", "identifier", "metadata"]);
        assert_eq!(serde_json::to_value(&e).unwrap(), api);
    }

    #[test]
    fn an_untyped_entity_holds_everything_in_data() {
        let api = json!({"id": "e1", "name": "A"});
        let e: Entity = serde_json::from_value(api.clone()).unwrap();
        assert!(e.extra.is_empty());
        assert_eq!(e.data, api);
        assert_eq!(serde_json::to_value(&e).unwrap(), api);
    }

    #[test]
    fn a_changed_id_is_what_serialises() {
        let mut e: Entity = serde_json::from_value(json!({"id": "old"})).unwrap();
        e.id = "new".into();
        assert_eq!(serde_json::to_value(&e).unwrap(), json!({"id": "new"}));
    }

    #[test]
    fn an_entity_without_id_or_with_a_wrong_shape() {
        let e: Entity<Product> = serde_json::from_value(json!({"name": "A"})).unwrap();
        assert_eq!(e.id, "");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"name": "A", "price": null})
        );
        assert!(serde_json::from_value::<Entity<Product>>(json!({"id": "x"})).is_err());
        assert!(serde_json::from_value::<Entity>(json!([1])).is_err());
    }
}
