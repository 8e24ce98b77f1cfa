//! Patrols (吾家有治): zones and squads, checkpoints, plans, today's rounds on a phone, findings with photos, the
//! figures, and the calendar of a member's rounds. The use cases are `wujia_app::patrol`; this is their JSON face.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::form::PhotoForm;
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::Deserialize;
use wujia_app::patrol::{
    self, AddedCheckpoint, CheckIn, FindingReport, FindingView, FindingsQuery, NewCheckpoint, NewPlan, NewZone,
    NewZoneView, PatrolSummary, PlanView, RoundDetail, RoundView, RoundsQuery, ZoneView,
};
use wujia_app::period::PeriodQuery;

/// `?community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommunityQuery {
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// Zones with their squads and routes.
#[utoipa::path(get, path = "/api/v1/zones", operation_id = "list_zones", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "Zones", body = [ZoneView])), security(("bearer" = [])))]
pub async fn list_zones(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Vec<ZoneView>>, ApiError> {
    Ok(Json(patrol::zones(&state.app, &auth, q.community_id).await?))
}

/// Creates a zone.
#[utoipa::path(post, path = "/api/v1/zones", operation_id = "create_zone", tag = "patrol", request_body = NewZone,
    responses((status = 201, description = "Created", body = NewZoneView), (status = 409, description = "Name taken")), security(("bearer" = [])))]
pub async fn create_zone(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<NewZone>,
) -> Result<(StatusCode, Json<NewZoneView>), ApiError> {
    Ok((StatusCode::CREATED, Json(patrol::create_zone(&state.app, &auth, &b).await?)))
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
    patrol::set_member(&state.app, &auth, id, user_id, b.leader).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a checkpoint at the end of a zone's route; the answer carries the code to print on its QR sticker.
#[utoipa::path(post, path = "/api/v1/zones/{id}/checkpoints", operation_id = "create_checkpoint", tag = "patrol",
    params(("id" = i64, Path, description = "Zone")), request_body = NewCheckpoint,
    responses((status = 201, description = "Added", body = AddedCheckpoint)), security(("bearer" = [])))]
pub async fn create_checkpoint(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NewCheckpoint>,
) -> Result<(StatusCode, Json<AddedCheckpoint>), ApiError> {
    Ok((StatusCode::CREATED, Json(patrol::add_checkpoint(&state.app, &auth, id, &b).await?)))
}

/// Creates a plan; its rounds for the coming week are generated at once, later ones every day.
#[utoipa::path(post, path = "/api/v1/patrol/plans", operation_id = "create_patrol_plan", tag = "patrol", request_body = NewPlan,
    responses((status = 201, description = "Created", body = PlanView), (status = 422, description = "Invalid schedule")), security(("bearer" = [])))]
pub async fn create_patrol_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<NewPlan>,
) -> Result<(StatusCode, Json<PlanView>), ApiError> {
    Ok((StatusCode::CREATED, Json(patrol::create_plan(&state.app, &auth, &b).await?)))
}

/// Plans of a community.
#[utoipa::path(get, path = "/api/v1/patrol/plans", operation_id = "list_patrol_plans", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "Plans", body = [PlanView])), security(("bearer" = [])))]
pub async fn list_patrol_plans(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Vec<PlanView>>, ApiError> {
    Ok(Json(patrol::plans(&state.app, &auth, q.community_id).await?))
}

/// Rounds of a day (or a period), each with its status now.
#[utoipa::path(get, path = "/api/v1/patrol/rounds", operation_id = "list_patrol_rounds", tag = "patrol", params(RoundsQuery),
    responses((status = 200, description = "Rounds", body = [RoundView])), security(("bearer" = [])))]
pub async fn list_patrol_rounds(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RoundsQuery>,
) -> Result<Json<Vec<RoundView>>, ApiError> {
    Ok(Json(patrol::rounds(&state.app, &auth, &q).await?))
}

/// A round with its route, check-ins and checklist.
#[utoipa::path(get, path = "/api/v1/patrol/rounds/{id}", operation_id = "get_patrol_round", tag = "patrol",
    params(("id" = i64, Path, description = "Round")), responses((status = 200, description = "The round", body = RoundDetail)), security(("bearer" = [])))]
pub async fn get_patrol_round(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RoundDetail>, ApiError> {
    Ok(Json(patrol::round(&state.app, &auth, id).await?))
}

/// Checks in at a checkpoint of the round's zone.
#[utoipa::path(post, path = "/api/v1/patrol/rounds/{id}/checkins", operation_id = "create_patrol_checkin", tag = "patrol",
    params(("id" = i64, Path, description = "Round")), request_body = CheckIn,
    responses((status = 201, description = "Checked in", body = RoundView), (status = 422, description = "Not a checkpoint of this zone")), security(("bearer" = [])))]
pub async fn create_patrol_checkin(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckIn>,
) -> Result<(StatusCode, Json<RoundView>), ApiError> {
    Ok((StatusCode::CREATED, Json(patrol::check_in(&state.app, &auth, id, &b).await?.round)))
}

/// Finishes a round once every checkpoint is checked in.
#[utoipa::path(post, path = "/api/v1/patrol/rounds/{id}/completion", operation_id = "update_patrol_round", tag = "patrol",
    params(("id" = i64, Path, description = "Round")),
    responses((status = 200, description = "Finished", body = RoundView), (status = 409, description = "Checkpoints left or past its deadline")), security(("bearer" = [])))]
pub async fn update_patrol_round(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RoundView>, ApiError> {
    Ok(Json(patrol::finish(&state.app, &auth, id).await?))
}

/// A finding as its multipart form gives it; a present id that is not a number is refused naming its field.
pub(crate) fn finding_report(form: PhotoForm) -> Result<FindingReport, ApiError> {
    let text = |name: &str| form.text(name).map(str::to_string);
    Ok(FindingReport {
        kind: text("kind"),
        round_id: form.id("round_id")?,
        address: text("address"),
        household_id: form.id("household_id")?,
        unit_id: form.id("unit_id")?,
        building_id: form.id("building_id")?,
        place_text: text("place_text"),
        community_id: form.id("community_id")?,
        note: text("note"),
        fixed_on_spot: form.flag("fixed_on_spot"),
        client_id: text("client_id"),
        photos: form.photos,
    })
}

/// Records a finding (multipart: `kind`, `place_text`, `address` or `building_id`/`unit_id`/`household_id`, `note`,
/// `fixed_on_spot`, `round_id`, `client_id`, and up to four `photo` files). Not fixed on the spot, it opens a case.
#[utoipa::path(post, path = "/api/v1/patrol/findings", operation_id = "create_patrol_finding", tag = "patrol",
    request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 201, description = "Recorded", body = FindingView), (status = 200, description = "Already recorded with this client_id", body = FindingView),
        (status = 422, description = "Invalid fields"), (status = 415, description = "A photo is not an image"),
        (status = 413, description = "A photo is too large")), security(("bearer" = [])))]
pub async fn create_patrol_finding(
    State(state): State<AppState>,
    auth: Auth,
    multipart: Multipart,
) -> Result<(StatusCode, Json<FindingView>), ApiError> {
    let report = finding_report(PhotoForm::read(multipart).await?)?;
    let recorded = patrol::record_finding(&state.app, &auth, report).await?;
    let status = if recorded.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(recorded.finding)))
}

/// Findings, newest first.
#[utoipa::path(get, path = "/api/v1/patrol/findings", operation_id = "list_patrol_findings", tag = "patrol", params(FindingsQuery),
    responses((status = 200, description = "Findings", body = [FindingView])), security(("bearer" = [])))]
pub async fn list_patrol_findings(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> Result<Json<Vec<FindingView>>, ApiError> {
    Ok(Json(patrol::findings(&state.app, &auth, &q).await?))
}

/// One finding with its photos.
#[utoipa::path(get, path = "/api/v1/patrol/findings/{id}", operation_id = "get_patrol_finding", tag = "patrol",
    params(("id" = i64, Path, description = "Finding")), responses((status = 200, description = "The finding", body = FindingView)), security(("bearer" = [])))]
pub async fn get_patrol_finding(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FindingView>, ApiError> {
    Ok(Json(patrol::finding(&state.app, &auth, id).await?))
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
    patrol::may_see_photo(&state.app, &auth, &blob).await?;
    super::photos::serve(&state, blob, q.size.unwrap_or_default()).await
}

/// The order pillar's figures for a period: round completion by zone and shift, findings by type, zone and week,
/// the share fixed on the spot, time to rectify, recurrences, joint-meeting actions done on time, and the open
/// illegal-construction cases now.
#[utoipa::path(get, path = "/api/v1/patrol/summary", operation_id = "get_patrol_summary", tag = "patrol", params(PeriodQuery),
    responses((status = 200, description = "Figures", body = PatrolSummary)), security(("bearer" = [])))]
pub async fn get_patrol_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<PatrolSummary>, ApiError> {
    Ok(Json(patrol::summary(&state.app, &auth, &q).await?))
}
