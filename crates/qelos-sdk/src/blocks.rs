//! Blocks: reusable content (`sdk.blocks` in the official SDK).
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let block = sdk.blocks().create(&qelos_sdk::blocks::Block::new("footer", "<p>Hi</p>")).await?;
//! println!("{}", sdk.blocks().get(&block.id).await?.content);
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::segment;
use crate::client::{Call, QelosSdk};
use crate::error::Error;

/// A block (`IBlock`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Block id (`_id`; empty before creation).
    #[serde(rename = "_id", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The content.
    #[serde(default)]
    pub content: String,
    /// `content` or `html`.
    #[serde(
        rename = "contentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_type: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Block {
    /// A block with a name and content.
    pub fn new(name: &str, content: &str) -> Self {
        Self {
            name: name.to_owned(),
            content: content.to_owned(),
            ..Self::default()
        }
    }
}

/// The blocks API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Blocks {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The blocks API.
    pub fn blocks(&self) -> Blocks {
        Blocks { sdk: self.clone() }
    }
}

impl Blocks {
    fn one(id: &str) -> String {
        format!("/api/blocks/{}", segment(id))
    }
    /// `GET /api/blocks/:id` (public).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `block not exists`.
    pub async fn get(&self, id: &str) -> Result<Block, Error> {
        self.sdk.get_json(&Self::one(id)).await
    }
    /// `GET /api/blocks` (editors and admins).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 `you are not authorized` for other callers.
    pub async fn list(&self) -> Result<Vec<Block>, Error> {
        self.sdk.get_json("/api/blocks").await
    }
    /// `POST /api/blocks` (editors and admins).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for other callers.
    pub async fn create(&self, block: &Block) -> Result<Block, Error> {
        let body = serde_json::to_value(block).map_err(|e| Error::encode(&e))?;
        self.sdk
            .send(Call::new(Method::POST, "/api/blocks").json(body))
            .await?
            .json()
    }
    /// `PUT /api/blocks/:id` with the fields to change.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for other callers, 404 unknown block.
    pub async fn update(&self, id: &str, changes: &impl Serialize) -> Result<Block, Error> {
        let body = serde_json::to_value(changes).map_err(|e| Error::encode(&e))?;
        let path = Self::one(id);
        self.sdk
            .send(Call::new(Method::PUT, &path).json(body))
            .await?
            .json()
    }
    /// `DELETE /api/blocks/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for other callers, 404 unknown block.
    pub async fn remove(&self, id: &str) -> Result<(), Error> {
        let path = Self::one(id);
        self.sdk
            .send(Call::new(Method::DELETE, &path))
            .await?
            .ok()
            .map(drop)
    }
}
