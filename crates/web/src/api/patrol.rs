//! Patrols (吾家有治): zones and squads, checkpoints, plans, today's rounds on a phone, findings with photos, the
//! figures, and the calendar of a member's rounds.

use super::photos::take_in;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::form::{PhotoForm, field_error};
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::patrol::plans::{RoundStatus, Schedule, may_check_in, may_finish};
use wujia_core::patrol::{FindingType, Place};
use wujia_store::{Finding, FindingFilter, NewFinding, Round, Zone};

/// Photos one finding may carry.
pub(crate) const FINDING_PHOTOS: usize = 4;

/// `?community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommunityQuery {
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// The community the caller works in, if they may see patrols there.
pub(crate) fn patrol_community(auth: &Auth, requested: Option<i64>) -> Result<i64, ApiError> {
    let c = auth.community(requested)?;
    if auth.can(Action::ViewPatrol, Scope::community(c)) || auth.can(Action::PatrolRounds, Scope::community(c)) {
        Ok(c)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Zones with their squads and routes.
#[utoipa::path(get, path = "/api/v1/zones", operation_id = "list_zones", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "Zones")), security(("bearer" = [])))]
pub async fn list_zones(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = patrol_community(&auth, q.community_id)?;
    let mut out = Vec::new();
    for z in state.store.zones(c).await? {
        let members = state.store.zone_members(z.id).await?;
        let checkpoints = state.store.checkpoints(z.id).await?;
        out.push(json!({"id": z.id, "name": z.name, "members": members, "checkpoints": checkpoints}));
    }
    Ok(Json(json!(out)))
}

/// A zone to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ZoneBody {
    /// Name, e.g. 一片区（1–3号院）.
    pub name: String,
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// Creates a zone.
#[utoipa::path(post, path = "/api/v1/zones", operation_id = "create_zone", tag = "patrol", request_body = ZoneBody,
    responses((status = 201, description = "Created"), (status = 409, description = "Name taken")), security(("bearer" = [])))]
pub async fn create_zone(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ZoneBody>,
) -> Result<(StatusCode, Json<Zone>), ApiError> {
    let c = auth.community(b.community_id)?;
    auth.require(Action::ManagePatrol, Scope::community(c))?;
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(ApiError::field("name", "请填写片区名称（最多 40 字）/ name the zone (at most 40 characters)"));
    }
    let z = state.store.create_zone(c, name, auth.change(&state, "zone.create", Some(c))).await?;
    Ok((StatusCode::CREATED, Json(z)))
}

/// A squad membership.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MemberBody {
    /// Leads the squad; missed rounds are flagged to leaders.
    #[serde(default)]
    pub leader: bool,
}

/// Adds an account (staff, patrol member or volunteer) to a zone's squad, or changes whether it leads.
#[utoipa::path(put, path = "/api/v1/zones/{id}/members/{user_id}", operation_id = "update_zone_member", tag = "patrol",
    params(("id" = i64, Path, description = "Zone"), ("user_id" = i64, Path, description = "Account")), request_body = MemberBody,
    responses((status = 204, description = "Saved")), security(("bearer" = [])))]
pub async fn update_zone_member(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<MemberBody>,
) -> Result<StatusCode, ApiError> {
    let z = state.store.zone(id).await?;
    auth.require(Action::ManagePatrol, Scope::community(z.community_id))?;
    state
        .store
        .set_zone_member(&z, user_id, b.leader, auth.change(&state, "zone.member", Some(z.community_id)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A checkpoint to add to a zone's route.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckpointBody {
    /// Name, e.g. 3号院7号楼1单元.
    pub name: String,
    /// The building it stands at.
    pub building_id: Option<i64>,
}

/// Adds a checkpoint at the end of a zone's route; the answer carries the code to print on its QR sticker.
#[utoipa::path(post, path = "/api/v1/zones/{id}/checkpoints", operation_id = "create_checkpoint", tag = "patrol",
    params(("id" = i64, Path, description = "Zone")), request_body = CheckpointBody,
    responses((status = 201, description = "Added")), security(("bearer" = [])))]
pub async fn create_checkpoint(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckpointBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let cp = add_checkpoint(&state, &auth, id, &b).await?;
    Ok((StatusCode::CREATED, Json(json!({"checkpoint": cp, "scan_url": format!("/patrol/scan/{}", cp.code)}))))
}

/// Checks and adds a checkpoint to a zone's route.
pub(crate) async fn add_checkpoint(
    state: &AppState,
    auth: &Auth,
    id: i64,
    b: &CheckpointBody,
) -> Result<wujia_store::Checkpoint, ApiError> {
    let z = state.store.zone(id).await?;
    auth.require(Action::ManagePatrol, Scope::community(z.community_id))?;
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::field(
            "name",
            "请填写巡查点名称（最多 60 字）/ name the checkpoint (at most 60 characters)",
        ));
    }
    let code = crate::auth::new_token(8);
    Ok(state
        .store
        .create_checkpoint(
            &z,
            name,
            b.building_id,
            &code,
            auth.change(state, "checkpoint.create", Some(z.community_id)),
        )
        .await?)
}

/// A plan to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PlanBody {
    /// The zone patrolled.
    pub zone_id: i64,
    /// Name, e.g. 早晚巡查.
    pub name: String,
    /// Start times, Beijing time, e.g. `["07:30", "19:00"]`.
    pub times: Vec<String>,
    /// ISO weekdays, 1 = Monday … 7 = Sunday; default every day.
    pub weekdays: Option<Vec<u8>>,
    /// Minutes to finish a round (default 120).
    pub window_minutes: Option<u32>,
    /// Finding type codes to check; default all.
    pub checklist: Option<Vec<String>>,
}

/// Creates a plan; its rounds for the coming week are generated at once, later ones every day.
#[utoipa::path(post, path = "/api/v1/patrol/plans", operation_id = "create_patrol_plan", tag = "patrol", request_body = PlanBody,
    responses((status = 201, description = "Created"), (status = 422, description = "Invalid schedule")), security(("bearer" = [])))]
pub async fn create_patrol_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PlanBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let plan = plan(&state, &auth, &b).await?;
    Ok((StatusCode::CREATED, Json(plan_json(&plan))))
}

/// Checks and creates a plan, and generates its rounds for the coming week.
pub(crate) async fn plan(state: &AppState, auth: &Auth, b: &PlanBody) -> Result<wujia_store::Plan, ApiError> {
    let z = state.store.zone(b.zone_id).await.map_err(|_| ApiError::field("zone_id", "片区不存在 / unknown zone"))?;
    auth.require(Action::ManagePatrol, Scope::community(z.community_id))?;
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::field("name", "请填写计划名称 / name the plan"));
    }
    let schedule = Schedule::parse(
        &b.times,
        &b.weekdays.clone().unwrap_or_else(|| (1..=7).collect()),
        b.window_minutes.unwrap_or(120),
    )
    .map_err(field_error)?;
    let checklist: Vec<String> = match &b.checklist {
        None => FindingType::checklist().into_iter().map(|t| t.code().to_string()).collect(),
        Some(list) => {
            if let Some(bad) = list.iter().find(|c| FindingType::parse(c).is_none()) {
                return Err(ApiError::field("checklist", format!("未知检查项 {bad} / unknown item")));
            }
            list.clone()
        }
    };
    let plan = state
        .store
        .create_plan(&z, name, &schedule, &checklist, auth.change(state, "patrol_plan.create", Some(z.community_id)))
        .await?;
    let today = state.clock.today();
    state.store.ensure_rounds(today, today + Duration::days(7)).await?;
    Ok(plan)
}

fn plan_json(p: &wujia_store::Plan) -> Value {
    json!({"id": p.id, "zone_id": p.zone_id, "name": p.name, "times": serde_json::from_str::<Value>(&p.times).unwrap_or_default(),
        "weekdays": serde_json::from_str::<Value>(&p.weekdays).unwrap_or_default(), "window_minutes": p.window_minutes,
        "checklist": p.checklist_codes(), "active": p.active})
}

/// Plans of a community.
#[utoipa::path(get, path = "/api/v1/patrol/plans", operation_id = "list_patrol_plans", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "Plans")), security(("bearer" = [])))]
pub async fn list_patrol_plans(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = patrol_community(&auth, q.community_id)?;
    Ok(Json(json!(state.store.plans(c).await?.iter().map(plan_json).collect::<Vec<_>>())))
}

/// `?date=&from=&to=&zone_id=&mine=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundsQuery {
    /// One Beijing date (`2024-06-03`); default today.
    pub date: Option<String>,
    /// From this date (with `to`).
    pub from: Option<String>,
    /// To this date, inclusive.
    pub to: Option<String>,
    /// One zone.
    pub zone_id: Option<i64>,
    /// Only the zones the caller patrols.
    pub mine: Option<bool>,
    /// The community.
    pub community_id: Option<i64>,
}

pub(crate) fn parse_date(field: &str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::field(field, "日期格式应为 2024-06-03 / a date like 2024-06-03"))
}

/// Rounds with their status as of now.
pub(crate) fn round_json(r: &Round, now: chrono::DateTime<chrono::Utc>) -> Value {
    let status = RoundStatus::of(usize::try_from(r.checked).unwrap_or(0), r.completed_at, r.due_at, now);
    let mut v = json!(r);
    v["status"] = json!(status.code());
    v
}

/// Rounds of a day (or a period), each with its status now.
#[utoipa::path(get, path = "/api/v1/patrol/rounds", operation_id = "list_patrol_rounds", tag = "patrol", params(RoundsQuery),
    responses((status = 200, description = "Rounds")), security(("bearer" = [])))]
pub async fn list_patrol_rounds(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RoundsQuery>,
) -> Result<Json<Value>, ApiError> {
    let rounds = rounds_for(&state, &auth, &q).await?;
    let now = state.clock.now();
    Ok(Json(json!(rounds.iter().map(|r| round_json(r, now)).collect::<Vec<_>>())))
}

/// The rounds a query asks for, limited to the caller's zones for squad members.
pub(crate) async fn rounds_for(state: &AppState, auth: &Auth, q: &RoundsQuery) -> Result<Vec<Round>, ApiError> {
    let c = patrol_community(auth, q.community_id)?;
    let today = state.clock.today();
    let (from, to) = match (&q.date, &q.from, &q.to) {
        (Some(d), _, _) => {
            let d = parse_date("date", d)?;
            (d, d)
        }
        (None, Some(f), Some(t)) => (parse_date("from", f)?, parse_date("to", t)?),
        _ => (today, today),
    };
    if to < from || (to - from).num_days() > 92 {
        return Err(ApiError::field("to", "期间应在 93 天以内且不早于开始日期 / at most 93 days, not before from"));
    }
    let mut rounds = state.store.rounds(c, q.zone_id, from, to).await?;
    let squad_only = !auth.can(Action::ViewPatrol, Scope::community(c));
    if q.mine.unwrap_or(false) || squad_only {
        let mine = state.store.zones_of(auth.user.id).await?;
        rounds.retain(|r| mine.contains(&r.zone_id));
    }
    Ok(rounds)
}

/// May this account walk rounds of this zone? Staff and social workers may walk any zone of their community;
/// patrol members and volunteers only their squad's.
pub(crate) async fn may_walk(state: &AppState, auth: &Auth, community: i64, zone: i64) -> Result<(), ApiError> {
    auth.require(Action::PatrolRounds, Scope::community(community))?;
    if matches!(auth.role(), Role::Patrol | Role::Volunteer)
        && !state.store.zones_of(auth.user.id).await?.contains(&zone)
    {
        return Err(ApiError::Forbidden);
    }
    Ok(())
}

/// A round with its route, check-ins and checklist.
#[utoipa::path(get, path = "/api/v1/patrol/rounds/{id}", operation_id = "get_patrol_round", tag = "patrol",
    params(("id" = i64, Path, description = "Round")), responses((status = 200, description = "The round")), security(("bearer" = [])))]
pub async fn get_patrol_round(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = state.store.round(id).await?;
    if !auth.can(Action::ViewPatrol, Scope::community(r.community_id)) {
        may_walk(&state, &auth, r.community_id, r.zone_id).await.map_err(|_| ApiError::NotFound)?;
    }
    let plan = state.store.plan(r.plan_id).await?;
    let checkins = state.store.checkins(id).await?;
    let findings = state.store.round_findings(id).await?;
    let mut v = round_json(&r, state.clock.now());
    v["checkpoints"] = json!(state.store.checkpoints(r.zone_id).await?);
    v["checkins"] = json!(checkins);
    v["checklist"] = json!(plan.checklist_codes());
    v["findings"] = json!(findings);
    Ok(Json(v))
}

/// A check-in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckinBody {
    /// The checkpoint tapped on the list …
    pub checkpoint_id: Option<i64>,
    /// … or the code read from its QR sticker.
    pub code: Option<String>,
    /// Checklist items that are fine here (type codes).
    #[serde(default)]
    pub checklist: Vec<String>,
}

/// Checks in at a checkpoint of the round's zone.
#[utoipa::path(post, path = "/api/v1/patrol/rounds/{id}/checkins", operation_id = "create_patrol_checkin", tag = "patrol",
    params(("id" = i64, Path, description = "Round")), request_body = CheckinBody,
    responses((status = 201, description = "Checked in"), (status = 422, description = "Not a checkpoint of this zone")), security(("bearer" = [])))]
pub async fn create_patrol_checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckinBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let r = check_in(&state, &auth, id, &b).await?;
    Ok((StatusCode::CREATED, Json(round_json(&r, state.clock.now()))))
}

/// Checks and records a check-in; returns the round after it.
pub(crate) async fn check_in(state: &AppState, auth: &Auth, id: i64, b: &CheckinBody) -> Result<Round, ApiError> {
    let r = state.store.round(id).await?;
    may_walk(state, auth, r.community_id, r.zone_id).await?;
    let (cp, method) = match (&b.code, b.checkpoint_id) {
        (Some(code), _) if !code.trim().is_empty() => (
            state
                .store
                .checkpoint_by_code(code.trim())
                .await
                .map_err(|_| ApiError::field("code", "无法识别的巡查点二维码 / unknown checkpoint code"))?,
            "qr",
        ),
        (_, Some(cp)) => (
            state
                .store
                .checkpoint(cp)
                .await
                .map_err(|_| ApiError::field("checkpoint_id", "巡查点不存在 / unknown checkpoint"))?,
            "tap",
        ),
        _ => return Err(ApiError::field("checkpoint_id", "请选择或扫描巡查点 / choose or scan a checkpoint")),
    };
    if cp.zone_id != r.zone_id {
        let field = if method == "qr" { "code" } else { "checkpoint_id" };
        return Err(ApiError::field(field, "该巡查点不属于本片区 / this checkpoint belongs to another zone"));
    }
    if let Some(bad) = b.checklist.iter().find(|c| FindingType::parse(c).is_none()) {
        return Err(ApiError::field("checklist", format!("未知检查项 {bad} / unknown item")));
    }
    let now = state.clock.now();
    may_check_in(r.starts_at, r.due_at, r.completed_at.is_some(), now)
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    state
        .store
        .check_in(&r, &cp, method, &b.checklist, auth.change(state, "round.checkin", Some(r.community_id)))
        .await?;
    Ok(state.store.round(id).await?)
}

/// Finishes a round once every checkpoint is checked in.
#[utoipa::path(post, path = "/api/v1/patrol/rounds/{id}/completion", operation_id = "update_patrol_round", tag = "patrol",
    params(("id" = i64, Path, description = "Round")),
    responses((status = 200, description = "Finished"), (status = 409, description = "Checkpoints left or past its deadline")), security(("bearer" = [])))]
pub async fn update_patrol_round(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = finish(&state, &auth, id).await?;
    Ok(Json(round_json(&r, state.clock.now())))
}

/// Checks and records the end of a round.
pub(crate) async fn finish(state: &AppState, auth: &Auth, id: i64) -> Result<Round, ApiError> {
    let r = state.store.round(id).await?;
    may_walk(state, auth, r.community_id, r.zone_id).await?;
    let checked = usize::try_from(r.checked).unwrap_or(0);
    let total = usize::try_from(r.checkpoints).unwrap_or(0);
    may_finish(r.starts_at, r.due_at, r.completed_at.is_some(), checked, total, state.clock.now())
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    Ok(state.store.finish_round(&r, auth.change(state, "round.finish", Some(r.community_id))).await?)
}

/// Records a finding (multipart: `kind`, `place_text` or `building_id`/`unit_id`/`household_id`, `note`,
/// `fixed_on_spot`, `round_id`, `client_id`, and up to four `photo` files). Not fixed on the spot, it opens a case.
#[utoipa::path(post, path = "/api/v1/patrol/findings", operation_id = "create_patrol_finding", tag = "patrol",
    request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 201, description = "Recorded"), (status = 200, description = "Already recorded with this client_id"),
        (status = 422, description = "Invalid fields"), (status = 415, description = "A photo is not an image"),
        (status = 413, description = "A photo is too large")), security(("bearer" = [])))]
pub async fn create_patrol_finding(
    State(state): State<AppState>,
    auth: Auth,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let form = PhotoForm::read(multipart).await?;
    let (f, created) = record_finding(&state, &auth, &form).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(finding_json(&state, &f).await?)))
}

/// Checks a finding form and records it; `false` when it was recorded before under the same `client_id`.
pub(crate) async fn record_finding(
    state: &AppState,
    auth: &Auth,
    form: &PhotoForm,
) -> Result<(Finding, bool), ApiError> {
    let kind = form
        .text("kind")
        .and_then(FindingType::parse)
        .ok_or_else(|| ApiError::field("kind", "请选择问题类型 / choose the kind of problem"))?;
    let round = match form.id("round_id")? {
        Some(id) => Some(
            state.store.round(id).await.map_err(|_| ApiError::field("round_id", "巡查轮次不存在 / unknown round"))?,
        ),
        None => None,
    };
    // A household typed as an address on the phone (`3-7-1-102`, `3号院7号楼1单元102`) is looked up, by address
    // only and for someone who may record findings there: a phone, an ID number or a name never becomes a home.
    let typed = match form.text("address") {
        Some(text) => {
            let c = match &round {
                Some(r) => r.community_id,
                None => auth.community(form.id("community_id")?)?,
            };
            auth.require(Action::PatrolRounds, Scope::community(c))?;
            let hits = state.store.households_at_address(c, text, 5).await?;
            let mut ids: Vec<i64> = hits.iter().map(|h| h.household_id).collect();
            ids.dedup();
            match ids.as_slice() {
                [one] => Some(*one),
                [] => {
                    return Err(ApiError::field(
                        "address",
                        "找不到这个住户地址，请写成 1-2-1-101 或 1号院2号楼1单元101，公共区域请写在地点里 / no household at this \
                         address: write it as 1-2-1-101, or name a public place",
                    ));
                }
                _ => {
                    return Err(ApiError::field(
                        "address",
                        "地址不完整，请写到门牌号 / give the full address down to the room",
                    ));
                }
            }
        }
        None => None,
    };
    // A household or unit chosen implies its building; look them up so that ids cannot be mixed across places.
    let household = match typed.map(Some).map_or_else(|| form.id("household_id"), Ok)? {
        Some(h) => Some(
            state
                .store
                .household(h, state.clock.today())
                .await
                .map_err(|_| ApiError::field("household_id", "住户不存在 / unknown household"))?,
        ),
        None => None,
    };
    let (building_id, unit_id) = match &household {
        Some(h) => (Some(h.building_id), Some(h.unit_id)),
        None => match form.id("unit_id")? {
            Some(u) => {
                let (_, b) =
                    state.store.unit(u).await.map_err(|_| ApiError::field("unit_id", "单元不存在 / unknown unit"))?;
                (Some(b), Some(u))
            }
            None => (form.id("building_id")?, None),
        },
    };
    let building = match building_id {
        Some(b) => Some(
            state
                .store
                .building(b)
                .await
                .map_err(|_| ApiError::field("building_id", "楼栋不存在 / unknown building"))?,
        ),
        None => None,
    };
    let (place, text) =
        Place::from_parts(form.text("place_text"), building_id, unit_id, household.as_ref().map(|h| h.id))
            .map_err(|e| ApiError::field("place", e.to_string()))?;
    let community = match (&round, &building) {
        (Some(r), _) => r.community_id,
        (None, Some(b)) => b.community_id,
        (None, None) => auth.community(form.id("community_id")?)?,
    };
    if building.as_ref().is_some_and(|b| b.community_id != community) {
        return Err(ApiError::field("building_id", "楼栋不在本社区 / the building is in another community"));
    }
    let zone_id = round.as_ref().map(|r| r.zone_id).or_else(|| building.as_ref().and_then(|b| b.zone_id));
    match zone_id {
        Some(z) if round.is_some() => may_walk(state, auth, community, z).await?,
        _ => auth.require(Action::PatrolRounds, Scope::community(community))?,
    }
    let note = form.text("note").unwrap_or_default().to_string();
    if note.chars().count() > 500 {
        return Err(ApiError::field("note", "备注最多 500 字 / at most 500 characters"));
    }
    let client_id = form.text("client_id").map(str::to_string);
    if client_id.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(ApiError::field("client_id", "最多 64 个字符 / at most 64 characters"));
    }
    if form.photos.len() > FINDING_PHOTOS {
        return Err(ApiError::field("photo", "每条问题最多 4 张照片 / at most 4 photos per finding"));
    }
    // Every photo is checked before anything is kept, so a bad photo leaves nothing behind.
    let mut cleaned = Vec::with_capacity(form.photos.len());
    for p in &form.photos {
        cleaned.push(take_in(p.clone()).await?);
    }
    let mut photos = Vec::with_capacity(cleaned.len());
    for clean in cleaned {
        let kept = super::photos::keep(state, clean).await?;
        photos.push((kept.blob.clone(), kept.media_type().to_string(), kept.size));
    }
    let place_text = match (&household, &building) {
        (Some(h), _) => h.address.clone(),
        (None, Some(b)) if text.is_empty() => format!("{}{}号楼", b.compound_name, b.number),
        (None, Some(b)) => format!("{}{}号楼 · {text}", b.compound_name, b.number),
        _ => text,
    };
    let community_code =
        state.store.communities().await?.into_iter().find(|c| c.id == community).map(|c| c.code).unwrap_or_default();
    let new = NewFinding {
        community_id: community,
        zone_id,
        round_id: round.as_ref().map(|r| r.id),
        kind: kind.code().into(),
        illegal: kind.is_illegal_construction(),
        place_kind: place.kind().into(),
        place_key: place.key(),
        place_text,
        building_id,
        unit_id,
        household_id: household.as_ref().map(|h| h.id),
        note,
        fixed_on_spot: form.flag("fixed_on_spot"),
        client_id,
        photos,
        community_code,
    };
    Ok(state.store.record_finding(&new, auth.change(state, "finding.create", Some(community))).await?)
}

async fn finding_json(state: &AppState, f: &Finding) -> Result<Value, ApiError> {
    let photos = state.store.finding_photos(f.id).await?;
    let mut v = json!(f);
    v["photos"] = json!(photos.iter().map(|p| format!("/api/v1/patrol/photos/{}", p.blob)).collect::<Vec<_>>());
    Ok(v)
}

/// `?kind=&zone_id=&building_id=&from=&to=&limit=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// Type code.
    pub kind: Option<String>,
    /// Zone.
    pub zone_id: Option<i64>,
    /// Building.
    pub building_id: Option<i64>,
    /// From this Beijing date.
    pub from: Option<String>,
    /// To this Beijing date, inclusive.
    pub to: Option<String>,
    /// At most (default 100).
    pub limit: Option<i64>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Findings, newest first.
#[utoipa::path(get, path = "/api/v1/patrol/findings", operation_id = "list_patrol_findings", tag = "patrol", params(FindingsQuery),
    responses((status = 200, description = "Findings")), security(("bearer" = [])))]
pub async fn list_patrol_findings(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    let start =
        |field: &str, s: &Option<String>, days: i64| -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
            s.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| parse_date(field, s).map(|d| beijing_start(d + Duration::days(days))))
                .transpose()
        };
    let filter = FindingFilter {
        kind: q.kind.clone().filter(|k| !k.is_empty()),
        zone_id: q.zone_id,
        building_id: q.building_id,
        from: start("from", &q.from, 0)?,
        to: start("to", &q.to, 1)?,
        limit: q.limit.unwrap_or(100),
    };
    let mut out = Vec::new();
    for f in state.store.findings(c, &filter).await? {
        out.push(finding_json(&state, &f).await?);
    }
    Ok(Json(json!(out)))
}

/// Midnight at the start of a Beijing date, in UTC.
pub(crate) fn beijing_start(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("Beijing midnight exists")
        .with_timezone(&chrono::Utc)
}

/// One finding with its photos.
#[utoipa::path(get, path = "/api/v1/patrol/findings/{id}", operation_id = "get_patrol_finding", tag = "patrol",
    params(("id" = i64, Path, description = "Finding")), responses((status = 200, description = "The finding")), security(("bearer" = [])))]
pub async fn get_patrol_finding(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let f = state.store.finding(id).await?;
    if !auth.can(Action::ViewPatrol, Scope::community(f.community_id)) && f.recorded_by != auth.user.id {
        return Err(ApiError::NotFound);
    }
    Ok(Json(finding_json(&state, &f).await?))
}

/// A patrol photo (finding, re-inspection or baseline), for those who may see patrols of its community.
#[utoipa::path(get, path = "/api/v1/patrol/photos/{blob}", operation_id = "get_patrol_photo", tag = "patrol",
    params(("blob" = String, Path, description = "SHA-256 of the photo"), super::photos::PhotoQuery),
    responses((status = 200, description = "The image, `inline` with a safe file name", content_type = "image/jpeg")),
    security(("bearer" = [])))]
pub async fn get_patrol_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(blob): ApiPath<String>,
    ApiQuery(q): ApiQuery<super::photos::PhotoQuery>,
) -> Result<axum::response::Response, ApiError> {
    let owners = state.store.patrol_photo_owners(&blob).await?;
    let allowed = owners.iter().any(|(c, _)| {
        auth.can(Action::ViewPatrol, Scope::community(*c)) || auth.can(Action::PatrolRounds, Scope::community(*c))
    });
    if !allowed {
        return Err(ApiError::NotFound);
    }
    super::photos::serve(&state, blob, q.size.unwrap_or_default()).await
}

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First Beijing date (default: 30 days ago).
    pub from: Option<String>,
    /// Last Beijing date, inclusive (default: today).
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// The order pillar's figures for a period: round completion by zone and shift, findings by type, zone and week,
/// the share fixed on the spot, time to rectify, recurrences, joint-meeting actions done on time, and the open
/// illegal-construction cases now.
#[utoipa::path(get, path = "/api/v1/patrol/summary", operation_id = "get_patrol_summary", tag = "patrol", params(SummaryQuery),
    responses((status = 200, description = "Figures")), security(("bearer" = [])))]
pub async fn get_patrol_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    Ok(Json(summary(&state, c, q.from.as_deref(), q.to.as_deref()).await?))
}

/// The figures as JSON, shared with the figures page.
pub(crate) async fn summary(state: &AppState, c: i64, from: Option<&str>, to: Option<&str>) -> Result<Value, ApiError> {
    let today = state.clock.today();
    let to = to.filter(|s| !s.is_empty()).map(|s| parse_date("to", s)).transpose()?.unwrap_or(today);
    let from =
        from.filter(|s| !s.is_empty()).map(|s| parse_date("from", s)).transpose()?.unwrap_or(to - Duration::days(29));
    if to < from || (to - from).num_days() > 731 {
        return Err(ApiError::field("to", "期间应在两年以内且不早于开始日期 / at most two years, not before from"));
    }
    let facts = state.store.patrol_facts(c, from, to).await?;
    let f = wujia_core::patrol::figures::figures(
        &facts.rounds,
        &facts.findings,
        &facts.closed_cases,
        &facts.actions,
        state.clock.now(),
    );
    let mut v = json!(f);
    v["from"] = json!(from);
    v["to"] = json!(to);
    v["community_id"] = json!(c);
    v["open_illegal_construction_cases"] = json!(facts.open_illegal);
    Ok(v)
}
