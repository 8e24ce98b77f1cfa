//! Rectification cases (整改) and the zero-illegal-construction board (零违建), with building baselines.

use super::patrol::CommunityQuery;
use super::photos::take_in;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiPath, ApiQuery};
use crate::form::{PhotoForm, field_error};
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Scope};
use wujia_core::patrol::cases::{
    CaseCommand, CaseError, CaseStatus, CaseStep, HandledBy, VisitOutcome, available_steps, decide,
    may_record_case_step, may_view_case,
};
use wujia_store::{Case, CaseUpdate};

/// `?open=&building_id=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// Only open cases (default true).
    pub open: Option<bool>,
    /// One building.
    pub building_id: Option<i64>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Cases: open ones oldest first.
#[utoipa::path(get, path = "/api/v1/patrol/cases", operation_id = "list_patrol_cases", tag = "patrol", params(CasesQuery),
    responses((status = 200, description = "Cases")), security(("bearer" = [])))]
pub async fn list_patrol_cases(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CasesQuery>,
) -> Result<Json<Vec<Case>>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    let mut cases = state.store.cases(c, q.open.unwrap_or(true), q.building_id, 500).await?;
    cases.retain(|case| may_view_case(&auth.actor, case.community_id, handled_by(case)));
    Ok(Json(cases))
}

/// A case with its steps, the finding that opened it, and `actions`: the steps the caller may record now.
#[utoipa::path(get, path = "/api/v1/patrol/cases/{id}", operation_id = "get_patrol_case", tag = "patrol",
    params(("id" = i64, Path, description = "Case")), responses((status = 200, description = "The case")), security(("bearer" = [])))]
pub async fn get_patrol_case(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(case_json(&state, &auth, id).await?))
}

/// Who a case is handed to.
pub(crate) fn handled_by(c: &Case) -> Option<HandledBy> {
    c.handled_by.as_deref().and_then(HandledBy::parse)
}

fn status_of(c: &Case) -> Result<CaseStatus, ApiError> {
    CaseStatus::parse(&c.status).ok_or_else(|| ApiError::Internal(format!("unknown case status {}", c.status)))
}

/// The steps the caller may record now on a case.
pub(crate) fn steps_open(auth: &Auth, c: &Case) -> Result<Vec<CaseStep>, ApiError> {
    Ok(available_steps(&auth.actor, c.community_id, handled_by(c), status_of(c)?))
}

pub(crate) async fn case_json(state: &AppState, auth: &Auth, id: i64) -> Result<Value, ApiError> {
    let c = state.store.case(id).await?;
    if !may_view_case(&auth.actor, c.community_id, handled_by(&c)) {
        return Err(ApiError::NotFound);
    }
    let actions = steps_open(auth, &c)?;
    let steps = state.store.case_steps(id).await?;
    let finding = state.store.finding(c.finding_id).await?;
    let photos = state.store.finding_photos(c.finding_id).await?;
    let mut v = json!(c);
    v["steps"] = json!(
        steps
            .iter()
            .map(|s| {
                let mut j = json!(s);
                j["photo"] = json!(s.photo_blob.as_ref().map(|b| format!("/api/v1/patrol/photos/{b}")));
                j
            })
            .collect::<Vec<_>>()
    );
    v["finding"] = json!(finding);
    v["finding_photos"] = json!(photos.iter().map(|p| format!("/api/v1/patrol/photos/{}", p.blob)).collect::<Vec<_>>());
    v["visits"] = json!(steps.iter().filter(|s| s.kind == "visit").count());
    v["actions"] = json!(actions);
    Ok(v)
}

/// Records a step on a case (multipart): `action` = `visit` (with `outcome` refused/explained/agreed and, when
/// agreed, `deadline`), `handle` (with `handled_by` household/property/law_enforcement), `reinspect` (with `passed`
/// and a `photo`, required), `close`, or `link` (with `request_id`); `note`; `version` as last read.
#[utoipa::path(post, path = "/api/v1/patrol/cases/{id}/steps", operation_id = "create_case_step", tag = "patrol",
    params(("id" = i64, Path, description = "Case")), request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 201, description = "Recorded"), (status = 422, description = "Not allowed now"), (status = 409, description = "Changed meanwhile")),
    security(("bearer" = [])))]
pub async fn create_case_step(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let form = PhotoForm::read(multipart).await?;
    step(&state, &auth, id, &form).await?;
    Ok((StatusCode::CREATED, Json(case_json(&state, &auth, id).await?)))
}

/// Checks a step with the case rules and records it.
pub(crate) async fn step(state: &AppState, auth: &Auth, id: i64, form: &PhotoForm) -> Result<Case, ApiError> {
    let c = state.store.case(id).await?;
    if !may_view_case(&auth.actor, c.community_id, handled_by(&c)) {
        return Err(ApiError::NotFound);
    }
    let reinspection = form.text("action") == Some("reinspect");
    if !may_record_case_step(&auth.actor, c.community_id, handled_by(&c), reinspection) {
        return Err(ApiError::Forbidden);
    }
    if let Some(v) = form.id("version")?
        && v != c.version
    {
        return Err(ApiError::Conflict("案件已被他人更新，请刷新 / the case was changed by someone else".into()));
    }
    let status = status_of(&c)?;
    let note = form.text("note").unwrap_or_default().to_string();
    if note.chars().count() > 1000 {
        return Err(ApiError::field("note", "说明最多 1000 字 / at most 1000 characters"));
    }
    if form.photos.len() > 1 {
        return Err(ApiError::field("photo", "每一步最多 1 张照片 / one photo per step"));
    }
    let today = state.clock.today();
    let action = form.text("action").unwrap_or_default();
    let (command, kind, outcome, deadline, handled_by, request_id) = match action {
        "visit" => {
            let outcome = form.text("outcome").and_then(VisitOutcome::parse).ok_or_else(|| {
                ApiError::field("outcome", "请选择走访结果：拒绝、已解释或同意 / choose refused, explained or agreed")
            })?;
            let deadline = form.text("deadline").map(|d| super::patrol::parse_date("deadline", d)).transpose()?;
            (CaseCommand::Visit { outcome, deadline }, "visit", Some(outcome.code().to_string()), deadline, None, None)
        }
        "handle" => {
            let by = form.text("handled_by").and_then(HandledBy::parse).ok_or_else(|| {
                ApiError::field(
                    "handled_by",
                    "请选择处置方：住户、物业或执法 / choose household, property or law enforcement",
                )
            })?;
            (CaseCommand::Handle { by }, "handle", Some(by.code().to_string()), None, Some(by.code().to_string()), None)
        }
        "reinspect" => {
            let passed = form.flag("passed");
            let command = CaseCommand::Reinspect { passed, photo: !form.photos.is_empty() };
            (command, "reinspect", Some(if passed { "passed" } else { "failed" }.to_string()), None, None, None)
        }
        "close" => (CaseCommand::Close, "close", None, None, None, None),
        "link" => {
            if status == CaseStatus::Closed {
                return Err(field_error(CaseError::Closed));
            }
            // The request by its id, or by the number people read off it (WT-2024-000123).
            let r = match (form.id("request_id")?, form.text("request_number")) {
                (Some(rid), _) => state
                    .store
                    .request(rid)
                    .await
                    .map_err(|_| ApiError::field("request_id", "诉求不存在 / unknown request"))?,
                (None, Some(number)) => state.store.request_by_number(c.community_id, number).await.map_err(|_| {
                    ApiError::field("request_number", "找不到这个诉求编号 / no request with this number")
                })?,
                (None, None) => return Err(ApiError::field("request_id", "请填写诉求编号 / give the request number")),
            };
            let rid = r.id;
            if r.community_id != c.community_id {
                return Err(ApiError::field("request_id", "诉求不存在 / unknown request"));
            }
            let update = CaseUpdate {
                kind: "link".into(),
                outcome: Some(r.number.clone()),
                note,
                deadline: None,
                photo: None,
                status: c.status.clone(),
                handled_by: None,
                request_id: Some(rid),
            };
            return Ok(state
                .store
                .update_case(&c, &update, auth.change(state, "case.link", Some(c.community_id)))
                .await?);
        }
        _ => {
            return Err(ApiError::field(
                "action",
                "请选择操作：走访、处置、复查、销号或关联诉求 / choose visit, handle, reinspect, close or link",
            ));
        }
    };
    let next = decide(status, &command, today).map_err(field_error)?;
    // The photo is checked and kept only once the step is allowed.
    let photo = match form.photos.first() {
        Some(p) => {
            let kept = super::photos::keep(state, take_in(p.clone()).await?).await?;
            Some((kept.blob.clone(), kept.media_type().to_string()))
        }
        None => None,
    };
    let update = CaseUpdate {
        kind: kind.into(),
        outcome,
        note,
        deadline,
        photo,
        status: next.code().into(),
        handled_by,
        request_id,
    };
    Ok(state.store.update_case(&c, &update, auth.change(state, &format!("case.{kind}"), Some(c.community_id))).await?)
}

/// The zero-illegal-construction board: open cases by compound and building with their age, and the trend over
/// twelve weeks.
#[utoipa::path(get, path = "/api/v1/patrol/board", operation_id = "get_patrol_board", tag = "patrol", params(CommunityQuery),
    responses((status = 200, description = "The board")), security(("bearer" = [])))]
pub async fn get_patrol_board(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    let now = state.clock.now();
    let board = state.store.zero_board(c, now).await?;
    let mut v = json!(board);
    v["buildings"] = json!(
        board
            .buildings
            .iter()
            .map(|b| {
                let mut j = json!(b);
                j["oldest_days"] = json!((now - b.oldest).num_days());
                j
            })
            .collect::<Vec<_>>()
    );
    Ok(Json(v))
}

/// Records a building's delivery-day baseline (multipart: `note` and an optional `photo`).
#[utoipa::path(post, path = "/api/v1/buildings/{id}/baselines", operation_id = "create_building_baseline", tag = "patrol",
    params(("id" = i64, Path, description = "Building")), request_body(content = String, content_type = "multipart/form-data"),
    responses((status = 201, description = "Recorded")), security(("bearer" = [])))]
pub async fn create_building_baseline(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let form = PhotoForm::read(multipart).await?;
    add_baseline(&state, &auth, id, &form).await?;
    Ok((StatusCode::CREATED, Json(baselines_json(&state, id).await?)))
}

/// Checks and records a building's baseline from a form with `note` and an optional `photo`.
pub(crate) async fn add_baseline(state: &AppState, auth: &Auth, id: i64, form: &PhotoForm) -> Result<(), ApiError> {
    let b = state.store.building(id).await?;
    auth.require(Action::ManagePatrol, Scope::building(b.community_id, id))?;
    let note = form.text("note").unwrap_or_default();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(ApiError::field("note", "请描述交付时的样子（最多 500 字）/ describe the building as delivered"));
    }
    if form.photos.len() > 1 {
        return Err(ApiError::field("photo", "每次 1 张照片 / one photo at a time"));
    }
    let photo = match form.photos.first() {
        Some(p) => {
            let kept = super::photos::keep(state, take_in(p.clone()).await?).await?;
            Some((kept.blob.clone(), kept.media_type().to_string()))
        }
        None => None,
    };
    state
        .store
        .add_baseline(id, b.community_id, note, photo, auth.change(state, "building.baseline", Some(b.community_id)))
        .await?;
    Ok(())
}

async fn baselines_json(state: &AppState, building: i64) -> Result<Value, ApiError> {
    let list = state.store.baselines(building).await?;
    Ok(json!(
        list.iter()
            .map(|b| json!({"id": b.id, "note": b.note, "recorded_at": b.recorded_at,
            "photo": b.blob.as_ref().map(|h| format!("/api/v1/patrol/photos/{h}"))}))
            .collect::<Vec<_>>()
    ))
}

/// A building's baselines, with its cases, to compare against.
#[utoipa::path(get, path = "/api/v1/buildings/{id}/baselines", operation_id = "list_building_baselines", tag = "patrol",
    params(("id" = i64, Path, description = "Building")), responses((status = 200, description = "Baselines")), security(("bearer" = [])))]
pub async fn list_building_baselines(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let b = state.store.building(id).await?;
    auth.require(Action::ViewPatrol, Scope::building(b.community_id, id))?;
    Ok(Json(baselines_json(&state, id).await?))
}
