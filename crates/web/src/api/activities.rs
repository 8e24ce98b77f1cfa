//! Activities (吾家有乐) over HTTP: planning, invitation lists from the registry, registration with a waiting list,
//! check-in by QR code, ratings, photos and summaries, the integration figures, the calendar and attendance export.

use super::meetings::{feed_auth, ics};
use super::photos::{PhotoQuery, keep, serve, take_in};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::form::field_error;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::period::beijing_time;
use wujia_app::period::{beijing_start, date as parse_date};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::activities::{RegistrationError, RegistrationStatus, Target, integration, may_check_in, may_confirm};
use wujia_store::{Activity, NewActivity, Registration};

/// How long a place offered from the waiting list waits for its confirmation.
pub const OFFER_HOURS: i64 = 24;

fn manage(auth: &Auth, community: i64) -> bool {
    auth.can(Action::ManageActivities, Scope::community(community))
}

async fn activity_for(state: &AppState, auth: &Auth, id: i64) -> Result<Activity, ApiError> {
    let a = state.store.activity(id).await?;
    if !auth.actor.communities.contains(&a.community_id) && auth.role() != Role::Admin {
        return Err(ApiError::NotFound);
    }
    Ok(a)
}

/// An activity to plan.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActivityBody {
    /// Title, e.g. 初心如故、岁月流金.
    pub title: String,
    /// Theme: a traditional festival (春节, 元宵, 清明, 端午, 七夕, 中秋, 重阳) or another.
    #[serde(default)]
    pub theme: String,
    /// Series, e.g. 健康讲座.
    #[serde(default)]
    pub series: String,
    /// Organiser.
    #[serde(default)]
    pub organiser: String,
    /// Partner organisations.
    #[serde(default)]
    pub partners: String,
    /// Place.
    pub place: String,
    /// Start, Beijing time.
    pub starts_at: String,
    /// End, Beijing time.
    pub ends_at: String,
    /// Places.
    pub capacity: i64,
    /// Target tags, any of which qualifies.
    #[serde(default)]
    pub target_tags: Vec<String>,
    /// Youngest age.
    pub min_age: Option<u32>,
    /// Oldest age.
    pub max_age: Option<u32>,
    /// Volunteers needed.
    #[serde(default)]
    pub volunteers_needed: i64,
    /// The community.
    pub community_id: Option<i64>,
}

/// Plans an activity.
#[utoipa::path(post, path = "/api/v1/activities", operation_id = "create_activity", tag = "activities", request_body = ActivityBody,
    responses((status = 201, description = "Planned"), (status = 422, description = "Invalid")), security(("bearer" = [])))]
pub async fn create_activity(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ActivityBody>,
) -> Result<(StatusCode, Json<Activity>), ApiError> {
    Ok((StatusCode::CREATED, Json(plan(&state, &auth, &b).await?)))
}

pub(crate) async fn plan(state: &AppState, auth: &Auth, b: &ActivityBody) -> Result<Activity, ApiError> {
    let c = auth.community(b.community_id)?;
    auth.require(Action::ManageActivities, Scope::community(c))?;
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(ApiError::field("title", "请填写活动名称（最多 100 字）/ give a title"));
    }
    if b.place.trim().is_empty() {
        return Err(ApiError::field("place", "请填写地点 / give the place"));
    }
    let (starts, ends) = (beijing_time("starts_at", &b.starts_at)?, beijing_time("ends_at", &b.ends_at)?);
    if ends <= starts {
        return Err(ApiError::field("ends_at", "结束时间须晚于开始时间 / must be after the start"));
    }
    if !(1..=2000).contains(&b.capacity) {
        return Err(ApiError::field("capacity", "名额 1 到 2000 / 1 to 2000 places"));
    }
    if let (Some(lo), Some(hi)) = (b.min_age, b.max_age)
        && lo > hi
    {
        return Err(ApiError::field("max_age", "年龄上限不能小于下限 / below the minimum age"));
    }
    let known: Vec<String> = state.store.tags(c).await?.into_iter().map(|t| t.code).collect();
    let derived = ["elderly_60", "elderly_80", "school_age", "golden_wedding"];
    if let Some(bad) = b.target_tags.iter().find(|t| !known.contains(t) && !derived.contains(&t.as_str())) {
        return Err(ApiError::field("target_tags", format!("未知标签 {bad} / unknown tag")));
    }
    let new = NewActivity {
        community_id: c,
        title: title.into(),
        theme: b.theme.trim().into(),
        series: b.series.trim().into(),
        organiser: if b.organiser.trim().is_empty() { "社区".into() } else { b.organiser.trim().into() },
        partners: b.partners.trim().into(),
        place: b.place.trim().into(),
        starts_at: starts,
        ends_at: ends,
        capacity: b.capacity,
        target: Target { tags: b.target_tags.clone(), min_age: b.min_age, max_age: b.max_age },
        volunteers_needed: b.volunteers_needed.max(0),
    };
    Ok(state.store.create_activity(&new, auth.change(state, "activity.create", Some(c))).await?)
}

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First Beijing date.
    pub from: Option<String>,
    /// Last Beijing date, inclusive.
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

fn period(
    state: &AppState,
    q: &PeriodQuery,
    back: i64,
    ahead: i64,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    let today = state.clock.today();
    let from = q
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| parse_date("from", s))
        .transpose()?
        .unwrap_or(today - Duration::days(back));
    let to =
        q.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_date("to", s))
            .transpose()?
            .unwrap_or(today + Duration::days(ahead));
    if to < from {
        return Err(ApiError::field("to", "截止日期不能早于起始日期 / not before from"));
    }
    Ok((from, to))
}

/// Activities in a period (default: a month back to two months ahead).
#[utoipa::path(get, path = "/api/v1/activities", operation_id = "list_activities", tag = "activities", params(PeriodQuery),
    responses((status = 200, description = "Activities")), security(("bearer" = [])))]
pub async fn list_activities(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Vec<Activity>>, ApiError> {
    let c = auth.community(q.community_id)?;
    let (from, to) = period(&state, &q, 31, 62)?;
    Ok(Json(state.store.activities(c, beijing_start(from), beijing_start(to + Duration::days(1))).await?))
}

/// An activity with its photos; staff see every registration, residents their household's.
#[utoipa::path(get, path = "/api/v1/activities/{id}", operation_id = "get_activity", tag = "activities",
    params(("id" = i64, Path, description = "Activity")), responses((status = 200, description = "The activity")), security(("bearer" = [])))]
pub async fn get_activity(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let a = activity_for(&state, &auth, id).await?;
    let mut v = json!(a);
    v["target_tags"] = serde_json::from_str(&a.target_tags).unwrap_or(json!([]));
    v["photos"] = json!(
        state
            .store
            .activity_photos(id)
            .await?
            .iter()
            .map(|p| format!("/api/v1/activity_photos/{}", p.0))
            .collect::<Vec<_>>()
    );
    let regs = state.store.registrations(id).await?;
    v["registrations"] = if manage(&auth, a.community_id) {
        json!(regs)
    } else {
        json!(regs.into_iter().filter(|g| Some(g.household_id) == auth.actor.household).collect::<Vec<_>>())
    };
    Ok(Json(v))
}

/// Residents of the community in the activity's target group, with who registered: the invitation list.
#[utoipa::path(get, path = "/api/v1/activities/{id}/invitations", operation_id = "list_activity_invitations", tag = "activities",
    params(("id" = i64, Path, description = "Activity")), responses((status = 200, description = "Invitation list")), security(("bearer" = [])))]
pub async fn list_activity_invitations(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(invitations(&state, &auth, id).await?))
}

pub(crate) async fn invitations(state: &AppState, auth: &Auth, id: i64) -> Result<Value, ApiError> {
    let a = activity_for(state, auth, id).await?;
    auth.require(Action::ManageActivities, Scope::community(a.community_id))?;
    let target = a.target();
    let mut buildings = Vec::new();
    for c in state.store.compounds(a.community_id).await? {
        buildings.extend(state.store.buildings(c.id).await?.into_iter().map(|b| b.id));
    }
    let today = a.starts_at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let registered: Vec<i64> = state
        .store
        .registrations(id)
        .await?
        .into_iter()
        .filter(|g| g.status != "cancelled")
        .map(|g| g.resident_id)
        .collect();
    let list: Vec<Value> = state
        .store
        .residents_in_buildings(&buildings, today)
        .await?
        .into_iter()
        .filter(|r| target.check(&r.tags, r.age).is_ok())
        .map(|r| json!({"resident_id": r.id, "name": r.name, "age": r.age, "household_id": r.household_id, "address": r.address,
            "origin": r.origin, "registered": registered.contains(&r.id)}))
        .collect();
    let households: std::collections::BTreeSet<i64> = list.iter().filter_map(|x| x["household_id"].as_i64()).collect();
    Ok(json!({"target": target, "residents": list.len(), "households": households.len(), "invitees": list}))
}

/// A registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegistrationBody {
    /// The resident (a member of the caller's household; staff may name anyone).
    pub resident_id: i64,
    /// Staff registering someone outside the target group say why.
    #[serde(default)]
    pub note: String,
}

/// Registers a resident: a place while there is one, else the waiting list.
#[utoipa::path(post, path = "/api/v1/activities/{id}/registrations", operation_id = "create_activity_registration", tag = "activities",
    params(("id" = i64, Path, description = "Activity")), request_body = RegistrationBody,
    responses((status = 201, description = "Registered or waitlisted"), (status = 422, description = "Outside the target group")),
    security(("bearer" = [])))]
pub async fn create_activity_registration(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RegistrationBody>,
) -> Result<(StatusCode, Json<Registration>), ApiError> {
    Ok((StatusCode::CREATED, Json(register(&state, &auth, id, &b).await?)))
}

pub(crate) async fn register(
    state: &AppState,
    auth: &Auth,
    id: i64,
    b: &RegistrationBody,
) -> Result<Registration, ApiError> {
    let a = activity_for(state, auth, id).await?;
    if state.clock.now() >= a.starts_at {
        return Err(ApiError::field("activity", "活动已开始，不能再报名 / the activity has begun"));
    }
    let today = a.starts_at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let r = state
        .store
        .resident(b.resident_id, today)
        .await
        .map_err(|_| ApiError::field("resident_id", "居民不存在 / unknown resident"))?;
    if r.community_id != a.community_id {
        return Err(ApiError::field("resident_id", "居民不在本社区 / a resident of another community"));
    }
    let staff = manage(auth, a.community_id);
    if !staff {
        auth.require(Action::TakePart, Scope::household(r.community_id, r.building_id, r.household_id))?;
    }
    let note = b.note.trim();
    if let Err(why) = a.target().check(&r.tags, r.age) {
        // Staff may still register someone outside the group, saying why.
        if !staff || note.is_empty() {
            return Err(field_error(why));
        }
    }
    let code = crate::auth::new_token(8);
    Ok(state
        .store
        .register_for_activity(
            &a,
            (r.id, r.household_id),
            note,
            &code,
            auth.change(state, "activity.register", Some(a.community_id)),
        )
        .await?)
}

/// A step on a registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegistrationAction {
    /// `cancel`, `confirm` (an offered place), `check_in` (staff, from the list), `rate`.
    pub action: String,
    /// Stars, 1–5 (with `rate`).
    pub stars: Option<i64>,
    /// Comment (with `rate`).
    pub comment: Option<String>,
}

/// Cancels (the next on the waiting list is offered the place), confirms an offer, checks in from the list, or rates.
#[utoipa::path(post, path = "/api/v1/activities/{id}/registrations/{registration}", operation_id = "update_activity_registration", tag = "activities",
    params(("id" = i64, Path, description = "Activity"), ("registration" = i64, Path, description = "Registration")), request_body = RegistrationAction,
    responses((status = 200, description = "Done")), security(("bearer" = [])))]
pub async fn update_activity_registration(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, rid)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<RegistrationAction>,
) -> Result<Json<Value>, ApiError> {
    let offered = registration_step(&state, &auth, id, rid, &b).await?;
    Ok(Json(json!({"registration": state.store.registration(rid).await?, "offered": offered})))
}

pub(crate) async fn registration_step(
    state: &AppState,
    auth: &Auth,
    id: i64,
    rid: i64,
    b: &RegistrationAction,
) -> Result<Option<Registration>, ApiError> {
    let a = activity_for(state, auth, id).await?;
    let g = state.store.registration(rid).await?;
    let staff = manage(auth, a.community_id);
    if !staff && Some(g.household_id) != auth.actor.household {
        return Err(ApiError::NotFound);
    }
    let now = state.clock.now();
    let status = RegistrationStatus::parse(&g.status).unwrap_or(RegistrationStatus::Cancelled);
    let (next, rating) = match b.action.as_str() {
        "cancel"
            if matches!(
                status,
                RegistrationStatus::Registered | RegistrationStatus::Offered | RegistrationStatus::Waitlisted
            ) =>
        {
            (RegistrationStatus::Cancelled, None)
        }
        "cancel" => return Err(ApiError::field("status", "该报名不能取消 / this registration cannot be cancelled")),
        "confirm" => {
            may_confirm(status, g.offered_until, now).map_err(field_error)?;
            (RegistrationStatus::Registered, None)
        }
        "check_in" if staff => {
            may_check_in(status, g.activity_id, a.id).map_err(field_error)?;
            (RegistrationStatus::Attended, None)
        }
        "check_in" => return Err(ApiError::Forbidden),
        "rate" => {
            let stars =
                b.stars.filter(|s| (1..=5).contains(s)).ok_or_else(|| field_error(RegistrationError::BadRating))?;
            if status != RegistrationStatus::Attended {
                return Err(field_error(RegistrationError::BadRating));
            }
            (
                RegistrationStatus::Attended,
                Some((stars, b.comment.clone().unwrap_or_default().chars().take(500).collect())),
            )
        }
        _ => return Err(ApiError::field("action", "应为 cancel、confirm、check_in 或 rate / unknown action")),
    };
    let offered = if b.action == "rate" {
        state
            .store
            .update_registration(&a, &g, next, rating, now, auth.change(state, "activity.rate", Some(a.community_id)))
            .await?
    } else {
        state
            .store
            .update_registration(
                &a,
                &g,
                next,
                None,
                now + Duration::hours(OFFER_HOURS),
                auth.change(state, &format!("activity.{}", b.action), Some(a.community_id)),
            )
            .await?
    };
    if let Some(o) = &offered {
        notify_offer(state, &a, o).await?;
    }
    Ok(offered)
}

/// Tells the household that a place came free and until when it may be confirmed.
async fn notify_offer(state: &AppState, a: &Activity, o: &Registration) -> Result<(), ApiError> {
    let until = o
        .offered_until
        .map(|u| u.with_timezone(&chrono_tz::Asia::Shanghai).format("%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let notices = wujia_store::Notices {
        inbox: state
            .store
            .household_accounts(o.household_id)
            .await?
            .into_iter()
            .map(|u| {
                (
                    u,
                    format!("候补转正：{}", a.title),
                    format!("{} 有了名额，请在 {until} 前确认 / a place for {}; confirm by {until}", o.name, o.name),
                    "/activities".to_string(),
                )
            })
            .collect(),
        outside: vec![],
    };
    state.store.notify(&notices, None, state.clock.now()).await?;
    Ok(())
}

/// A check-in by the code on the registration's QR code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckinBody {
    /// The registration's code.
    pub code: String,
}

/// Checks a participant in by their registration's code.
#[utoipa::path(post, path = "/api/v1/activities/{id}/checkins", operation_id = "create_activity_checkin", tag = "activities",
    params(("id" = i64, Path, description = "Activity")), request_body = CheckinBody,
    responses((status = 201, description = "Checked in"), (status = 422, description = "Twice, or another activity's code")), security(("bearer" = [])))]
pub async fn create_activity_checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckinBody>,
) -> Result<(StatusCode, Json<Registration>), ApiError> {
    Ok((StatusCode::CREATED, Json(check_in_code(&state, &auth, id, &b.code).await?)))
}

pub(crate) async fn check_in_code(
    state: &AppState,
    auth: &Auth,
    id: i64,
    code: &str,
) -> Result<Registration, ApiError> {
    let a = activity_for(state, auth, id).await?;
    auth.require(Action::ManageActivities, Scope::community(a.community_id))?;
    let g = state
        .store
        .registration_by_code(code.trim())
        .await
        .map_err(|_| ApiError::field("code", "无效的签到码 / unknown code"))?;
    let status = RegistrationStatus::parse(&g.status).unwrap_or(RegistrationStatus::Cancelled);
    may_check_in(status, g.activity_id, a.id).map_err(field_error)?;
    state
        .store
        .update_registration(
            &a,
            &g,
            RegistrationStatus::Attended,
            None,
            state.clock.now(),
            auth.change(state, "activity.check_in", Some(a.community_id)),
        )
        .await?;
    Ok(state.store.registration(g.id).await?)
}

/// The summary written afterwards.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActivityPatch {
    /// Summary.
    pub summary: String,
}

/// Records the summary of an activity.
#[utoipa::path(patch, path = "/api/v1/activities/{id}", operation_id = "update_activity", tag = "activities",
    params(("id" = i64, Path, description = "Activity")), request_body = ActivityPatch, responses((status = 200, description = "Saved")),
    security(("bearer" = [])))]
pub async fn update_activity(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActivityPatch>,
) -> Result<Json<Activity>, ApiError> {
    let a = activity_for(&state, &auth, id).await?;
    auth.require(Action::ManageActivities, Scope::community(a.community_id))?;
    if b.summary.chars().count() > 5000 {
        return Err(ApiError::field("summary", "总结最多 5000 字 / at most 5000 characters"));
    }
    Ok(Json(
        state
            .store
            .set_activity_summary(&a, b.summary.trim(), auth.change(&state, "activity.summary", Some(a.community_id)))
            .await?,
    ))
}

/// Adds a photo of the activity (the image as the body).
#[utoipa::path(post, path = "/api/v1/activities/{id}/photos", operation_id = "create_activity_photo", tag = "activities",
    params(("id" = i64, Path, description = "Activity")), request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 201, description = "Kept")), security(("bearer" = [])))]
pub async fn create_activity_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(|_| ApiError::PayloadTooLarge)?;
    let a = activity_for(&state, &auth, id).await?;
    auth.require(Action::ManageActivities, Scope::community(a.community_id))?;
    let kept = keep(&state, take_in(body.to_vec()).await?).await?;
    state
        .store
        .add_activity_photo(
            &a,
            &kept.blob,
            kept.media_type(),
            auth.change(&state, "activity.photo", Some(a.community_id)),
        )
        .await?;
    Ok(StatusCode::CREATED)
}

/// An activity photo, for anyone in its community.
#[utoipa::path(get, path = "/api/v1/activity_photos/{blob}", operation_id = "get_activity_photo", tag = "activities",
    params(("blob" = String, Path, description = "SHA-256 of the photo"), PhotoQuery),
    responses((status = 200, description = "The image, `inline` with a safe file name", content_type = "image/jpeg")),
    security(("bearer" = [])))]
pub async fn get_activity_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(blob): ApiPath<String>,
    ApiQuery(q): ApiQuery<PhotoQuery>,
) -> Result<Response, ApiError> {
    let owners = state.store.activity_photo_owners(&blob).await?;
    if !owners.iter().any(|(c, _)| auth.actor.communities.contains(c)) {
        return Err(ApiError::NotFound);
    }
    serve(&state, blob, q.size.unwrap_or_default()).await
}

/// Activities, registrations, attendance and the integration figures of a period.
#[utoipa::path(get, path = "/api/v1/activities/summary", operation_id = "get_activities_summary", tag = "activities", params(PeriodQuery),
    responses((status = 200, description = "Figures")), security(("bearer" = [])))]
pub async fn get_activities_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    if !manage(&auth, c) && !auth.can(Action::ViewSummary, Scope::community(c)) {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(summary(&state, c, &q).await?))
}

pub(crate) async fn summary(state: &AppState, c: i64, q: &PeriodQuery) -> Result<Value, ApiError> {
    let (from, to) = period(state, q, 364, 0)?;
    let (start, end) = (beijing_start(from), beijing_start(to + Duration::days(1)));
    let list = state.store.activities(c, start, end).await?;
    let all = state.store.attendance(c, end).await?;
    let (earlier, during): (Vec<_>, Vec<_>) = all.into_iter().partition(|x| x.starts_at < start);
    let f = integration(&during, &earlier);
    // The trend: the mixing index month by month.
    let mut months: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    for a in &during {
        if let Some(m) = f.per_activity.get(&a.activity) {
            months
                .entry(a.starts_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m").to_string())
                .or_default()
                .push(*m);
        }
    }
    let trend: Vec<Value> = months.iter().map(|(m, v)| json!({"month": m, "mean_mixing_index": v.iter().sum::<f64>() / v.len() as f64, "activities": v.len()})).collect();
    let (never, sample) = state.store.households_never_attended(c, 50).await?;
    Ok(json!({
        "from": from, "to": to, "community_id": c,
        "activities": list.len(),
        "registrations": list.iter().map(|a| a.taken + a.waiting).sum::<i64>(),
        "attendance": list.iter().map(|a| a.attended).sum::<i64>(),
        // Registered with a place but not checked in by the end.
        "no_shows": list.iter().filter(|a| a.ends_at <= state.clock.now()).map(|a| (a.taken - a.attended).max(0)).sum::<i64>(),
        "integration": f,
        "trend": trend,
        "households_never_attended": never,
        "households_to_reach": sample.into_iter().map(|(id, address)| json!({"household_id": id, "address": address})).collect::<Vec<_>>(),
        "mixing_index_definition": "混合指数 = 1 − Σ pᵢ²，pᵢ 为参加者中来自第 i 个原社区的比例：随机抽两名参加者来自不同原社区的概率。0 表示全部来自同一社区，五个社区各占五分之一时为 0.8。",
    }))
}

/// Upcoming activities that suit the caller's household, by its members' tags and ages and the themes it joined.
#[utoipa::path(get, path = "/api/v1/activities/recommended", operation_id = "list_recommended_activities", tag = "activities",
    responses((status = 200, description = "Recommended activities")), security(("bearer" = [])))]
pub async fn list_recommended_activities(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(recommended(&state, &auth).await?)))
}

pub(crate) async fn recommended(state: &AppState, auth: &Auth) -> Result<Vec<Value>, ApiError> {
    let h = auth.actor.household.ok_or(ApiError::Forbidden)?;
    let home = state.store.household(h, state.clock.today()).await?;
    let now = state.clock.now();
    let joined: Vec<i64> = state.store.household_registrations(h).await?.into_iter().map(|g| g.activity_id).collect();
    let mut themes = std::collections::BTreeSet::new();
    for a in &joined {
        if let Ok(x) = state.store.activity(*a).await {
            themes.insert(x.series.clone());
            themes.insert(x.theme.clone());
        }
    }
    let mut out = Vec::new();
    for a in state.store.activities(home.community_id, now, now + Duration::days(62)).await? {
        let target = a.target();
        let who: Vec<String> =
            home.residents.iter().filter(|r| target.check(&r.tags, r.age).is_ok()).map(|r| r.name.clone()).collect();
        let open_to_all = target.tags.is_empty() && target.min_age.is_none() && target.max_age.is_none();
        let liked =
            (!a.series.is_empty() && themes.contains(&a.series)) || (!a.theme.is_empty() && themes.contains(&a.theme));
        if (!who.is_empty() && !open_to_all) || liked {
            let mut v = json!(a);
            v["for"] = json!(who);
            v["because"] = json!(if liked { "joined_before" } else { "target_group" });
            out.push(v);
        }
    }
    Ok(out)
}

/// Activities as iCalendar.
#[utoipa::path(get, path = "/api/v1/activities.ics", operation_id = "get_activity_calendar", tag = "activities",
    params(super::meetings::FeedQuery), responses((status = 200, description = "text/calendar")), security(("bearer" = [])))]
pub async fn get_activity_calendar(
    State(state): State<AppState>,
    crate::pages::MaybeAuth(auth): crate::pages::MaybeAuth,
    ApiQuery(q): ApiQuery<super::meetings::FeedQuery>,
) -> Result<Response, ApiError> {
    use icalendar::{Calendar, Component, Event, EventLike};
    let auth = feed_auth(&state, auth, &q).await?;
    let now = state.clock.now();
    let mut cal = Calendar::new();
    cal.name("吾家 · 社区活动");
    for c in auth.actor.communities.clone() {
        for a in state.store.activities(c, now - Duration::days(31), now + Duration::days(186)).await? {
            cal.push(
                Event::new()
                    .uid(&format!("activity-{}@wujia", a.id))
                    .summary(&a.title)
                    .starts(a.starts_at)
                    .ends(a.ends_at)
                    .location(&a.place)
                    .done(),
            );
        }
    }
    Ok(ics(cal.done()))
}

/// The attendance list as XLSX.
#[utoipa::path(get, path = "/api/v1/activities/{id}/attendance.xlsx", operation_id = "export_activity_attendance", tag = "activities",
    params(("id" = i64, Path, description = "Activity")), responses((status = 200, description = "XLSX")), security(("bearer" = [])))]
pub async fn export_activity_attendance(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let a = activity_for(&state, &auth, id).await?;
    auth.require(Action::ManageActivities, Scope::community(a.community_id))?;
    let rows: Vec<Vec<String>> = state
        .store
        .registrations(id)
        .await?
        .into_iter()
        .map(|g| {
            vec![
                g.name,
                g.address,
                g.origin.unwrap_or_default(),
                g.status,
                g.checked_in_at
                    .map(|t| t.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                g.stars.map(|s| s.to_string()).unwrap_or_default(),
                g.note,
            ]
        })
        .collect();
    let bytes = wujia_core::transfer::write_sheet(
        wujia_core::transfer::Format::Xlsx,
        &["姓名", "住址", "原社区", "状态", "签到时间", "评分", "备注"],
        &rows,
    )
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"activity-{id}-attendance.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}

/// Offers not confirmed in time pass to the next on the waiting list; run by the background jobs.
pub async fn expire_offers(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let mut n = 0;
    for (activity, rid) in state.store.expired_offers(now).await? {
        let a = state.store.activity(activity).await?;
        let g = state.store.registration(rid).await?;
        let change = wujia_store::Change {
            entity_id: a.id.to_string(),
            ..wujia_store::Change::system(now, Some(a.community_id), "activity.offer_expired")
        };
        match state
            .store
            .update_registration(
                &a,
                &g,
                RegistrationStatus::Cancelled,
                None,
                now + Duration::hours(OFFER_HOURS),
                change,
            )
            .await
        {
            Ok(offered) => {
                n += 1;
                if let Some(o) = offered {
                    notify_offer(state, &a, &o).await?;
                }
            }
            // Another node got there first.
            Err(wujia_store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}
