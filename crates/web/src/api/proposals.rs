//! Acting before the complaint (未诉先办): the detector's proposals, the staff's decisions on them and their
//! outcome.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Scope};
use wujia_core::proactive::{ProposalDecision, ProposalStatus, decide_proposal};
use wujia_store::{Proposal, ProposalUpdate};

/// How far back the detector looks on each run: a year and a month, so last year's season is in view.
pub const LOOKBACK_DAYS: i64 = 400;

/// `?community_id=&status=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalQuery {
    /// The community.
    pub community_id: Option<i64>,
    /// `open`, `accepted`, `dismissed` or `done`.
    pub status: Option<String>,
}

/// A proposal with its measured effect.
pub(crate) async fn with_effect(state: &AppState, p: Proposal) -> Result<Value, ApiError> {
    let effect = state.store.proposal_effect(&p, state.clock.now()).await?;
    let mut v = serde_json::to_value(&p).map_err(|e| ApiError::Internal(e.to_string()))?;
    v["effect"] = json!(effect);
    Ok(v)
}

/// Proposals of a community, open ones first, each with the requests like it before and after the decision.
#[utoipa::path(get, path = "/api/v1/proposals", operation_id = "list_proposals", tag = "dashboard", params(ProposalQuery),
    responses((status = 200, description = "Proposals")), security(("bearer" = [])))]
pub async fn list_proposals(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ProposalQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    Ok(Json(list(&state, &auth, q.community_id, q.status.as_deref()).await?))
}

pub(crate) async fn list(
    state: &AppState,
    auth: &Auth,
    community: Option<i64>,
    status: Option<&str>,
) -> Result<Vec<Value>, ApiError> {
    let c = auth.community(community)?;
    auth.require(Action::ViewRequests, Scope::community(c))?;
    let status = status.filter(|s| !s.is_empty());
    if let Some(s) = status
        && ProposalStatus::parse(s).is_none()
    {
        return Err(ApiError::field("status", "未知状态 / unknown status"));
    }
    let mut out = Vec::new();
    for p in state.store.proposals(c, status).await? {
        out.push(with_effect(state, p).await?);
    }
    Ok(out)
}

/// One proposal with its evidence and effect.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", operation_id = "get_proposal", tag = "dashboard",
    params(("id" = i64, Path, description = "Proposal")), responses((status = 200, description = "The proposal")),
    security(("bearer" = [])))]
pub async fn get_proposal(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let p = state.store.proposal(id).await?;
    if !auth.can(Action::ViewRequests, Scope::community(p.community_id)) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(with_effect(&state, p).await?))
}

/// `{"community_id"}`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ScanBody {
    /// The community.
    pub community_id: Option<i64>,
}

/// Runs the detector over the community's requests now (the background job runs it every hour) and records what is
/// new as open proposals.
#[utoipa::path(post, path = "/api/v1/proposals/scan", operation_id = "create_proposal_scan", tag = "dashboard",
    request_body = ScanBody, responses((status = 200, description = "How many proposals are new")), security(("bearer" = [])))]
pub async fn create_proposal_scan(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ScanBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"created": scan(&state, &auth, b.community_id).await?})))
}

pub(crate) async fn scan(state: &AppState, auth: &Auth, community: Option<i64>) -> Result<usize, ApiError> {
    let c = auth.community(community)?;
    auth.require(Action::DispatchRequests, Scope::community(c))?;
    let since = state.clock.now() - Duration::days(LOOKBACK_DAYS);
    Ok(state.store.scan_proposals(c, since, auth.change(state, "proposal.detect", Some(c))).await?)
}

/// A decision: `accept` (with `note`, optional `owner_id` and `due`), `dismiss` (with `reason`) or `complete`
/// (with `outcome`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// `accept`, `dismiss` or `complete`.
    pub decision: String,
    /// What will be done (accept).
    #[serde(default)]
    pub note: String,
    /// Why not (dismiss).
    #[serde(default)]
    pub reason: String,
    /// What came of it (complete).
    #[serde(default)]
    pub outcome: String,
    /// Who carries it out (accept).
    pub owner_id: Option<i64>,
    /// By when, `YYYY-MM-DD` (accept).
    pub due: Option<String>,
    /// The version last read.
    pub version: i64,
}

/// Accepts, dismisses or completes a proposal.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/decision", operation_id = "create_proposal_decision", tag = "dashboard",
    params(("id" = i64, Path, description = "Proposal")), request_body = DecisionBody,
    responses((status = 200, description = "Decided"), (status = 409, description = "Changed meanwhile"),
        (status = 422, description = "Refused")), security(("bearer" = [])))]
pub async fn create_proposal_decision(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    let p = decide(&state, &auth, id, &b).await?;
    Ok(Json(with_effect(&state, p).await?))
}

pub(crate) async fn decide(state: &AppState, auth: &Auth, id: i64, b: &DecisionBody) -> Result<Proposal, ApiError> {
    let p = state.store.proposal(id).await?;
    let scope = Scope::community(p.community_id);
    if !auth.can(Action::ViewRequests, scope) {
        return Err(ApiError::NotFound);
    }
    auth.require(Action::DispatchRequests, scope)?;
    let limit = |field: &'static str, text: &str| {
        if text.chars().count() > 1000 {
            Err(ApiError::field(field, "最多 1000 字 / at most 1000 characters"))
        } else {
            Ok(text.trim().to_string())
        }
    };
    let decision = match b.decision.as_str() {
        "accept" => ProposalDecision::Accept { note: limit("note", &b.note)? },
        "dismiss" => ProposalDecision::Dismiss { reason: limit("reason", &b.reason)? },
        "complete" => ProposalDecision::Complete { outcome: limit("outcome", &b.outcome)? },
        _ => return Err(ApiError::field("decision", "应为 accept、dismiss 或 complete / accept, dismiss or complete")),
    };
    let status =
        ProposalStatus::parse(&p.status).ok_or_else(|| ApiError::Internal(format!("proposal status {}", p.status)))?;
    let next = decide_proposal(&status, &decision).map_err(|r| ApiError::field(r.field, r.message))?;
    let due = match b.due.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::field("due", "日期格式应为 YYYY-MM-DD"))?,
        ),
        None => None,
    };
    if let Some(owner) = b.owner_id {
        let user =
            state.store.user(owner).await.map_err(|_| ApiError::field("owner_id", "无此账号 / no such account"))?;
        let actor = state.store.actor(&user).await?;
        if !user.active || !actor.communities.contains(&p.community_id) || actor.household.is_some() {
            return Err(ApiError::field("owner_id", "该账号不在本社区 / the account is not in this community"));
        }
    }
    if b.version != p.version {
        return Err(ApiError::Conflict("建议已被他人处理，请刷新 / the proposal was changed by someone else".into()));
    }
    let update = match decision {
        ProposalDecision::Accept { note } => {
            ProposalUpdate { status: next, note: Some(note), owner_id: b.owner_id, due, outcome: None }
        }
        ProposalDecision::Dismiss { reason } => {
            ProposalUpdate { status: next, note: Some(reason), owner_id: None, due: None, outcome: None }
        }
        ProposalDecision::Complete { outcome } => {
            ProposalUpdate { status: next, note: None, owner_id: None, due: None, outcome: Some(outcome) }
        }
    };
    let action = format!("proposal.{}", b.decision);
    Ok(state.store.update_proposal(&p, &update, auth.change(state, &action, Some(p.community_id))).await?)
}
