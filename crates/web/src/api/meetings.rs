//! The tri-party joint meeting (联席会) and its actions, and the iCalendar feeds of meetings and patrol rounds. The
//! use cases are `wujia_app::patrol`; this is their JSON and iCalendar face.

use super::patrol::CommunityQuery;
use crate::AppState;
use crate::auth::{Auth, calendar_auth};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use icalendar::{Calendar, Component, Event, EventLike};
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::patrol::{
    self, ActionProgress, ActionView, ActionsQuery, MeetingDetail, MeetingView, Minutes, NewMeeting,
};

/// Schedules a joint meeting.
#[utoipa::path(post, path = "/api/v1/meetings", operation_id = "create_meeting", tag = "patrol", request_body = NewMeeting,
    responses((status = 201, description = "Scheduled", body = MeetingView)), security(("bearer" = [])))]
pub async fn create_meeting(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<NewMeeting>,
) -> Result<(StatusCode, Json<MeetingView>), ApiError> {
    Ok((StatusCode::CREATED, Json(patrol::schedule(&state.app, &auth, &b).await?)))
}

/// Joint meetings, newest first.
#[utoipa::path(get, path = "/api/v1/meetings", operation_id = "list_meetings", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "Meetings", body = [MeetingView])), security(("bearer" = [])))]
pub async fn list_meetings(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Vec<MeetingView>>, ApiError> {
    Ok(Json(patrol::meetings(&state.app, &auth, q.community_id).await?))
}

/// A meeting with its agenda (built now while planned; as it stood when held) and its actions.
#[utoipa::path(get, path = "/api/v1/meetings/{id}", operation_id = "get_meeting", tag = "patrol",
    params(("id" = i64, Path, description = "Meeting")), responses((status = 200, description = "The meeting", body = MeetingDetail)), security(("bearer" = [])))]
pub async fn get_meeting(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MeetingDetail>, ApiError> {
    Ok(Json(patrol::meeting(&state.app, &auth, id).await?))
}

/// Records a meeting as held: attendance, minutes, and resolutions as actions; the agenda is kept as it stood.
#[utoipa::path(post, path = "/api/v1/meetings/{id}/minutes", operation_id = "create_meeting_minutes", tag = "patrol",
    params(("id" = i64, Path, description = "Meeting")), request_body = Minutes,
    responses((status = 201, description = "Recorded", body = MeetingDetail), (status = 422, description = "An action without owner, party or due date")),
    security(("bearer" = [])))]
pub async fn create_meeting_minutes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Minutes>,
) -> Result<(StatusCode, Json<MeetingDetail>), ApiError> {
    Ok((StatusCode::CREATED, Json(patrol::hold(&state.app, &auth, id, &b).await?)))
}

/// Joint-meeting actions, open ones by due date.
#[utoipa::path(get, path = "/api/v1/meeting_actions", operation_id = "list_meeting_actions", tag = "patrol", params(ActionsQuery),
    responses((status = 200, description = "Actions", body = [ActionView])), security(("bearer" = [])))]
pub async fn list_meeting_actions(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ActionsQuery>,
) -> Result<Json<Vec<ActionView>>, ApiError> {
    Ok(Json(patrol::actions(&state.app, &auth, &q).await?))
}

/// Records progress on an action; property and developer accounts update their own party's.
#[utoipa::path(patch, path = "/api/v1/meeting_actions/{id}", operation_id = "update_meeting_action", tag = "patrol",
    params(("id" = i64, Path, description = "Action")), request_body = ActionProgress,
    responses((status = 200, description = "Saved", body = ActionView), (status = 409, description = "Changed meanwhile")), security(("bearer" = [])))]
pub async fn update_meeting_action(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActionProgress>,
) -> Result<Json<ActionView>, ApiError> {
    Ok(Json(patrol::record_progress(&state.app, &auth, id, &b).await?))
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
    let mut cal = Calendar::new();
    cal.name("吾家 · 我的巡查班次");
    for r in patrol::calendar_rounds(&state.app, &auth).await? {
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
    for m in patrol::calendar_meetings(&state.app, &auth).await? {
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
    Ok(ics(cal.done()))
}
