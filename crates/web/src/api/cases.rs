//! Rectification cases (整改) and the zero-illegal-construction board (零违建), with building baselines. The use
//! cases are `wujia_app::patrol`; this is their JSON face.

use super::patrol::CommunityQuery;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::form::PhotoForm;
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use wujia_app::patrol::{self, BaselineView, Board, CaseDetail, CaseView, CasesQuery, StepReport};

/// Cases: open ones oldest first.
#[utoipa::path(get, path = "/api/v1/patrol/cases", operation_id = "list_patrol_cases", tag = "patrol", params(CasesQuery),
    responses((status = 200, description = "Cases", body = [CaseView])), security(("bearer" = [])))]
pub async fn list_patrol_cases(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CasesQuery>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    Ok(Json(patrol::cases(&state.app, &auth, &q).await?))
}

/// A case with its steps, the finding that opened it, and `actions`: the steps the caller may record now.
#[utoipa::path(get, path = "/api/v1/patrol/cases/{id}", operation_id = "get_patrol_case", tag = "patrol",
    params(("id" = i64, Path, description = "Case")), responses((status = 200, description = "The case", body = CaseDetail)), security(("bearer" = [])))]
pub async fn get_patrol_case(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CaseDetail>, ApiError> {
    Ok(Json(patrol::case(&state.app, &auth, id).await?))
}

/// A step as its multipart form gives it; a present id or version that is not a number is refused naming it.
pub(crate) fn step_report(form: PhotoForm) -> Result<StepReport, ApiError> {
    let text = |name: &str| form.text(name).map(str::to_string);
    Ok(StepReport {
        action: text("action"),
        outcome: text("outcome"),
        deadline: text("deadline"),
        handled_by: text("handled_by"),
        passed: form.flag("passed"),
        request_id: form.id("request_id")?,
        request_number: text("request_number"),
        note: text("note"),
        version: form.id("version")?,
        photos: form.photos,
    })
}

/// Records a step on a case (multipart): `action` = `visit` (with `outcome` refused/explained/agreed and, when
/// agreed, `deadline`), `handle` (with `handled_by` household/property/law_enforcement), `reinspect` (with `passed`
/// and a `photo`, required), `close`, or `link` (with `request_id`); `note`; `version` as last read.
#[utoipa::path(post, path = "/api/v1/patrol/cases/{id}/steps", operation_id = "create_case_step", tag = "patrol",
    params(("id" = i64, Path, description = "Case")), request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 201, description = "Recorded", body = CaseDetail), (status = 422, description = "Not allowed now"), (status = 409, description = "Changed meanwhile")),
    security(("bearer" = [])))]
pub async fn create_case_step(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<CaseDetail>), ApiError> {
    let report = step_report(PhotoForm::read(multipart).await?)?;
    Ok((StatusCode::CREATED, Json(patrol::record_step(&state.app, &auth, id, report).await?)))
}

/// The zero-illegal-construction board: open cases by compound and building with their age, and the trend over
/// twelve weeks.
#[utoipa::path(get, path = "/api/v1/patrol/board", operation_id = "get_patrol_board", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "The board", body = Board)), security(("bearer" = [])))]
pub async fn get_patrol_board(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Board>, ApiError> {
    Ok(Json(patrol::board(&state.app, &auth, q.community_id).await?))
}

/// Records a building's delivery-day baseline (multipart: `note` and an optional `photo`).
#[utoipa::path(post, path = "/api/v1/buildings/{id}/baselines", operation_id = "create_building_baseline", tag = "patrol",
    params(("id" = i64, Path, description = "Building")), request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 201, description = "Recorded; the building's baselines", body = [BaselineView])), security(("bearer" = [])))]
pub async fn create_building_baseline(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Vec<BaselineView>>), ApiError> {
    let form = PhotoForm::read(multipart).await?;
    let list = patrol::add_baseline(&state.app, &auth, id, form.text("note"), form.photos.clone()).await?;
    Ok((StatusCode::CREATED, Json(list)))
}

/// A building's baselines, with its cases, to compare against.
#[utoipa::path(get, path = "/api/v1/buildings/{id}/baselines", operation_id = "list_building_baselines", tag = "patrol",
    params(("id" = i64, Path, description = "Building")), responses((status = 200, description = "Baselines", body = [BaselineView])), security(("bearer" = [])))]
pub async fn list_building_baselines(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<BaselineView>>, ApiError> {
    Ok(Json(patrol::baselines(&state.app, &auth, id).await?))
}
