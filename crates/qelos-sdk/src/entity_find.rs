//! The official SDK's fluent entity query: `entities.where(..).sort(..).limit(..).find()`.
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let cheap = sdk
//!     .entities::<serde_json::Value>("products")
//!     .where_("category", "tools")
//!     .sort("metadata.price")
//!     .skip(10)
//!     .limit(5)
//!     .select(["name", "price"])
//!     .find()
//!     .await?;
//! # let _ = cheap; Ok(()) }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::entities::{Entities, Entity, EntityQuery};
use crate::error::Error;

/// A query bound to the entities of one blueprint; ends with [`find`](Self::find),
/// [`find_one`](Self::find_one) or [`count`](Self::count).
#[derive(Debug)]
#[must_use = "a query does nothing until find, find_one or count"]
pub struct EntityFind<T> {
    entities: Entities<T>,
    query: EntityQuery,
}

impl<T> Clone for EntityFind<T> {
    fn clone(&self) -> Self {
        Self {
            entities: self.entities.clone(),
            query: self.query.clone(),
        }
    }
}

impl<T: DeserializeOwned + Serialize> Entities<T> {
    /// An empty fluent query (`query()` in the official SDK).
    pub fn query(&self) -> EntityFind<T> {
        EntityFind {
            entities: self.clone(),
            query: EntityQuery::new(),
        }
    }
    /// A fluent query starting with a filter (`where`).
    pub fn where_(&self, key: impl Into<String>, value: impl std::fmt::Display) -> EntityFind<T> {
        self.query().where_(key, value)
    }
}

macro_rules! delegate {
    ($(#[$doc:meta] $name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[$doc]
            pub fn $name(mut self, $($arg: $ty),*) -> Self {
                self.query = self.query.$name($($arg),*);
                self
            }
        )*
    };
}

impl<T: DeserializeOwned + Serialize> EntityFind<T> {
    delegate! {
        /// Adds a filter (`where`).
        where_(key: impl Into<String>, value: impl std::fmt::Display);
        /// `$limit`.
        limit(n: u64);
        /// `$skip`.
        skip(n: u64);
        /// `$page` (1-based).
        page(n: u64);
        /// `$sort` (`-field` descending).
        sort(s: impl Into<String>);
        /// `$flat` (default `true`).
        flat(flat: bool);
    }
    /// `$select`: only these fields.
    pub fn select<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.query = self.query.select(fields);
        self
    }
    /// `$populate`: resolve these relation properties.
    pub fn populate<I, S>(mut self, properties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.query = self.query.populate(properties);
        self
    }
    /// The query as built (for [`Entities::list`] or [`Entities::count`]).
    pub fn to_query(&self) -> &EntityQuery {
        &self.query
    }
    /// The matching entities.
    ///
    /// # Errors
    ///
    /// As [`Entities::list`].
    pub async fn find(self) -> Result<Vec<Entity<T>>, Error> {
        self.entities.list(&self.query).await
    }
    /// The first match, if any (`$limit=1`).
    ///
    /// # Errors
    ///
    /// As [`Entities::list`].
    pub async fn find_one(self) -> Result<Option<Entity<T>>, Error> {
        let query = self.query.limit(1);
        Ok(self.entities.list(&query).await?.into_iter().next())
    }
    /// How many match (`/charts/count`; `$skip`, `$select`, `$populate` are not sent).
    ///
    /// # Errors
    ///
    /// As [`Entities::count`].
    pub async fn count(self) -> Result<u64, Error> {
        self.entities.count(&self.query).await
    }
}
