//! The tri-party joint meeting (联席会) and its actions, and the iCalendar feeds of meetings and patrol rounds.

use super::patrol::{CommunityQuery, parse_date};
use crate::AppState;
use crate::auth::{Auth, calendar_auth};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, FieldIssue};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use icalendar::{Calendar, Component, Event, EventLike};
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::patrol::meetings::{ActionItem, agenda};
use wujia_store::{Meeting, MeetingAction};

/// A meeting to schedule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MeetingBody {
    /// Title, e.g. 2024年6月联席会.
    pub title: String,
    /// Start, Beijing time: `2024-06-20T14:00`.
    pub starts_at: String,
    /// Place.
    pub place: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Reads a Beijing local time like `2024-06-20T14:00` (or `2024-06-20 14:00`).
pub(crate) fn beijing_time(field: &str, s: &str) -> Result<DateTime<Utc>, ApiError> {
    let s = s.trim().replace(' ', "T");
    NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| Shanghai.from_local_datetime(&t).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::field(field, "时间格式应为 2024-06-20T14:00 / a time like 2024-06-20T14:00"))
}

/// Schedules a joint meeting.
#[utoipa::path(post, path = "/api/v1/meetings", operation_id = "create_meeting", tag = "patrol", request_body = MeetingBody,
    responses((status = 201, description = "Scheduled")), security(("bearer" = [])))]
pub async fn create_meeting(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<MeetingBody>,
) -> Result<(StatusCode, Json<Meeting>), ApiError> {
    let m = schedule(&state, &auth, &b).await?;
    Ok((StatusCode::CREATED, Json(m)))
}

pub(crate) async fn schedule(state: &AppState, auth: &Auth, b: &MeetingBody) -> Result<Meeting, ApiError> {
    let c = auth.community(b.community_id)?;
    auth.require(Action::ManagePatrol, Scope::community(c))?;
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(ApiError::field(
            "title",
            "请填写会议名称（最多 100 字）/ name the meeting (at most 100 characters)",
        ));
    }
    let at = beijing_time("starts_at", &b.starts_at)?;
    let place = b.place.as_deref().unwrap_or("社区议事厅").trim();
    Ok(state.store.create_meeting(c, title, at, place, auth.change(state, "meeting.create", Some(c))).await?)
}

/// Joint meetings, newest first.
#[utoipa::path(get, path = "/api/v1/meetings", operation_id = "list_meetings", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "Meetings")), security(("bearer" = [])))]
pub async fn list_meetings(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Vec<Meeting>>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    Ok(Json(state.store.meetings(c).await?))
}

/// A meeting with its agenda (built now while planned; as it stood when held) and its actions.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", operation_id = "get_meeting", tag = "patrol",
    params(("id" = i64, Path, description = "Meeting")), responses((status = 200, description = "The meeting")), security(("bearer" = [])))]
pub async fn get_meeting(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(meeting_json(&state, &auth, id).await?))
}

pub(crate) async fn meeting_json(state: &AppState, auth: &Auth, id: i64) -> Result<Value, ApiError> {
    let m = state.store.meeting(id).await?;
    if !auth.can(Action::ViewPatrol, Scope::community(m.community_id)) {
        return Err(ApiError::NotFound);
    }
    let agenda = match &m.agenda {
        Some(a) => serde_json::from_str(a).unwrap_or(json!([])),
        None => current_agenda(state, m.community_id, m.starts_at).await?,
    };
    let mut v = json!(m);
    v["attendance"] = serde_json::from_str(&m.attendance).unwrap_or(json!([]));
    v["agenda"] = agenda;
    v["actions"] = json!(state.store.actions_of_meeting(id).await?);
    Ok(v)
}

/// The agenda of a meeting at `at`, from what is open now.
pub(crate) async fn current_agenda(state: &AppState, community: i64, at: DateTime<Utc>) -> Result<Value, ApiError> {
    let (actions, cases, late) = state.store.agenda_inputs(community, at.max(state.clock.now())).await?;
    let day = at.with_timezone(&Shanghai).date_naive();
    Ok(json!(agenda(&actions, &cases, &late, at.max(state.clock.now()), day)))
}

/// One attendee.
#[derive(Debug, Deserialize, utoipa::ToSchema, serde::Serialize)]
pub struct Attendee {
    /// `community`, `property`, `developer` or `street`.
    pub party: String,
    /// Name.
    pub name: String,
}

/// A resolution as typed.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionBody {
    /// What is to be done.
    pub title: String,
    /// Owning party.
    pub party: String,
    /// Person answerable.
    pub owner: String,
    /// Due date.
    pub due: Option<String>,
    /// A case it settles.
    pub case_id: Option<i64>,
}

/// The minutes of a meeting.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MinutesBody {
    /// Who attended.
    pub attendance: Vec<Attendee>,
    /// Minutes.
    pub minutes: String,
    /// Resolutions.
    #[serde(default)]
    pub actions: Vec<ActionBody>,
}

/// Records a meeting as held: attendance, minutes, and resolutions as actions; the agenda is kept as it stood.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes", operation_id = "create_meeting_minutes", tag = "patrol",
    params(("id" = i64, Path, description = "Meeting")), request_body = MinutesBody,
    responses((status = 201, description = "Recorded"), (status = 422, description = "An action without owner, party or due date")),
    security(("bearer" = [])))]
pub async fn create_meeting_minutes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MinutesBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    hold(&state, &auth, id, &b).await?;
    Ok((StatusCode::CREATED, Json(meeting_json(&state, &auth, id).await?)))
}

pub(crate) async fn hold(state: &AppState, auth: &Auth, id: i64, b: &MinutesBody) -> Result<Meeting, ApiError> {
    let m = state.store.meeting(id).await?;
    auth.require(Action::ManagePatrol, Scope::community(m.community_id))?;
    let mut issues = Vec::new();
    for (i, a) in b.attendance.iter().enumerate() {
        if wujia_core::patrol::meetings::Party::parse(&a.party).is_none() || a.name.trim().is_empty() {
            issues.push(FieldIssue {
                field: format!("attendance[{i}]"),
                message: "请填写参会方和姓名 / give the party and the name".into(),
                row: None,
            });
        }
    }
    if b.minutes.trim().is_empty() {
        issues.push(FieldIssue {
            field: "minutes".into(),
            message: "请填写会议纪要 / write the minutes".into(),
            row: None,
        });
    }
    let mut actions = Vec::new();
    for (i, a) in b.actions.iter().enumerate() {
        let due = match a.due.as_deref().filter(|d| !d.trim().is_empty()) {
            Some(d) => match parse_date("due", d) {
                Ok(d) => Some(d),
                Err(_) => {
                    issues.push(FieldIssue {
                        field: format!("actions[{i}].due"),
                        message: "日期格式应为 2024-06-03 / a date like 2024-06-03".into(),
                        row: None,
                    });
                    continue;
                }
            },
            None => None,
        };
        match ActionItem::parse(&a.title, &a.party, &a.owner, due) {
            Ok(item) => actions.push((item, a.case_id)),
            Err(errs) => issues.extend(errs.into_iter().map(|e| FieldIssue {
                field: format!("actions[{i}].{}", e.field),
                message: e.message.into(),
                row: None,
            })),
        }
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    for (_, case) in &actions {
        if let Some(c) = case
            && state.store.case(*c).await.ok().map(|c| c.community_id) != Some(m.community_id)
        {
            return Err(ApiError::field("case_id", "案件不存在 / unknown case"));
        }
    }
    let agenda = current_agenda(state, m.community_id, m.starts_at).await?;
    let attendance = json!(b.attendance);
    Ok(state
        .store
        .hold_meeting(
            &m,
            &attendance,
            b.minutes.trim(),
            &agenda,
            &actions,
            auth.change(state, "meeting.hold", Some(m.community_id)),
        )
        .await?)
}

/// `?party=&open=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// One party's actions. Property and developer accounts always see their own party's.
    pub party: Option<String>,
    /// Only open actions (default true).
    pub open: Option<bool>,
    /// The community.
    pub community_id: Option<i64>,
}

/// The party a property or developer account answers for.
pub(crate) fn own_party(auth: &Auth) -> Option<&'static str> {
    match auth.role() {
        Role::Property => Some("property"),
        Role::Developer => Some("developer"),
        _ => None,
    }
}

/// Joint-meeting actions, open ones by due date.
#[utoipa::path(get, path = "/api/v1/meeting_actions", operation_id = "list_meeting_actions", tag = "patrol", params(ActionsQuery),
    responses((status = 200, description = "Actions")), security(("bearer" = [])))]
pub async fn list_meeting_actions(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ActionsQuery>,
) -> Result<Json<Vec<MeetingAction>>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    let party = own_party(&auth).map(str::to_string).or(q.party.clone()).filter(|p| !p.is_empty());
    Ok(Json(state.store.meeting_actions(c, q.open.unwrap_or(true), party.as_deref()).await?))
}

/// Progress on an action.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionPatch {
    /// What has been done so far.
    pub progress: String,
    /// Done.
    #[serde(default)]
    pub done: bool,
    /// The version last read.
    pub version: i64,
}

/// Records progress on an action; property and developer accounts update their own party's.
#[utoipa::path(patch, path = "/api/v1/meeting_actions/{id}", operation_id = "update_meeting_action", tag = "patrol",
    params(("id" = i64, Path, description = "Action")), request_body = ActionPatch,
    responses((status = 200, description = "Saved"), (status = 409, description = "Changed meanwhile")), security(("bearer" = [])))]
pub async fn update_meeting_action(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActionPatch>,
) -> Result<Json<MeetingAction>, ApiError> {
    Ok(Json(progress(&state, &auth, id, &b).await?))
}

pub(crate) async fn progress(
    state: &AppState,
    auth: &Auth,
    id: i64,
    b: &ActionPatch,
) -> Result<MeetingAction, ApiError> {
    let a = state.store.meeting_action(id).await?;
    let scope = Scope::community(a.community_id);
    if !auth.can(Action::ViewPatrol, scope) {
        return Err(ApiError::NotFound);
    }
    let allowed = auth.can(Action::ManagePatrol, scope)
        || (auth.can(Action::UpdateMeetingActions, scope) && own_party(auth) == Some(a.party.as_str()));
    if !allowed {
        return Err(ApiError::Forbidden);
    }
    let text = b.progress.trim();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(ApiError::field(
            "progress",
            "请填写进展（最多 500 字）/ describe the progress (at most 500 characters)",
        ));
    }
    if b.version != a.version {
        return Err(ApiError::Conflict("事项已被他人更新，请刷新 / the action was changed by someone else".into()));
    }
    Ok(state
        .store
        .update_meeting_action(&a, text, b.done, auth.change(state, "meeting_action.update", Some(a.community_id)))
        .await?)
}

/// Issues the caller's calendar-feed token (the one before stops working) and the feed addresses.
#[utoipa::path(post, path = "/api/v1/me/calendar_token", operation_id = "create_calendar_token", tag = "patrol",
    responses((status = 201, description = "The token and feed URLs, shown once")), security(("bearer" = [])))]
pub async fn create_calendar_token(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let token = crate::auth::new_token(24);
    state
        .store
        .create_calendar_token(
            auth.user.id,
            &crate::auth::token_hash(&token),
            auth.change(&state, "api_token.calendar", None),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "patrol": format!("/api/v1/patrol/rounds.ics?token={token}"),
            "meetings": format!("/api/v1/meetings.ics?token={token}")})),
    ))
}

/// `?token=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The calendar-feed token (calendar apps cannot log in).
    pub token: Option<String>,
}

pub(crate) async fn feed_auth(state: &AppState, auth: Option<Auth>, q: &FeedQuery) -> Result<Auth, ApiError> {
    if let Some(a) = auth {
        return Ok(a);
    }
    match &q.token {
        Some(t) => calendar_auth(state, t).await?.ok_or(ApiError::Unauthorized),
        None => Err(ApiError::Unauthorized),
    }
}

pub(crate) fn ics(cal: Calendar) -> Response {
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], cal.to_string()).into_response()
}

/// The caller's patrol rounds from a week ago to four weeks ahead, as iCalendar.
#[utoipa::path(get, path = "/api/v1/patrol/rounds.ics", operation_id = "get_patrol_calendar", tag = "patrol", params(FeedQuery),
    responses((status = 200, description = "text/calendar")), security(("bearer" = [])))]
pub async fn get_patrol_calendar(
    State(state): State<AppState>,
    crate::pages::MaybeAuth(auth): crate::pages::MaybeAuth,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Result<Response, ApiError> {
    let auth = feed_auth(&state, auth, &q).await?;
    let zones = state.store.zones_of(auth.user.id).await?;
    let today = state.clock.today();
    let mut cal = Calendar::new();
    cal.name("吾家 · 我的巡查班次");
    for c in auth.actor.communities.clone() {
        for r in state.store.rounds(c, None, today - Duration::days(7), today + Duration::days(28)).await? {
            if zones.contains(&r.zone_id) {
                cal.push(
                    Event::new()
                        .uid(&format!("round-{}@wujia", r.id))
                        .summary(&format!("{} · {}", r.plan_name, r.zone_name))
                        .starts(r.starts_at)
                        .ends(r.due_at)
                        .description(&format!("巡查点 {} 个 / {} checkpoints", r.checkpoints, r.checkpoints))
                        .done(),
                );
            }
        }
    }
    Ok(ics(cal.done()))
}

/// Joint meetings of the caller's communities, as iCalendar.
#[utoipa::path(get, path = "/api/v1/meetings.ics", operation_id = "get_meeting_calendar", tag = "patrol", params(FeedQuery),
    responses((status = 200, description = "text/calendar")), security(("bearer" = [])))]
pub async fn get_meeting_calendar(
    State(state): State<AppState>,
    crate::pages::MaybeAuth(auth): crate::pages::MaybeAuth,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Result<Response, ApiError> {
    let auth = feed_auth(&state, auth, &q).await?;
    let mut cal = Calendar::new();
    cal.name("吾家 · 联席会");
    for c in auth.actor.communities.clone() {
        if !auth.can(Action::ViewPatrol, Scope::community(c)) {
            continue;
        }
        for m in state.store.meetings(c).await? {
            cal.push(
                Event::new()
                    .uid(&format!("meeting-{}@wujia", m.id))
                    .summary(&m.title)
                    .starts(m.starts_at)
                    .ends(m.starts_at + Duration::hours(2))
                    .location(&m.place)
                    .done(),
            );
        }
    }
    Ok(ics(cal.done()))
}
