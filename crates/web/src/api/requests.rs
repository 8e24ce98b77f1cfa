//! Resident requests (接诉即办): intake, the queue, the workflow, and the three rates.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, FieldIssue};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::registry::PhoneNumber;
use wujia_core::requests::{Channel, Command, RequestActor, RequestState, Status, decide};
use wujia_store::{Category, NewRequest, RequestFilter, RequestRow, RequestUpdate};

fn issue(field: &str, message: &str) -> FieldIssue {
    FieldIssue { field: field.into(), message: message.into(), row: None }
}

/// The catalogue with each category's time limits.
#[utoipa::path(get, path = "/api/v1/categories", operation_id = "list_categories", tag = "requests",
    responses((status = 200, description = "Categories, parents before children")), security(("bearer" = [])))]
pub async fn list_categories(State(state): State<AppState>, _auth: Auth) -> Result<Json<Value>, ApiError> {
    let cats = state.store.categories().await?;
    let out: Vec<Value> = cats
        .iter()
        .map(|c| {
            let mut v = json!(c);
            v["questions"] = serde_json::from_str(&c.questions).unwrap_or(json!([]));
            v["leaf"] = json!(c.is_leaf());
            v
        })
        .collect();
    Ok(Json(json!(out)))
}

/// A request to take in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewRequestBody {
    /// A leaf category of the catalogue.
    pub category_id: i64,
    /// What the resident needs.
    pub description: String,
    /// Channel: set by staff (`phone`, `walk_in`, `wechat`, `reception_day`, `patrol`, `hotline_12345`); residents use `portal`.
    pub channel: Option<String>,
    /// The household, when the request concerns one.
    pub household_id: Option<i64>,
    /// Where, when not a household (e.g. 地下车库 B2).
    pub location: Option<String>,
    /// Who asked (defaults to the resident's account name).
    pub contact_name: Option<String>,
    /// A phone to call back.
    pub contact_phone: Option<String>,
    /// Answers to the category's questions.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, Value>,
    /// The city's 12345 order number (channel `hotline_12345`).
    pub external_no: Option<String>,
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// Takes in a request from any channel; it is numbered and its deadlines set from its category.
#[utoipa::path(post, path = "/api/v1/requests", operation_id = "create_request", tag = "requests", request_body = NewRequestBody,
    responses((status = 201, description = "Taken in"), (status = 422, description = "Invalid fields")), security(("bearer" = [])))]
pub async fn create_request(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<NewRequestBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let row = take_in(&state, &auth, &b).await?;
    Ok((StatusCode::CREATED, Json(request_json(&row))))
}

/// Checks and records a new request for the caller.
pub(crate) async fn take_in(state: &AppState, auth: &Auth, b: &NewRequestBody) -> Result<RequestRow, ApiError> {
    take_in_via(state, auth, b, None).await
}

/// Like [`take_in`], with the channel fixed by the interface it came through (Open311, 12345 imports).
pub(crate) async fn take_in_via(
    state: &AppState,
    auth: &Auth,
    b: &NewRequestBody,
    fixed: Option<Channel>,
) -> Result<RequestRow, ApiError> {
    let now = state.clock.now();
    let resident = matches!(auth.role(), Role::Resident | Role::Volunteer);
    let mut issues = Vec::new();
    let household_id = if resident { auth.actor.household } else { b.household_id };
    let household = match household_id {
        Some(h) => Some(
            state
                .store
                .household(h, state.clock.today())
                .await
                .map_err(|_| ApiError::field("household_id", "住户不存在 / unknown household"))?,
        ),
        None if resident => {
            return Err(ApiError::field("household_id", "账号尚未关联住户 / the account has no household"));
        }
        None => None,
    };
    let community = match &household {
        Some(h) => h.community_id,
        None => auth.community(b.community_id)?,
    };
    let scope = match &household {
        Some(h) => Scope::household(h.community_id, h.building_id, h.id),
        None => Scope::community(community),
    };
    if !auth.actor.communities.contains(&community) {
        return Err(ApiError::NotFound);
    }
    auth.require(Action::SubmitRequest, scope)?;
    let channel = match (fixed, resident, b.channel.as_deref()) {
        (Some(c), _, _) => c,
        (None, true, _) => Channel::Portal,
        (None, false, None) => Channel::Phone,
        (None, false, Some(c)) => match Channel::from_code(c) {
            Some(Channel::Portal | Channel::Open311) | None => {
                issues.push(issue(
                    "channel",
                    "渠道应为 phone、walk_in、wechat、reception_day、patrol 或 hotline_12345 / unknown channel",
                ));
                Channel::Phone
            }
            Some(ch) => ch,
        },
    };
    let category = state.store.category(b.category_id).await.ok().filter(|c| c.active && c.is_leaf());
    if category.is_none() {
        issues.push(issue(
            "category_id",
            "未知或不可选的类别,请选择第三级类别 / unknown category: choose a third-level category",
        ));
    }
    let description = b.description.trim();
    if description.is_empty() || description.chars().count() > 2000 {
        issues.push(issue("description", "请描述诉求(不超过 2000 字)/ describe the request (at most 2000 characters)"));
    }
    let location = match (&household, b.location.as_deref().map(str::trim)) {
        (Some(h), _) => h.address.clone(),
        (None, Some(l)) if !l.is_empty() && l.chars().count() <= 200 => l.to_string(),
        _ => {
            issues.push(issue("location", "请填写地点或选择住户 / give a place or a household"));
            String::new()
        }
    };
    let contact_phone = match b.contact_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => match PhoneNumber::parse(p) {
            Ok(n) => Some(n.as_str().to_string()),
            Err(e) => {
                issues.push(issue("contact_phone", &e.to_string()));
                None
            }
        },
    };
    let external_no = b.external_no.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string);
    if channel == Channel::Hotline12345 && external_no.is_none() {
        issues.push(issue("external_no", "12345 转办须填写工单号 / a 12345 order needs its order number"));
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let category = category.expect("checked");
    let calendar = state.store.calendar().await?;
    let sla = category.sla();
    let contact_name = b.contact_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map_or_else(
        || if resident { auth.user.display_name.clone() } else { String::new() },
        |n| n.chars().take(40).collect(),
    );
    let new = NewRequest {
        community_id: community,
        category_id: category.id,
        channel: channel.code().into(),
        description: description.to_string(),
        household_id: household.as_ref().map(|h| h.id),
        building_id: household.as_ref().map(|h| h.building_id),
        location,
        contact_name,
        contact_phone,
        answers: Value::Object(b.answers.clone()).to_string(),
        external_no,
        submitted_by: Some(auth.user.id),
        received_at: now,
        respond_due: sla.respond.deadline(&calendar, now),
        resolve_due: sla.resolve.deadline(&calendar, now),
    };
    let code =
        state.store.communities().await?.into_iter().find(|c| c.id == community).map(|c| c.code).unwrap_or_default();
    let notices =
        crate::notify::on_create(state, community, new.household_id, &category, &new.location, &new.description, now)
            .await?;
    let id = state.intake.create(new, notices, code, auth.change(state, "request.create", Some(community))).await?;
    Ok(state.store.request(id).await?)
}

/// A request as the API shows it.
pub(crate) fn request_json(r: &RequestRow) -> Value {
    let mut v = json!(r);
    v["co_handlers"] = serde_json::from_str(&r.co_handlers).unwrap_or(json!([]));
    v["answers"] = serde_json::from_str(&r.answers).unwrap_or(json!({}));
    v
}

/// Who may see a request: the community's request viewers, its household, its handlers.
pub(crate) fn can_see(auth: &Auth, r: &RequestRow) -> bool {
    if !auth.actor.communities.contains(&r.community_id) {
        return false;
    }
    auth.can(Action::ViewRequests, Scope::community(r.community_id))
        || (r.household_id.is_some() && r.household_id == auth.actor.household)
        || r.lead_id == Some(auth.user.id)
        || co_handlers(r).contains(&auth.user.id)
}

fn co_handlers(r: &RequestRow) -> Vec<i64> {
    serde_json::from_str(&r.co_handlers).unwrap_or_default()
}

/// `?status=&category=&channel=&building_id=&mine=&from=&to=&limit=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
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

fn beijing_midnight(field: &str, s: &str) -> Result<DateTime<Utc>, ApiError> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::field(field, "日期应为 YYYY-MM-DD / date must be YYYY-MM-DD"))?;
    Ok(Shanghai
        .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .expect("no DST in Beijing")
        .with_timezone(&Utc))
}

/// The queue: open requests by what breaches first, with filters; each account sees what it may.
#[utoipa::path(get, path = "/api/v1/requests", operation_id = "list_requests", tag = "requests", params(QueueQuery),
    responses((status = 200, description = "Requests")), security(("bearer" = [])))]
pub async fn list_requests(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Value>, ApiError> {
    let rows = queue(&state, &auth, &q).await?;
    Ok(Json(json!(rows.iter().map(request_json).collect::<Vec<_>>())))
}

pub(crate) async fn queue(state: &AppState, auth: &Auth, q: &QueueQuery) -> Result<Vec<RequestRow>, ApiError> {
    let community = auth.community(q.community_id)?;
    let mut f = RequestFilter { limit: q.limit.unwrap_or(100), ..Default::default() };
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        for code in s.split(',') {
            match code.trim() {
                "open" => f.statuses.extend(Status::ALL.iter().filter(|s| s.is_open()).map(|s| s.code().to_string())),
                c => match Status::from_code(c) {
                    Some(st) => f.statuses.push(st.code().into()),
                    None => return Err(ApiError::field("status", "未知状态 / unknown status")),
                },
            }
        }
    }
    if let Some(c) = q.channel.as_deref().filter(|c| !c.is_empty()) {
        f.channel = Some(
            Channel::from_code(c)
                .ok_or_else(|| ApiError::field("channel", "未知渠道 / unknown channel"))?
                .code()
                .into(),
        );
    }
    f.category_code = q.category.clone().filter(|c| !c.is_empty());
    f.building_id = q.building_id;
    f.from = q.from.as_deref().filter(|s| !s.is_empty()).map(|s| beijing_midnight("from", s)).transpose()?;
    f.to = q.to.as_deref().filter(|s| !s.is_empty()).map(|s| beijing_midnight("to", s)).transpose()?;
    match q.buildings.as_deref() {
        None | Some("") => {}
        Some("mine") if auth.actor.buildings.is_empty() => return Ok(Vec::new()),
        Some("mine") => f.building_ids = auth.actor.buildings.clone(),
        Some(_) => return Err(ApiError::field("buildings", "只支持 mine / only `mine` is supported")),
    }
    if q.mine {
        f.handler = Some(auth.user.id);
    } else if !auth.can(Action::ViewRequests, Scope::community(community)) {
        // Residents see their household's; handlers the ones they hold.
        match (auth.role(), auth.actor.household) {
            (Role::Resident | Role::Volunteer, Some(h)) => f.household_id = Some(h),
            _ => f.handler = Some(auth.user.id),
        }
    }
    Ok(state.store.requests(community, &f).await?)
}

/// A request with its timeline.
#[utoipa::path(get, path = "/api/v1/requests/{id}", operation_id = "get_request", tag = "requests",
    params(("id" = i64, Path, description = "Request id")), responses((status = 200, description = "The request and its timeline")),
    security(("bearer" = [])))]
pub async fn get_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let (r, timeline) = request_with_timeline(&state, &auth, id).await?;
    let mut v = request_json(&r);
    v["timeline"] = json!(timeline);
    Ok(Json(v))
}

/// One entry of a request's timeline.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What (`request.dispatch` …).
    pub action: String,
    /// Details.
    pub detail: Value,
}

pub(crate) async fn request_with_timeline(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> Result<(RequestRow, Vec<TimelineEntry>), ApiError> {
    let r = state.store.request(id).await?;
    if !can_see(auth, &r) {
        return Err(ApiError::NotFound);
    }
    let mut events = state.store.events(None, Some(("request", &id.to_string())), 500).await?;
    events.reverse();
    let timeline = events
        .into_iter()
        .map(|e| TimelineEntry {
            at: e.at,
            actor: e.actor,
            action: e.action,
            detail: serde_json::from_str(&e.after).unwrap_or(Value::Null),
        })
        .collect();
    Ok((r, timeline))
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
    responses((status = 200, description = "The request after the action"), (status = 409, description = "Changed meanwhile"),
              (status = 422, description = "Not allowed now")), security(("bearer" = [])))]
pub async fn update_request(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    ApiJson(b): ApiJson<ActionBody>,
) -> Result<Json<Value>, ApiError> {
    let r = act(&state, &auth, id, b.version, &b.command).await?;
    Ok(Json(request_json(&r)))
}

fn parse_status(r: &RequestRow) -> Result<Status, ApiError> {
    Status::from_code(&r.status).ok_or_else(|| ApiError::Internal(format!("stored status {} is unknown", r.status)))
}

/// Checks that an account can hold a request: active, of a handling role, working in the community.
async fn check_handler(
    state: &AppState,
    id: i64,
    community: i64,
    street_only: bool,
    field: &str,
) -> Result<(), ApiError> {
    let bad = || ApiError::field(field, "不是本社区可承办的账号 / not an account that can handle requests here");
    let user = state.store.user(id).await.map_err(|_| bad())?;
    let role = user.role();
    let ok_role = if street_only {
        role == Role::Street
    } else {
        matches!(role, Role::Staff | Role::SocialWorker | Role::Property | Role::Developer | Role::Street)
    };
    let actor = state.store.actor(&user).await?;
    if !user.active || !ok_role || !actor.communities.contains(&community) {
        return Err(bad());
    }
    Ok(())
}

/// Takes one step of a request's workflow for the caller, if the request is still at `version`.
pub(crate) async fn act(
    state: &AppState,
    auth: &Auth,
    id: i64,
    version: i64,
    command: &Command,
) -> Result<RequestRow, ApiError> {
    let before = state.store.request(id).await?;
    if before.version != version && can_see(auth, &before) {
        return Err(ApiError::Conflict(
            "诉求已被他人处理,请刷新后重试 / someone else acted on this request first; reload".into(),
        ));
    }
    let step = plan(state, auth, before, command).await?;
    Ok(state.store.update_request(&step.before, &step.after, step.change, &step.notices).await?)
}

/// Decides one step of a request's workflow from `before` without writing it: the row after, its event and its
/// notices. [`act`] writes one step; a batch answer writes the steps of many requests in one transaction.
pub(crate) async fn plan(
    state: &AppState,
    auth: &Auth,
    before: RequestRow,
    command: &Command,
) -> Result<RequestUpdate, ApiError> {
    if !can_see(auth, &before) {
        return Err(ApiError::NotFound);
    }
    match command {
        Command::Dispatch { lead, co_handlers } | Command::Reassign { lead, co_handlers } => {
            check_handler(state, *lead, before.community_id, false, "lead").await?;
            for c in co_handlers {
                check_handler(state, *c, before.community_id, false, "co_handlers").await?;
            }
        }
        Command::Escalate { to, .. } => check_handler(state, *to, before.community_id, true, "to").await?,
        _ => {}
    }
    let current = RequestState {
        status: parse_status(&before)?,
        lead: before.lead_id,
        co_handlers: co_handlers(&before),
        paused: before.paused_reason.clone(),
        resolution: before.resolution.clone(),
    };
    let actor = RequestActor {
        user_id: auth.user.id,
        is_staff: auth.can(Action::DispatchRequests, Scope::community(before.community_id)),
    };
    let t =
        decide(&current, command, actor).map_err(|e| ApiError::Validation(vec![issue("action", &e.to_string())]))?;
    let now = state.clock.now();
    let mut after = before.clone();
    after.status = t.state.status.code().into();
    after.lead_id = t.state.lead;
    after.co_handlers = json!(t.state.co_handlers).to_string();
    after.paused_reason = t.state.paused.clone();
    after.resolution = t.state.resolution.clone();
    let mut detail = serde_json::to_value(command).unwrap_or(Value::Null);
    match command {
        Command::Respond { .. } => after.responded_at = Some(now),
        Command::Resolve { .. } => after.resolved_at = Some(now),
        Command::FollowUp { solved, satisfaction, .. } => {
            after.followup_solved = Some(code(solved));
            after.followup_satisfaction = Some(code(satisfaction));
            after.followed_up_at = Some(now);
            if t.reopened {
                after.resolved_at = None;
                after.reopen_count += 1;
                detail["reopened"] = json!(true);
            }
        }
        Command::Close => after.closed_at = Some(now),
        Command::Pause { .. } => after.paused_at = Some(now),
        Command::Resume => {
            // Paused time does not count: the deadlines move on by it.
            if let Some(since) = before.paused_at {
                let paused = now - since;
                if before.responded_at.is_none() {
                    after.respond_due = before.respond_due + paused;
                }
                after.resolve_due = before.resolve_due + paused;
            }
            after.paused_at = None;
        }
        _ => {}
    }
    if t.state.paused.is_none() {
        after.paused_at = None;
    }
    detail["status"] = json!(after.status);
    let mut change = auth.change(state, command.event(), Some(before.community_id));
    change.before = json!({"status": before.status, "lead_id": before.lead_id});
    change.after = detail;
    let notices = crate::notify::on_action(state, &before, &after, command).await?;
    Ok(RequestUpdate { before, after, change, notices })
}

fn code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// From (YYYY-MM-DD, Beijing), inclusive.
    pub from: Option<String>,
    /// To (YYYY-MM-DD, Beijing), exclusive.
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// The three rates and the figures behind them, overall and by category, channel and building.
#[utoipa::path(get, path = "/api/v1/requests/summary", operation_id = "get_requests_summary", tag = "requests",
    params(SummaryQuery), responses((status = 200, description = "Figures with their definitions")), security(("bearer" = [])))]
pub async fn get_requests_summary(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(summary(&state, &auth, &q).await?))
}

pub(crate) async fn summary(state: &AppState, auth: &Auth, q: &SummaryQuery) -> Result<Value, ApiError> {
    let community = auth.community(q.community_id)?;
    if !auth.can(Action::ViewRequests, Scope::community(community)) {
        auth.require(Action::ViewSummary, Scope::community(community))?;
    }
    let day = |field: &str, s: &Option<String>| {
        s.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| ApiError::field(field, "日期应为 YYYY-MM-DD / date must be YYYY-MM-DD"))
            })
            .transpose()
    };
    let now = state.clock.now();
    let from = day("from", &q.from)?.unwrap_or(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default());
    // Without an end, everything received up to now (tomorrow in Beijing is safely past it).
    let to = day("to", &q.to)?.unwrap_or_else(|| state.clock.today() + chrono::Duration::days(1));
    if to < from {
        return Err(ApiError::field("to", "结束日期不能早于开始日期 / to must not be before from"));
    }
    let tallies = state.store.request_tallies(community, from, to, now, &[], true).await?;
    let by = |dim: &str| -> BTreeMap<String, Value> {
        tallies.iter().filter(|((d, _), _)| d == dim).map(|((_, k), t)| (k.clone(), json!(t.rates()))).collect()
    };
    let overall = tallies.get(&("all".to_string(), String::new())).copied().unwrap_or_default();
    let hotline =
        tallies.get(&("channel".to_string(), Channel::Hotline12345.code().to_string())).map_or(0, |t| t.requests);
    let open = state.store.open_request_count(community, from, to).await?;
    Ok(json!({
        "community_id": community,
        "from": q.from, "to": q.to,
        "overall": overall.rates(),
        "open": open,
        "from_12345": hotline,
        "local": overall.requests - hotline,
        "by_category": by("category"),
        "by_channel": by("channel"),
        "by_building": by("building"),
        "by_handler": by("handler"),
        "definitions": {
            "response_rate": "已在响应时限内首次联系居民的诉求 ÷ 已响应或已过响应时限的诉求 / answered by the response deadline ÷ answered or past that deadline",
            "resolution_rate": "回访为“已解决”的诉求 ÷ 已回访的诉求(部分解决计一半)/ followed up as solved ÷ followed up (partly solved counts half)",
            "satisfaction_rate": "回访为“满意”或“基本满意”的诉求 ÷ 已回访的诉求 / satisfied or basically satisfied ÷ followed up",
            "small_sample": "样本少于 30 件时仅供参考,不作排名 / fewer than 30 requests: indicative only, not for ranking",
        },
    }))
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
