//! Choosing the active workspace of a request (contract step 9).

use crate::context::Chosen;
use std::future::Future;

use futures_util::future::BoxFuture;
use qelos_sdk::{User, Workspace};

use crate::request::RequestHead;

/// Picks the workspace a request acts in. Sync closures implement it directly; wrap async ones
/// with [`resolve_async`].
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::{RequestHead, ResolveWorkspace};
/// use qelos_sdk::{User, Workspace};
///
/// // Pick the workspace named by an `x-tenant` header, else none.
/// let by_header = |req: &RequestHead, _user: &User, workspaces: &[Workspace]| {
///     let wanted = req.header_str("x-tenant")?;
///     workspaces.iter().find(|w| w.name == wanted || w.id == wanted).cloned()
/// };
/// fn assert_resolver(_: impl ResolveWorkspace) {}
/// assert_resolver(by_header);
/// ```
pub trait ResolveWorkspace: Send + Sync + 'static {
    /// Chooses the workspace for this request, `None` for none.
    fn resolve<'a>(
        &'a self,
        request: &'a RequestHead,
        user: &'a User,
        workspaces: &'a [Workspace],
    ) -> BoxFuture<'a, Option<Workspace>>;
}

impl<F> ResolveWorkspace for F
where
    F: Fn(&RequestHead, &User, &[Workspace]) -> Option<Workspace> + Send + Sync + 'static,
{
    fn resolve<'a>(
        &'a self,
        request: &'a RequestHead,
        user: &'a User,
        workspaces: &'a [Workspace],
    ) -> BoxFuture<'a, Option<Workspace>> {
        let chosen = self(request, user, workspaces);
        Box::pin(std::future::ready(chosen))
    }
}

/// An async workspace resolver, made with [`resolve_async`].
#[derive(Clone, Debug)]
pub struct AsyncResolver<F>(F);

/// Wraps an async function as a [`ResolveWorkspace`]. It receives owned copies, so it can hold
/// them across `.await`.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::workspace::resolve_async;
/// let resolver = resolve_async(|req, _user, workspaces: Vec<qelos_sdk::Workspace>| async move {
///     let wanted = req.header_str("x-tenant")?.to_owned();
///     workspaces.into_iter().find(|w| w.name == wanted)
/// });
/// # let _ = resolver;
/// ```
pub fn resolve_async<F, Fut>(f: F) -> AsyncResolver<F>
where
    F: Fn(RequestHead, User, Vec<Workspace>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Workspace>> + Send + 'static,
{
    AsyncResolver(f)
}

impl<F, Fut> ResolveWorkspace for AsyncResolver<F>
where
    F: Fn(RequestHead, User, Vec<Workspace>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<Workspace>> + Send + 'static,
{
    fn resolve<'a>(
        &'a self,
        request: &'a RequestHead,
        user: &'a User,
        workspaces: &'a [Workspace],
    ) -> BoxFuture<'a, Option<Workspace>> {
        Box::pin((self.0)(request.clone(), user.clone(), workspaces.to_vec()))
    }
}

/// The default choice: the workspace `/api/me` reports as active (the list entry with its id,
/// or the reported one when the list is empty), else the first workspace, else none.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::workspace::active_or_first;
/// let user: qelos_sdk::User = serde_json::from_value(serde_json::json!({
///     "_id": "u1", "username": "jane", "roles": [],
///     "workspace": {"_id": "w2", "name": ""}
/// })).unwrap();
/// let list: Vec<qelos_sdk::Workspace> = serde_json::from_value(serde_json::json!([
///     {"_id": "w1", "name": "One"}, {"_id": "w2", "name": "Two"}
/// ])).unwrap();
/// assert_eq!(active_or_first(&user, &list).unwrap().name, "Two");
/// ```
pub fn active_or_first(user: &User, workspaces: &[Workspace]) -> Option<Workspace> {
    match default_choice(user, workspaces) {
        Chosen::Listed(index) => workspaces.get(index).cloned(),
        Chosen::UserActive => user.workspace.clone(),
        Chosen::None | Chosen::Custom(_) => None,
    }
}

/// [`active_or_first`] as a reference into the identity (no copy).
pub(crate) fn default_choice(user: &User, workspaces: &[Workspace]) -> Chosen {
    if let Some(active) = &user.workspace {
        if let Some(index) = workspaces.iter().position(|w| w.id == active.id) {
            return Chosen::Listed(index);
        }
        if workspaces.is_empty() {
            return Chosen::UserActive;
        }
    }
    if workspaces.is_empty() {
        Chosen::None
    } else {
        Chosen::Listed(0)
    }
}
