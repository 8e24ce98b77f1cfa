//! The volunteer team: applications from residents' accounts, approval, shifts with sign-up and attendance,
//! hours and points, a volunteer's record of service, and the figures.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::form::field_error;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::period::beijing_time;
use wujia_app::period::date as parse_date;
use wujia_core::accounts::{Action, Scope};
use wujia_core::volunteers::{SHIFT_KINDS, VolunteerError, may_report, points, served_minutes};
use wujia_store::{Shift, SignupUpdate, VolunteerRow};

/// An application to the volunteer team.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ApplicationBody {
    /// The resident applying (a member of the caller's household; staff may name any resident).
    pub resident_id: i64,
    /// Team, e.g. 吾家有治.
    pub team: Option<String>,
    /// Skills.
    #[serde(default)]
    pub skills: String,
    /// When they can help.
    #[serde(default)]
    pub availability: String,
}

pub(crate) fn volunteer_json(v: &VolunteerRow) -> Value {
    let mut j = json!(v);
    j["hours"] = json!((v.minutes as f64 / 60.0 * 100.0).round() / 100.0);
    j["points"] = json!(points(v.minutes));
    j
}

/// Applies to the volunteer team: a resident from their account, or staff registering a resident.
#[utoipa::path(post, path = "/api/v1/volunteers", operation_id = "create_volunteer", tag = "volunteers", request_body = ApplicationBody,
    responses((status = 201, description = "Applied"), (status = 409, description = "Already applied")), security(("bearer" = [])))]
pub async fn create_volunteer(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ApplicationBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, Json(volunteer_json(&apply(&state, &auth, &b).await?))))
}

/// Checks and records an application.
pub(crate) async fn apply(state: &AppState, auth: &Auth, b: &ApplicationBody) -> Result<VolunteerRow, ApiError> {
    let r = state
        .store
        .resident(b.resident_id, state.clock.today())
        .await
        .map_err(|_| ApiError::field("resident_id", "居民不存在 / unknown resident"))?;
    let staff = auth.can(Action::ManageVolunteers, Scope::community(r.community_id));
    if !staff {
        auth.require(Action::TakePart, Scope::household(r.community_id, r.building_id, r.household_id))?;
    }
    let team = b.team.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("吾家有治");
    if team.chars().count() > 40 || b.skills.chars().count() > 200 || b.availability.chars().count() > 200 {
        return Err(ApiError::field("skills", "每项最多 200 字 / at most 200 characters each"));
    }
    let user = (!staff || auth.actor.household == Some(r.household_id)).then_some(auth.user.id);
    let new = wujia_store::NewVolunteer {
        community_id: r.community_id,
        resident_id: r.id,
        user_id: user,
        team: team.into(),
        skills: b.skills.trim().into(),
        availability: b.availability.trim().into(),
    };
    Ok(state.store.apply_volunteer(&new, auth.change(state, "volunteer.apply", Some(r.community_id))).await?)
}

/// `?status=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolunteersQuery {
    /// `applied`, `approved` or `rejected`.
    pub status: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Volunteers, most hours first (the recognition board), or applications waiting.
#[utoipa::path(get, path = "/api/v1/volunteers", operation_id = "list_volunteers", tag = "volunteers", params(VolunteersQuery),
    responses((status = 200, description = "Volunteers")), security(("bearer" = [])))]
pub async fn list_volunteers(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<VolunteersQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ManageVolunteers, Scope::community(c))?;
    let list = state.store.volunteers(c, q.status.as_deref().filter(|s| !s.is_empty())).await?;
    Ok(Json(json!(list.iter().map(volunteer_json).collect::<Vec<_>>())))
}

/// A decision on an application.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DecisionBody {
    /// `approve` or `reject`.
    pub decision: String,
    /// A core member of the team.
    #[serde(default)]
    pub core: bool,
    /// The version last read.
    pub version: i64,
}

/// Approves or rejects an application (or marks an approved volunteer as a core member).
#[utoipa::path(patch, path = "/api/v1/volunteers/{id}", operation_id = "update_volunteer", tag = "volunteers",
    params(("id" = i64, Path, description = "Volunteer")), request_body = DecisionBody,
    responses((status = 200, description = "Decided")), security(("bearer" = [])))]
pub async fn update_volunteer(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(volunteer_json(&decide(&state, &auth, id, &b).await?)))
}

pub(crate) async fn decide(state: &AppState, auth: &Auth, id: i64, b: &DecisionBody) -> Result<VolunteerRow, ApiError> {
    let v = state.store.volunteer(id).await?;
    auth.require(Action::ManageVolunteers, Scope::community(v.community_id))?;
    let approve = match b.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ApiError::field("decision", "应为 approve 或 reject / approve or reject")),
    };
    if b.version != v.version {
        return Err(ApiError::Conflict(
            "申请已被他人处理，请刷新 / the application was changed by someone else".into(),
        ));
    }
    let out = state
        .store
        .decide_volunteer(&v, approve, b.core, auth.change(state, "volunteer.decide", Some(v.community_id)))
        .await?;
    // The account's role changed: drop cached sessions so it takes effect at once.
    state.forget_sessions();
    Ok(out)
}

/// The volunteer the caller may act as or for: their own record, or any for staff.
async fn volunteer_for(state: &AppState, auth: &Auth, id: Option<i64>) -> Result<VolunteerRow, ApiError> {
    match id {
        Some(id) => {
            let v = state.store.volunteer(id).await?;
            let own = auth.actor.household == Some(v.household_id);
            if !own && !auth.can(Action::ManageVolunteers, Scope::community(v.community_id)) {
                return Err(ApiError::NotFound);
            }
            Ok(v)
        }
        None => {
            let h = auth
                .actor
                .household
                .ok_or_else(|| ApiError::field("volunteer_id", "请指定志愿者 / choose the volunteer"))?;
            let list = state.store.household_volunteers(h).await?;
            list.iter()
                .find(|v| v.user_id == Some(auth.user.id))
                .or_else(|| list.first())
                .cloned()
                .ok_or_else(|| ApiError::field("volunteer_id", "尚未申请加入志愿者队伍 / not a volunteer yet"))
        }
    }
}

/// A volunteer's record of service: every shift with attendance and hours, the totals and points.
#[utoipa::path(get, path = "/api/v1/volunteers/{id}/record", operation_id = "get_volunteer_record", tag = "volunteers",
    params(("id" = i64, Path, description = "Volunteer")), responses((status = 200, description = "The record")), security(("bearer" = [])))]
pub async fn get_volunteer_record(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let v = volunteer_for(&state, &auth, Some(id)).await?;
    let record = state.store.service_record(v.id).await?;
    let mut j = volunteer_json(&v);
    j["shifts"] = json!(record.iter().map(|(g, s)| json!({"shift": s, "signup": g})).collect::<Vec<_>>());
    Ok(Json(j))
}

/// A shift to plan.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ShiftBody {
    /// Title, e.g. 晚巡查（第四片区）.
    pub title: String,
    /// `patrol`, `reception`, `activity` or `other`.
    pub kind: String,
    /// Team.
    pub team: Option<String>,
    /// Start, Beijing time.
    pub starts_at: String,
    /// End, Beijing time.
    pub ends_at: String,
    /// Places.
    pub capacity: i64,
    /// The community.
    pub community_id: Option<i64>,
}

/// Plans a shift volunteers can sign up for.
#[utoipa::path(post, path = "/api/v1/shifts", operation_id = "create_shift", tag = "volunteers", request_body = ShiftBody,
    responses((status = 201, description = "Planned")), security(("bearer" = [])))]
pub async fn create_shift(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ShiftBody>,
) -> Result<(StatusCode, Json<Shift>), ApiError> {
    Ok((StatusCode::CREATED, Json(plan_shift(&state, &auth, &b).await?)))
}

pub(crate) async fn plan_shift(state: &AppState, auth: &Auth, b: &ShiftBody) -> Result<Shift, ApiError> {
    let c = auth.community(b.community_id)?;
    auth.require(Action::ManageVolunteers, Scope::community(c))?;
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(ApiError::field("title", "请填写班次名称 / name the shift"));
    }
    if !SHIFT_KINDS.contains(&b.kind.as_str()) {
        return Err(field_error(VolunteerError::BadKind));
    }
    let (starts, ends) = (beijing_time("starts_at", &b.starts_at)?, beijing_time("ends_at", &b.ends_at)?);
    if ends <= starts {
        return Err(field_error(VolunteerError::BadTimes));
    }
    if !(1..=500).contains(&b.capacity) {
        return Err(ApiError::field("capacity", "名额 1 到 500 / 1 to 500 places"));
    }
    let team = b.team.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("吾家有治");
    let new = wujia_store::NewShift {
        community_id: c,
        title: title.into(),
        kind: b.kind.clone(),
        team: team.into(),
        starts_at: starts,
        ends_at: ends,
        capacity: b.capacity,
    };
    Ok(state.store.create_shift(&new, auth.change(state, "shift.create", Some(c))).await?)
}

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShiftsQuery {
    /// First Beijing date (default today).
    pub from: Option<String>,
    /// Last Beijing date (default four weeks on).
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Shifts in a period, with places taken.
#[utoipa::path(get, path = "/api/v1/shifts", operation_id = "list_shifts", tag = "volunteers", params(ShiftsQuery),
    responses((status = 200, description = "Shifts")), security(("bearer" = [])))]
pub async fn list_shifts(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ShiftsQuery>,
) -> Result<Json<Vec<Shift>>, ApiError> {
    let c = auth.community(q.community_id)?;
    let from = q
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_date("from", s))
        .transpose()?
        .unwrap_or(state.clock.today());
    let to =
        q.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_date("to", s))
            .transpose()?
            .unwrap_or(from + Duration::days(27));
    let (start, end) =
        (wujia_app::period::beijing_start(from), wujia_app::period::beijing_start(to + Duration::days(1)));
    Ok(Json(state.store.shifts(c, start, end).await?))
}

/// A sign-up.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignupBody {
    /// The volunteer (staff signing someone up); volunteers sign themselves up.
    pub volunteer_id: Option<i64>,
}

/// Signs a volunteer up for a shift.
#[utoipa::path(post, path = "/api/v1/shifts/{id}/signups", operation_id = "create_shift_signup", tag = "volunteers",
    params(("id" = i64, Path, description = "Shift")), request_body = SignupBody,
    responses((status = 201, description = "Signed up"), (status = 422, description = "Full, already signed up, or not approved")),
    security(("bearer" = [])))]
pub async fn create_shift_signup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SignupBody>,
) -> Result<(StatusCode, Json<wujia_store::Signup>), ApiError> {
    Ok((StatusCode::CREATED, Json(sign_up(&state, &auth, id, b.volunteer_id).await?)))
}

pub(crate) async fn sign_up(
    state: &AppState,
    auth: &Auth,
    id: i64,
    volunteer: Option<i64>,
) -> Result<wujia_store::Signup, ApiError> {
    let shift = state.store.shift(id).await?;
    if !auth.actor.communities.contains(&shift.community_id) {
        return Err(ApiError::NotFound);
    }
    let v = volunteer_for(state, auth, volunteer).await?;
    if v.community_id != shift.community_id {
        return Err(ApiError::field("volunteer_id", "不是本社区的志愿者 / a volunteer of another community"));
    }
    Ok(state.store.sign_up(&shift, &v, auth.change(state, "shift.signup", Some(shift.community_id))).await?)
}

/// Attendance on a sign-up.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AttendanceBody {
    /// `check_in`, `check_out`, `report` (self-reported minutes), `approve` or `reject` (a reported time), `no_show`.
    pub action: String,
    /// Minutes served (with `report`).
    pub minutes: Option<i64>,
}

/// Records attendance: check-in and check-out (hours counted at once), hours reported by the volunteer and approved
/// by staff, or a no-show.
#[utoipa::path(post, path = "/api/v1/shifts/{id}/signups/{volunteer_id}/attendance", operation_id = "update_shift_signup", tag = "volunteers",
    params(("id" = i64, Path, description = "Shift"), ("volunteer_id" = i64, Path, description = "Volunteer")), request_body = AttendanceBody,
    responses((status = 200, description = "Recorded"), (status = 422, description = "Not allowed")), security(("bearer" = [])))]
pub async fn update_shift_signup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, volunteer_id)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<AttendanceBody>,
) -> Result<Json<wujia_store::Signup>, ApiError> {
    Ok(Json(attend(&state, &auth, id, volunteer_id, &b).await?))
}

pub(crate) async fn attend(
    state: &AppState,
    auth: &Auth,
    id: i64,
    volunteer_id: i64,
    b: &AttendanceBody,
) -> Result<wujia_store::Signup, ApiError> {
    let shift = state.store.shift(id).await?;
    let v = volunteer_for(state, auth, Some(volunteer_id)).await?;
    let staff = auth.can(Action::ManageVolunteers, Scope::community(shift.community_id));
    let now = state.clock.now();
    let g = state.store.signup(shift.id, v.id).await?;
    let Some(g) = g else {
        // Hours for a shift the volunteer did not sign up for are refused, whoever asks.
        return Err(field_error(VolunteerError::NotSignedUp));
    };
    let mut set = SignupUpdate {
        checked_in_at: g.checked_in_at,
        checked_out_at: g.checked_out_at,
        minutes: g.minutes,
        minutes_status: g.minutes_status.clone(),
        no_show: g.no_show,
    };
    match b.action.as_str() {
        "check_in" => {
            set.checked_in_at = Some(now);
            set.no_show = false;
        }
        "check_out" => {
            let start = g.checked_in_at.ok_or_else(|| field_error(VolunteerError::NotCheckedIn))?;
            set.checked_out_at = Some(now);
            set.minutes = Some(served_minutes(start, now, shift.starts_at, shift.ends_at).map_err(field_error)?);
            set.minutes_status = Some("approved".into());
        }
        "report" => {
            let minutes = b.minutes.ok_or_else(|| field_error(VolunteerError::BadMinutes))?;
            may_report(true, shift.starts_at, shift.ends_at, minutes, now).map_err(field_error)?;
            set.minutes = Some(minutes);
            set.minutes_status = Some(if staff { "approved" } else { "pending" }.into());
            set.no_show = false;
        }
        "approve" | "reject" if staff => {
            if g.minutes_status.as_deref() != Some("pending") {
                return Err(ApiError::field("action", "没有待审核的时长 / no reported time to decide"));
            }
            set.minutes_status = Some(if b.action == "approve" { "approved" } else { "rejected" }.into());
        }
        "no_show" if staff => {
            if now < shift.ends_at {
                return Err(field_error(VolunteerError::NotEnded));
            }
            set = SignupUpdate { no_show: true, ..SignupUpdate::default() };
        }
        "approve" | "reject" | "no_show" => return Err(ApiError::Forbidden),
        _ => {
            return Err(ApiError::field(
                "action",
                "应为 check_in、check_out、report、approve、reject 或 no_show / unknown action",
            ));
        }
    }
    Ok(state
        .store
        .update_signup(
            &shift,
            &g,
            &b.action,
            set,
            auth.change(state, &format!("shift.{}", b.action), Some(shift.community_id)),
        )
        .await?)
}

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First Beijing date (default a year ago).
    pub from: Option<String>,
    /// Last Beijing date, inclusive (default today).
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Volunteers, how many joined in the period, hours and shifts.
#[utoipa::path(get, path = "/api/v1/volunteers/summary", operation_id = "get_volunteers_summary", tag = "volunteers", params(SummaryQuery),
    responses((status = 200, description = "Figures")), security(("bearer" = [])))]
pub async fn get_volunteers_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    if !auth.can(Action::ManageVolunteers, Scope::community(c)) && !auth.can(Action::ViewReception, Scope::community(c))
    {
        return Err(ApiError::Forbidden);
    }
    let today = state.clock.today();
    let to = q.to.as_deref().filter(|s| !s.is_empty()).map(|s| parse_date("to", s)).transpose()?.unwrap_or(today);
    let from = q
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_date("from", s))
        .transpose()?
        .unwrap_or(to - Duration::days(364));
    let f = state.store.volunteer_facts(c, from, to).await?;
    let mut v = json!(f);
    v["from"] = json!(from);
    v["to"] = json!(to);
    v["hours"] = json!((f.hours * 100.0).round() / 100.0);
    Ok(Json(v))
}
