//! Full-text search over the API: only what the searcher's role may see.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use crate::search::Hit;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Role, Scope};

/// `?q=&kind=&building_id=&from=&to=&limit=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words.
    pub q: String,
    /// `request`, `finding`, `visit`, `meeting`, `topic` or `activity` (comma-separated).
    pub kind: Option<String>,
    /// One building.
    pub building_id: Option<i64>,
    /// Status codes (comma-separated), e.g. `closed` for requests, `publicized` for topics.
    pub status: Option<String>,
    /// From this Beijing date.
    pub from: Option<String>,
    /// To this Beijing date, inclusive.
    pub to: Option<String>,
    /// At most (default 50).
    pub limit: Option<usize>,
}

/// May this account see this hit?
fn may_see(auth: &Auth, h: &Hit) -> bool {
    let c = Scope::community(h.community_id);
    let own = h.household_id.is_some() && h.household_id == auth.actor.household;
    match h.kind.as_str() {
        "request" => auth.can(Action::ViewRequests, c) || own,
        "finding" | "meeting" => auth.can(Action::ViewPatrol, c),
        "visit" => auth.can(Action::ViewReception, c) || own,
        // Topics and activities are public within the community.
        _ => auth.actor.communities.contains(&h.community_id) || auth.role() == Role::Admin,
    }
}

/// Searches after bringing this node's index up to date.
pub(crate) async fn search(state: &AppState, auth: &Auth, q: &SearchQuery) -> Result<Vec<Hit>, ApiError> {
    if q.q.trim().is_empty() {
        return Err(ApiError::field("q", "请输入要查找的内容 / type what to look for"));
    }
    state.search.catch_up(&state.store).await?;
    let list = |v: &Option<String>| -> Vec<String> {
        v.as_deref()
            .map(|k| k.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let (kinds, statuses) = (list(&q.kind), list(&q.status));
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let statuses: Vec<&str> = statuses.iter().map(String::as_str).collect();
    let from = q.from.as_deref().filter(|s| !s.is_empty()).map(|s| wujia_app::period::date("from", s)).transpose()?;
    let to = q.to.as_deref().filter(|s| !s.is_empty()).map(|s| wujia_app::period::date("to", s)).transpose()?;
    let (start, end) = (
        from.map(|d| wujia_app::period::beijing_start(d).timestamp()),
        to.map(|d| wujia_app::period::beijing_start(d + chrono::Duration::days(1)).timestamp()),
    );
    let allowed = |h: &Hit| may_see(auth, h) && start.is_none_or(|s| h.at >= s) && end.is_none_or(|e| h.at < e);
    let filters = crate::search::Filters {
        communities: &auth.actor.communities,
        kinds: &kinds,
        statuses: &statuses,
        building: q.building_id,
    };
    state.search.search(q.q.trim(), &filters, &allowed, q.limit.unwrap_or(50).clamp(1, 200))
}

/// Chinese full-text search across requests, findings, visits, minutes, topics and activities, with highlights,
/// returning only what the searcher's role may see.
#[utoipa::path(get, path = "/api/v1/search", operation_id = "search_records", tag = "dashboard", params(SearchQuery),
    responses((status = 200, description = "Hits")), security(("bearer" = [])))]
pub async fn search_records(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let hits = search(&state, &auth, &q).await?;
    Ok(Json(json!({"q": q.q, "hits": hits})))
}
