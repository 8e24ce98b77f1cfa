//! Resident requests (接诉即办) as the API speaks them: parse, call [`wujia_app::requests`], answer its views.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Deserialize;
use wujia_app::requests::{
    self, CategoryView, Period, QueueFilter, RequestDetail, RequestView, RequestsSummary, TakeIn,
};
use wujia_core::requests::{Channel, Command, Status};
use wujia_store::Category;

/// The catalogue with each category's time limits.
#[utoipa::path(get, path = "/api/v1/categories", operation_id = "list_categories", tag = "requests",
    responses((status = 200, description = "Categories, parents before children", body = Vec<CategoryView>)), security(("bearer" = [])))]
pub async fn list_categories(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<CategoryView>>, ApiError> {
    Ok(Json(requests::categories(&state.app, &auth).await?))
}

/// Takes in a request from any channel; it is numbered and its deadlines set from its category.
#[utoipa::path(post, path = "/api/v1/requests", operation_id = "create_request", tag = "requests", request_body = TakeIn,
    responses((status = 201, description = "Taken in", body = RequestView), (status = 422, description = "Invalid fields")),
    security(("bearer" = [])))]
pub async fn create_request(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<TakeIn>,
) -> Result<(StatusCode, Json<RequestView>), ApiError> {
    Ok((StatusCode::CREATED, Json(requests::take_in(&state.app, &auth, &b, None).await?)))
}

/// `?status=&category=&channel=&building_id=&mine=&buildings=&from=&to=&limit=&community_id=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Comma-separated status codes; `open` for every open status.
    pub status: Option<String>,
    /// Category code or prefix, e.g. `property`.
    pub category: Option<String>,
    /// Channel code.
    pub channel: Option<String>,
    /// Building.
    pub building_id: Option<i64>,
    /// Only requests the caller leads or co-handles.
    #[serde(default)]
    pub mine: bool,
    /// `mine`: only the buildings the caller looks after as their building social worker.
    pub buildings: Option<String>,
    /// Received on or after (YYYY-MM-DD, Beijing).
    pub from: Option<String>,
    /// Received before (YYYY-MM-DD, Beijing).
    pub to: Option<String>,
    /// At most (default 100).
    pub limit: Option<i64>,
    /// The community.
    pub community_id: Option<i64>,
}

fn day(field: &str, s: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| ApiError::field(field, "日期应为 YYYY-MM-DD / date must be YYYY-MM-DD"))
        })
        .transpose()
}

fn beijing_midnight(d: NaiveDate) -> DateTime<Utc> {
    Shanghai.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)).earliest().expect("no DST in Beijing").to_utc()
}

impl QueueQuery {
    /// The filter this query asks for; a bad value is refused naming its parameter.
    pub(crate) fn filter(&self) -> Result<QueueFilter, ApiError> {
        let mut statuses = Vec::new();
        for code in self.status.as_deref().unwrap_or("").split(',').map(str::trim).filter(|c| !c.is_empty()) {
            match code {
                "open" => statuses.extend(Status::ALL.iter().copied().filter(|s| s.is_open())),
                c => statuses
                    .push(Status::from_code(c).ok_or_else(|| ApiError::field("status", "未知状态 / unknown status"))?),
            }
        }
        let channel = match self.channel.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                Some(Channel::from_code(c).ok_or_else(|| ApiError::field("channel", "未知渠道 / unknown channel"))?)
            }
        };
        let my_buildings = match self.buildings.as_deref() {
            None | Some("") => false,
            Some("mine") => true,
            Some(_) => return Err(ApiError::field("buildings", "只支持 mine / only `mine` is supported")),
        };
        Ok(QueueFilter {
            statuses,
            category: self.category.clone(),
            channel,
            building_id: self.building_id,
            mine: self.mine,
            my_buildings,
            from: day("from", self.from.as_deref())?.map(beijing_midnight),
            to: day("to", self.to.as_deref())?.map(beijing_midnight),
            limit: self.limit.unwrap_or(100),
            community_id: self.community_id,
        })
    }
}

/// The queue: open requests by what breaches first, with filters; each account sees what it may, contacts masked.
#[utoipa::path(get, path = "/api/v1/requests", operation_id = "list_requests", tag = "requests", params(QueueQuery),
    responses((status = 200, description = "Requests", body = Vec<RequestView>)), security(("bearer" = [])))]
pub async fn list_requests(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<Vec<RequestView>>, ApiError> {
    Ok(Json(requests::queue(&state.app, &auth, &q.filter()?).await?))
}

/// A request with its timeline and the actions open to the caller.
#[utoipa::path(get, path = "/api/v1/requests/{id}", operation_id = "get_request", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, description = "The request, its timeline and the caller's actions", body = RequestDetail)),
    security(("bearer" = [])))]
pub async fn get_request(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RequestDetail>, ApiError> {
    Ok(Json(requests::get(&state.app, &auth, id).await?))
}

/// A workflow action with the version read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionBody {
    /// The version read; a stale version is refused with 409.
    pub version: i64,
    /// The action: `{"action": "respond", "note": …}`, `dispatch` (lead, co_handlers), `start`, `resolve` (resolution),
    /// `follow_up` (solved, satisfaction, note), `close`, `return` (reason), `reassign` (lead, co_handlers),
    /// `escalate` (to, reason), `pause` (reason), `resume`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub command: Command,
}

/// Moves a request through its workflow; refused transitions change nothing.
#[utoipa::path(post, path = "/api/v1/requests/{id}/actions", operation_id = "update_request", tag = "requests",
    params(("id" = i64, Path, description = "Request id")), request_body = ActionBody,
    responses((status = 200, description = "The request after the action", body = RequestView),
              (status = 409, description = "Changed meanwhile"), (status = 422, description = "Not allowed now")),
    security(("bearer" = [])))]
pub async fn update_request(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActionBody>,
) -> Result<Json<RequestView>, ApiError> {
    Ok(Json(requests::act(&state.app, &auth, id, b.version, &b.command).await?))
}

/// `?from=&to=&community_id=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// From (YYYY-MM-DD, Beijing), inclusive.
    pub from: Option<String>,
    /// To (YYYY-MM-DD, Beijing), exclusive.
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

impl SummaryQuery {
    /// The period asked for; a bad date is refused naming its parameter.
    pub(crate) fn period(&self) -> Result<Period, ApiError> {
        Ok(Period {
            from: day("from", self.from.as_deref())?,
            to: day("to", self.to.as_deref())?,
            community_id: self.community_id,
        })
    }
}

/// The three rates and the figures behind them, overall and by category, channel and building.
#[utoipa::path(get, path = "/api/v1/requests/summary", operation_id = "get_requests_summary", tag = "requests",
    params(SummaryQuery), responses((status = 200, description = "Figures with their definitions", body = RequestsSummary)),
    security(("bearer" = [])))]
pub async fn get_requests_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> Result<Json<RequestsSummary>, ApiError> {
    Ok(Json(requests::summary(&state.app, &auth, &q.period()?).await?))
}

/// Categories a form offers: active leaves, with their parents' names for grouping.
pub(crate) fn leaves(categories: &[Category]) -> Vec<(i64, String)> {
    categories
        .iter()
        .filter(|c| c.active && c.is_leaf())
        .map(|c| {
            let parent = categories.iter().find(|p| Some(p.id) == c.parent_id);
            let grand = parent.and_then(|p| categories.iter().find(|g| Some(g.id) == p.parent_id));
            let path: Vec<&str> =
                [grand.map(|g| g.name_zh.as_str()), parent.map(|p| p.name_zh.as_str()), Some(c.name_zh.as_str())]
                    .into_iter()
                    .flatten()
                    .collect();
            (c.id, path.join(" › "))
        })
        .collect()
}
