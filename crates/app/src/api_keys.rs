//! API keys for scripts and other systems: issue one for an account with a scope and a lifetime, list them
//! (never the token itself), revoke one. Admins only.

use crate::error::{AppError, Result};
use crate::{App, Caller};
use wujia_core::accounts::{Action, KeyScope, Lifetime, Scope};
use wujia_store::{ApiToken, StoreError};

/// A key to issue; the face has parsed and checked its fields.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// What the key is for (1–60 characters).
    pub name: String,
    /// The account it acts as; the caller's own when `None`.
    pub owner: Option<i64>,
    /// What it opens.
    pub scope: KeyScope,
    /// How long it lives.
    pub lifetime: Lifetime,
}

/// Why a key could not be issued for the account asked for.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// No such account.
    #[error("no account {0}")]
    UnknownOwner(i64),
    /// Anything else.
    #[error(transparent)]
    App(#[from] AppError),
}

/// Issues a key whose token hashes to `token_hash` (the token itself never reaches the application).
pub async fn issue(
    app: &App,
    caller: &Caller,
    key: &NewApiKey,
    token_hash: &str,
) -> std::result::Result<ApiToken, IssueError> {
    caller.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    let owner = key.owner.unwrap_or(caller.user.id);
    match app.store.user(owner).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(IssueError::UnknownOwner(owner)),
        Err(e) => return Err(AppError::from(e).into()),
    }
    let now = app.clock.now();
    let change = caller.change(now, "api_token.create", None);
    Ok(app
        .store
        .create_api_token(owner, &key.name, token_hash, key.scope, key.lifetime.expires_at(now), change)
        .await
        .map_err(AppError::from)?)
}

/// Every key, newest first, with its owner, scope, expiry and last use.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<ApiToken>> {
    caller.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    Ok(app.store.api_tokens().await?)
}

/// Revokes a key from now on; revoking it again changes nothing.
pub async fn revoke(app: &App, caller: &Caller, id: i64) -> Result<ApiToken> {
    caller.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    let change = caller.change(app.clock.now(), "api_token.revoke", None);
    Ok(app.store.revoke_api_token(id, change).await?)
}
