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
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::answer::Answer;
use crate::auth::segment;
use crate::client::{Call, QelosSdk, Raw};
use crate::error::Error;
use crate::invites::Invite;
use crate::models::{Member, NewWorkspace, Workspace};

/// What a member change answers: Qelos's `message` and the change's own fields
/// (`updatedMember`, `removedMemberId`, `userId`, `workspaceId`) in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberChange {
    /// What happened.
    #[serde(default)]
    pub message: String,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

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
        self.fetch_list().await?.decode()
    }
    /// `GET /api/workspaces`, read but not decoded yet: see [`Answer`].
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in; network and timeout errors. Decode errors come
    /// from [`Answer::decode`].
    pub async fn fetch_list(&self) -> Result<Answer<Vec<Workspace>>, Error> {
        self.sdk.fetch("/api/workspaces", Raw::json).await
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

    fn member_path(id: &str, user_id: &str) -> String {
        format!(
            "/api/workspaces/{}/members/{}",
            segment(id),
            segment(user_id)
        )
    }

    /// `DELETE /api/workspaces/:id/members/:userId` (workspace admins).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 for non-admins, 404 unknown workspace or member.
    pub async fn remove_member(&self, id: &str, user_id: &str) -> Result<MemberChange, Error> {
        let path = Self::member_path(id, user_id);
        self.sdk
            .send(Call::new(Method::DELETE, &path))
            .await?
            .json()
    }

    /// `PUT /api/workspaces/:id/members/:userId {roles}` (workspace admins).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 for non-admins, 404 unknown workspace or member.
    pub async fn update_member_roles(
        &self,
        id: &str,
        user_id: &str,
        roles: &[&str],
    ) -> Result<MemberChange, Error> {
        let path = Self::member_path(id, user_id);
        self.sdk
            .send(Call::new(Method::PUT, &path).json(json!({ "roles": roles })))
            .await?
            .json()
    }

    /// The workspace's pending invites (from `GET /api/workspaces/:id`; workspace admins see
    /// them).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get); [`Error::Decode`] when `invites` is not a list of invites.
    pub async fn list_invites(&self, id: &str) -> Result<Vec<Invite>, Error> {
        let ws = self.get(id).await?;
        invites_of(&ws)
    }

    /// Invites `email` with `roles` (`["member"]` when empty), replacing an invite of the same
    /// email (compared trimmed and lower-cased): reads the workspace, then `PUT`s its `invites`,
    /// as the official SDK does (two calls, not atomic).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get) and [`update`](Self::update): 403 for non-admins.
    pub async fn invite_user(
        &self,
        id: &str,
        email: &str,
        roles: &[&str],
    ) -> Result<Workspace, Error> {
        let ws = self.get(id).await?;
        let mut invites = invites_of(&ws)?;
        let roles: Vec<String> = if roles.is_empty() {
            vec!["member".into()]
        } else {
            roles.iter().map(|r| (*r).to_owned()).collect()
        };
        let wanted = email.trim().to_lowercase();
        match invites
            .iter_mut()
            .find(|i| i.email.trim().to_lowercase() == wanted)
        {
            Some(existing) => existing.roles = roles,
            None => invites.push(Invite {
                email: email.to_owned(),
                roles,
                ..Invite::default()
            }),
        }
        self.update(id, &json!({ "invites": invites })).await
    }

    /// Removes the invite with this id: reads the workspace, then `PUT`s the other invites.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `Invitation not found` (raised by the SDK, as the official one does)
    /// when no invite has that id; as [`update`](Self::update).
    pub async fn revoke_invite(&self, id: &str, invite_id: &str) -> Result<Workspace, Error> {
        let ws = self.get(id).await?;
        let mut invites = invites_of(&ws)?;
        let before = invites.len();
        invites.retain(|i| i.id != invite_id);
        if invites.len() == before {
            return Err(Error::Api {
                status: 404,
                message: "Invitation not found".into(),
            });
        }
        self.update(id, &json!({ "invites": invites })).await
    }
}

fn invites_of(ws: &Workspace) -> Result<Vec<Invite>, Error> {
    match ws.extra.get("invites") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| Error::decode(200, &e)),
    }
}
