//! Who is asking, as the use cases see it: an account with its role and assignments, however it authenticated.

use crate::error::{AppError, Result};
use chrono::{DateTime, Utc};
use wujia_core::accounts::{Action, Actor, KeyScope, Role, Scope, authorize};
use wujia_store::{Change, User};

/// The authenticated account a use case acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub user: User,
    /// The account with its assignments (communities, buildings, household).
    pub actor: Actor,
    /// When the caller came with an API key: its scope, which narrows what the account may do.
    pub key: Option<KeyScope>,
}

impl Caller {
    /// The role.
    pub fn role(&self) -> Role {
        self.actor.role
    }

    /// Checks a permission.
    pub fn require(&self, action: Action, scope: Scope) -> Result<()> {
        if !self.key_permits(action) {
            return Err(AppError::Forbidden);
        }
        authorize(&self.actor, action, scope).map_err(AppError::from)
    }

    /// True when permitted.
    pub fn can(&self, action: Action, scope: Scope) -> bool {
        self.key_permits(action) && authorize(&self.actor, action, scope).is_ok()
    }

    fn key_permits(&self, action: Action) -> bool {
        self.key.is_none_or(|k| k.permits(action))
    }

    /// The community the caller is working in: the requested one if assigned, else the first. A community the
    /// caller is not assigned to reads as absent.
    pub fn community(&self, requested: Option<i64>) -> Result<i64> {
        match requested {
            Some(c) if self.actor.communities.contains(&c) => Ok(c),
            Some(_) => Err(AppError::NotFound),
            None => self.actor.communities.first().copied().ok_or(AppError::Forbidden),
        }
    }

    /// A change made by this account at `at`, to be completed and recorded by the store.
    pub fn change(&self, at: DateTime<Utc>, action: &str, community: Option<i64>) -> Change {
        Change {
            at,
            actor_id: Some(self.user.id),
            actor: self.user.username.clone(),
            community_id: community,
            action: action.into(),
            entity: action.split('.').next().unwrap_or(action).into(),
            entity_id: String::new(),
            before: serde_json::Value::Null,
            after: serde_json::Value::Null,
        }
    }
}
