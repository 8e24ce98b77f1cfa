//! The audit log, for admins.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Scope};
use wujia_store::StoreError;

/// `?before=&entity=&entity_id=&limit=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events before this position (for paging).
    pub before: Option<i64>,
    /// Only events of this kind of record, with `entity_id`.
    pub entity: Option<String>,
    /// Only events of this record.
    pub entity_id: Option<String>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<i64>,
}

/// The newest events first.
#[utoipa::path(get, path = "/api/v1/audit/events", operation_id = "list_events", tag = "audit",
    params(EventQuery), responses((status = 200, description = "Events")), security(("bearer" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Action::ViewAudit, Scope::DEPLOYMENT)?;
    let entity = match (&q.entity, &q.entity_id) {
        (Some(e), Some(i)) => Some((e.as_str(), i.as_str())),
        (None, None) => None,
        _ => {
            return Err(ApiError::field(
                "entity_id",
                "entity 与 entity_id 须同时提供 / give entity and entity_id together",
            ));
        }
    };
    let events = state.store.events(q.before, entity, q.limit.unwrap_or(100).clamp(1, 500)).await?;
    Ok(Json(json!(events)))
}

/// Walks the hash chain and reports the first tampered event.
#[utoipa::path(get, path = "/api/v1/audit/verify", operation_id = "verify_audit", tag = "audit",
    responses((status = 200, description = "{\"ok\", \"checked\" | \"tampered_seq\"}")), security(("bearer" = [])))]
pub async fn verify_audit(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.require(Action::ViewAudit, Scope::DEPLOYMENT)?;
    match state.store.verify_audit().await {
        Ok(n) => Ok(Json(json!({"ok": true, "checked": n}))),
        Err(StoreError::Tampered(t)) => Ok(Json(json!({"ok": false, "tampered_seq": t.seq, "reason": t.reason}))),
        Err(e) => Err(e.into()),
    }
}
