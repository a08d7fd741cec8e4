//! Invitations to workspaces, seen by the invited user (`sdk.invites` in the official SDK).
//! Workspace admins manage them with [`Workspaces::invite_user`](crate::Workspaces::invite_user)
//! and friends.
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! for ws in sdk.invites().list().await? {
//!     sdk.invites().accept_workspace(&ws.id).await?;
//! }
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::client::{Call, QelosSdk};
use crate::error::Error;

/// A workspace the caller is invited to: Qelos answers the workspace's `_id`, `name`, `logo`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InvitingWorkspace {
    /// Workspace id (`_id`).
    #[serde(rename = "_id")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An invitation inside a workspace document (`IInvite`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    /// Invite id (`_id`; empty before it is stored).
    #[serde(rename = "_id", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The invited email.
    pub email: String,
    /// The roles the member will have.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Every other field (`name`, `phone`, `created`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The invites API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Invites {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The invites API.
    pub fn invites(&self) -> Invites {
        Invites { sdk: self.clone() }
    }
}

impl Invites {
    /// `GET /api/invites`: the workspaces that invited the caller's email.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 signed out.
    pub async fn list(&self) -> Result<Vec<InvitingWorkspace>, Error> {
        self.sdk.get_json("/api/invites").await
    }
    async fn respond(&self, workspace: &str, kind: &str) -> Result<(), Error> {
        let body = json!({"workspace": workspace, "kind": kind});
        self.sdk
            .send(Call::new(Method::POST, "/api/invites").json(body))
            .await?
            .ok()
            .map(drop)
    }
    /// `POST /api/invites {workspace, kind: "accept"}`: joins as `member`, `user`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `workspace not found` when there is no invite for the caller.
    pub async fn accept_workspace(&self, workspace: &str) -> Result<(), Error> {
        self.respond(workspace, "accept").await
    }
    /// `POST /api/invites {workspace, kind: "decline"}`.
    ///
    /// # Errors
    ///
    /// As [`accept_workspace`](Self::accept_workspace).
    pub async fn decline_workspace(&self, workspace: &str) -> Result<(), Error> {
        self.respond(workspace, "decline").await
    }
}
