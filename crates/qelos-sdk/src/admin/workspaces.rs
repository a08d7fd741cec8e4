//! `adminWorkspaces`: every workspace of the tenant, and workspace encrypted data.

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AdminSdk, segment};
use crate::error::Error;
use crate::models::Workspace;

/// Filters of [`AdminWorkspaces::get_list`].
#[derive(Clone, Debug, Default)]
pub struct WorkspaceFilters {
    /// Workspaces with this member (`members.user`).
    pub member: Option<String>,
    /// Workspaces with any of these labels.
    pub labels: Vec<String>,
    /// Exact name.
    pub name: Option<String>,
    /// Name search.
    pub q: Option<String>,
    /// These ids only.
    pub ids: Vec<String>,
    /// Fields to select.
    pub select: Option<String>,
}

/// The `adminWorkspaces` area.
#[derive(Clone, Debug)]
pub struct AdminWorkspaces {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `adminWorkspaces`.
    pub fn admin_workspaces(&self) -> AdminWorkspaces {
        AdminWorkspaces {
            admin: self.clone(),
        }
    }
}

impl AdminWorkspaces {
    /// `GET /api/workspaces/all`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 `you are not privileged.` for non-admins.
    pub async fn get_list(&self, filters: &WorkspaceFilters) -> Result<Vec<Workspace>, Error> {
        let join = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(","));
        let query = super::pairs([
            ("members.user", filters.member.clone()),
            ("labels", join(&filters.labels)),
            ("name", filters.name.clone()),
            ("q", filters.q.clone()),
            ("_id", join(&filters.ids)),
            ("select", filters.select.clone()),
        ]);
        self.admin
            .json(Method::GET, "/api/workspaces/all", query, None)
            .await
    }
    /// `GET /api/workspaces/:id/encrypted` (`x-encrypted-id`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_encrypted_data<T: DeserializeOwned>(
        &self,
        workspace_id: &str,
        encrypted_id: &str,
    ) -> Result<T, Error> {
        let path = format!("/api/workspaces/{}", segment(workspace_id));
        super::users::get_encrypted(&self.admin, &path, encrypted_id).await
    }
    /// `POST /api/workspaces/:id/encrypted` (`x-encrypted-id`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn set_encrypted_data(
        &self,
        workspace_id: &str,
        encrypted_id: &str,
        data: &impl Serialize,
    ) -> Result<(), Error> {
        let path = format!("/api/workspaces/{}", segment(workspace_id));
        super::users::set_encrypted(&self.admin, &path, encrypted_id, data).await
    }
}
