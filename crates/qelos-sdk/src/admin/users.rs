//! `users` (`/api/users`) and `roles` (`/api/roles`): admins only.

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// A user as the admin API answers it. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedUser {
    /// `_id`.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Username.
    #[serde(default)]
    pub username: String,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Full name (Qelos derives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Tenant roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Admin-only metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_metadata: Option<Value>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Filters of [`Users::get_list`].
#[derive(Clone, Debug, Default)]
pub struct UserFilters {
    /// Username (a substring unless `exact`).
    pub username: Option<String>,
    /// Match the username exactly.
    pub exact: Option<bool>,
    /// Users with any of these roles.
    pub roles: Vec<String>,
}

/// The `users` area.
#[derive(Clone, Debug)]
pub struct Users {
    admin: AdminSdk,
}

/// The `roles` area.
#[derive(Clone, Debug)]
pub struct Roles {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `users`.
    pub fn users(&self) -> Users {
        Users {
            admin: self.clone(),
        }
    }
    /// `roles`.
    pub fn roles(&self) -> Roles {
        Roles {
            admin: self.clone(),
        }
    }
}

fn encrypted_header(id: &str) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
    let v = HeaderValue::from_str(id).map_err(|_| {
        Error::InvalidHeader("the encrypted id holds characters a header cannot carry".into())
    })?;
    Ok(vec![(HeaderName::from_static("x-encrypted-id"), v)])
}

/// `GET {path}/encrypted` with `x-encrypted-id` (shared with admin workspaces).
pub(crate) async fn get_encrypted<T: DeserializeOwned>(
    admin: &AdminSdk,
    path: &str,
    encrypted_id: &str,
) -> Result<T, Error> {
    let path = format!("{path}/encrypted");
    admin
        .raw(
            Method::GET,
            &path,
            Vec::new(),
            None,
            encrypted_header(encrypted_id)?,
        )
        .await?
        .json()
}

/// `POST {path}/encrypted` with `x-encrypted-id`.
pub(crate) async fn set_encrypted(
    admin: &AdminSdk,
    path: &str,
    encrypted_id: &str,
    data: &impl Serialize,
) -> Result<(), Error> {
    let path = format!("{path}/encrypted");
    admin
        .raw(
            Method::POST,
            &path,
            Vec::new(),
            to_body(data)?,
            encrypted_header(encrypted_id)?,
        )
        .await?
        .ok()?;
    Ok(())
}

impl Users {
    fn path(id: &str) -> String {
        format!("/api/users/{}", segment(id))
    }
    /// `GET /api/users/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `user not exists`; 401 for non-admins.
    pub async fn get_user(&self, user_id: &str) -> Result<ManagedUser, Error> {
        self.admin
            .json(Method::GET, &Self::path(user_id), Vec::new(), None)
            .await
    }
    /// `GET /api/users?username=&exact=&roles=a,b`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 `you are not privileged.` for non-admins.
    pub async fn get_list(&self, filters: &UserFilters) -> Result<Vec<ManagedUser>, Error> {
        let roles = (!filters.roles.is_empty()).then(|| filters.roles.join(","));
        let query = super::pairs([
            ("username", filters.username.clone()),
            ("exact", filters.exact.map(|e| e.to_string())),
            ("roles", roles),
        ]);
        self.admin
            .json(Method::GET, "/api/users", query, None)
            .await
    }
    /// `DELETE /api/users/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `user deletion failed` for an unknown user.
    pub async fn remove(&self, user_id: &str) -> Result<(), Error> {
        self.admin
            .unit(Method::DELETE, &Self::path(user_id), None)
            .await
    }
    /// `PUT /api/users/:id` with the fields to change (a [`ManagedUser`], or any JSON object,
    /// e.g. with `password`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 500 `user update failed` for an unknown user.
    pub async fn update(
        &self,
        user_id: &str,
        changes: &impl Serialize,
    ) -> Result<ManagedUser, Error> {
        self.admin
            .json(
                Method::PUT,
                &Self::path(user_id),
                Vec::new(),
                to_body(changes)?,
            )
            .await
    }
    /// `POST /api/users` with `username`, `password`, `roles`, names, `internalMetadata`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `user creation failed` (taken username, no password).
    pub async fn create(&self, user: &impl Serialize) -> Result<ManagedUser, Error> {
        self.admin
            .json(Method::POST, "/api/users", Vec::new(), to_body(user)?)
            .await
    }
    /// `GET /api/users/:id/encrypted` (`x-encrypted-id`): the stored JSON (`null` if none).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_encrypted_data<T: DeserializeOwned>(
        &self,
        user_id: &str,
        encrypted_id: &str,
    ) -> Result<T, Error> {
        get_encrypted(&self.admin, &Self::path(user_id), encrypted_id).await
    }
    /// `POST /api/users/:id/encrypted` (`x-encrypted-id`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn set_encrypted_data(
        &self,
        user_id: &str,
        encrypted_id: &str,
        data: &impl Serialize,
    ) -> Result<(), Error> {
        set_encrypted(&self.admin, &Self::path(user_id), encrypted_id, data).await
    }
}

impl Roles {
    /// `GET /api/roles`: every role some user of the tenant has.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_existing_roles(&self) -> Result<Vec<String>, Error> {
        self.admin
            .json(Method::GET, "/api/roles", Vec::new(), None)
            .await
    }
}
