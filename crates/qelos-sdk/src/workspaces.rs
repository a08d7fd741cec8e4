//! Workspaces: list, get, create, update, remove, activate, members.
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! for ws in sdk.workspaces().list().await? {
//!     println!("{} {}", ws.id, ws.name);
//! }
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde::Serialize;

use crate::auth::segment;
use crate::client::{Call, QelosSdk};
use crate::error::Error;
use crate::models::{Member, NewWorkspace, Workspace};

/// The workspaces API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Workspaces {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The workspaces API.
    pub fn workspaces(&self) -> Workspaces {
        Workspaces { sdk: self.clone() }
    }
}

impl Workspaces {
    /// `GET /api/workspaces`: the caller's workspaces.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in; network, timeout, decode errors.
    pub async fn list(&self) -> Result<Vec<Workspace>, Error> {
        self.sdk.get_json("/api/workspaces").await
    }
    /// `GET /api/workspaces/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 when not found or not a member.
    pub async fn get(&self, id: &str) -> Result<Workspace, Error> {
        self.sdk
            .get_json(&format!("/api/workspaces/{}", segment(id)))
            .await
    }
    /// `POST /api/workspaces`; the caller becomes an admin member.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 when not permitted, 400/500 for invalid data.
    pub async fn create(&self, new: &NewWorkspace) -> Result<Workspace, Error> {
        let body = serde_json::to_value(new).map_err(|e| Error::encode(&e))?;
        self.sdk
            .send(Call::new(Method::POST, "/api/workspaces").json(body))
            .await?
            .json()
    }
    /// `PUT /api/workspaces/:id` with the fields to change (`name`, `logo`, `invites`, ...).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 for non-admins.
    pub async fn update(&self, id: &str, changes: &impl Serialize) -> Result<Workspace, Error> {
        let body = serde_json::to_value(changes).map_err(|e| Error::encode(&e))?;
        let path = format!("/api/workspaces/{}", segment(id));
        self.sdk
            .send(Call::new(Method::PUT, &path).json(body))
            .await?
            .json()
    }
    /// `DELETE /api/workspaces/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 for the active workspace, 403 for non-admins.
    pub async fn remove(&self, id: &str) -> Result<(), Error> {
        let path = format!("/api/workspaces/{}", segment(id));
        self.sdk
            .send(Call::new(Method::DELETE, &path))
            .await?
            .ok()?;
        Ok(())
    }
    /// `POST /api/workspaces/:id/activate`. Qelos re-issues the session cookie (cookie sessions
    /// only; it answers 500 for Bearer and API-key sessions); the new cookie reaches the hooks.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 / 500 as above.
    pub async fn activate(&self, id: &str) -> Result<Workspace, Error> {
        let path = format!("/api/workspaces/{}/activate", segment(id));
        self.sdk.send(Call::new(Method::POST, &path)).await?.json()
    }
    /// `GET /api/workspaces/:id/members` (workspace admins).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403/404.
    pub async fn members(&self, id: &str) -> Result<Vec<Member>, Error> {
        self.sdk
            .get_json(&format!("/api/workspaces/{}/members", segment(id)))
            .await
    }
}
