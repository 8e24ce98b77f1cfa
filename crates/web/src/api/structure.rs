//! Setting up a community: the community itself, its compounds, buildings and units, and who owns each building.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, FieldIssue};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::registry::visible;
use wujia_core::accounts::{Action, Scope};

/// A new community.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CommunityBody {
    /// Name, e.g. 望坛新苑.
    pub name: String,
    /// Short code for readable numbers: 2–8 capital letters or digits.
    pub code: String,
    /// Street office.
    pub street: String,
    /// District.
    pub district: String,
    /// The old communities the residents came from.
    #[serde(default)]
    pub origins: Vec<String>,
}

fn text(issues: &mut Vec<FieldIssue>, field: &str, value: &str, max: usize) {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        issues.push(FieldIssue {
            field: field.into(),
            message: format!("应为 1–{max} 个字符 / 1–{max} characters"),
            row: None,
        });
    }
}

/// Creates a community (admins only).
#[utoipa::path(post, path = "/api/v1/communities", operation_id = "create_community", tag = "registry",
    request_body = CommunityBody, responses((status = 201, description = "Created"), (status = 409, description = "Code taken")),
    security(("bearer" = [])))]
pub async fn create_community(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<CommunityBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    let mut issues = Vec::new();
    text(&mut issues, "name", &b.name, 40);
    text(&mut issues, "street", &b.street, 40);
    text(&mut issues, "district", &b.district, 40);
    let code = b.code.trim();
    if !(2..=8).contains(&code.len()) || !code.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        issues.push(FieldIssue {
            field: "code".into(),
            message: "2–8 个大写字母或数字 / 2–8 capital letters or digits".into(),
            row: None,
        });
    }
    for (i, o) in b.origins.iter().enumerate() {
        text(&mut issues, &format!("origins[{i}]"), o, 40);
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let origins: Vec<&str> = b.origins.iter().map(|o| o.trim()).collect();
    let id = state
        .store
        .create_community(
            b.name.trim(),
            code,
            b.street.trim(),
            b.district.trim(),
            &origins,
            auth.change(&state, "community.create", None),
        )
        .await?;
    // Admins see every community: their cached assignments must include the new one.
    state.forget_sessions();
    Ok((StatusCode::CREATED, Json(json!({"id": id, "name": b.name.trim(), "code": code}))))
}

/// A new compound.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CompoundBody {
    /// Number on its road.
    pub number: i64,
    /// Full name, e.g. 琉璃井路3号院.
    pub name: String,
}

/// Adds a compound to a community.
#[utoipa::path(post, path = "/api/v1/communities/{id}/compounds", operation_id = "create_compound", tag = "registry",
    params(("id" = i64, Path, description = "Community id")), request_body = CompoundBody,
    responses((status = 201, description = "Created"), (status = 409, description = "Name taken")), security(("bearer" = [])))]
pub async fn create_compound(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CompoundBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    visible(&auth, Action::ManageStructure, Scope::community(id))?;
    let mut issues = Vec::new();
    text(&mut issues, "name", &b.name, 40);
    if !(1..=9999).contains(&b.number) {
        issues.push(FieldIssue {
            field: "number".into(), message: "应为 1–9999 / must be 1–9999".into(), row: None
        });
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let compound = state
        .store
        .create_compound(id, b.number, b.name.trim(), auth.change(&state, "compound.create", Some(id)))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": compound}))))
}

/// A new building.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BuildingBody {
    /// Building number (号楼).
    pub number: i64,
    /// Floors.
    pub floors: i64,
    /// Units (单元), numbered from 1.
    pub units: i64,
}

/// Adds a building and its units to a compound.
#[utoipa::path(post, path = "/api/v1/compounds/{id}/buildings", operation_id = "create_building", tag = "registry",
    params(("id" = i64, Path, description = "Compound id")), request_body = BuildingBody,
    responses((status = 201, description = "Created"), (status = 409, description = "Number taken")), security(("bearer" = [])))]
pub async fn create_building(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<BuildingBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let compound = state.store.compound(id).await?;
    visible(&auth, Action::ManageStructure, Scope::community(compound.community_id))?;
    let mut issues = Vec::new();
    for (field, value, max) in [("number", b.number, 999), ("floors", b.floors, 120), ("units", b.units, 30)] {
        if !(1..=max).contains(&value) {
            issues.push(FieldIssue {
                field: field.into(),
                message: format!("应为 1–{max} / must be 1–{max}"),
                row: None,
            });
        }
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let change = auth.change(&state, "building.create", Some(compound.community_id));
    let building = state.store.create_building(id, b.number, b.floors, b.units, change).await?;
    Ok((StatusCode::CREATED, Json(json!(state.store.building(building).await?))))
}

/// Who looks after a building.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WorkerBody {
    /// A building social worker's account, or null to clear.
    pub user_id: Option<i64>,
}

/// Assigns a building social worker to a building.
#[utoipa::path(put, path = "/api/v1/buildings/{id}/social_worker", operation_id = "update_building_social_worker", tag = "registry",
    params(("id" = i64, Path, description = "Building id")), request_body = WorkerBody,
    responses((status = 200, description = "The building")), security(("bearer" = [])))]
pub async fn update_building_social_worker(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<WorkerBody>,
) -> Result<Json<Value>, ApiError> {
    let building = state.store.building(id).await?;
    visible(&auth, Action::ManageStructure, Scope::community(building.community_id))?;
    state
        .store
        .assign_social_worker(
            id,
            b.user_id,
            auth.change(&state, "building.assign_social_worker", Some(building.community_id)),
        )
        .await?;
    state.forget_sessions();
    Ok(Json(json!(state.store.building(id).await?)))
}

/// A new household (flat).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HouseholdBody {
    /// Room, e.g. `301`.
    pub room: String,
}

/// Adds an empty household to a unit (residents follow with `create_resident` or an import).
#[utoipa::path(post, path = "/api/v1/units/{id}/households", operation_id = "create_household", tag = "registry",
    params(("id" = i64, Path, description = "Unit id")), request_body = HouseholdBody,
    responses((status = 201, description = "Created"), (status = 409, description = "The household exists")),
    security(("bearer" = [])))]
pub async fn create_household(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<HouseholdBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let room = b.room.trim();
    if room.is_empty() || room.chars().count() > 10 || room.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::field("room", "房号为 1–10 个字符,不含空格 / 1–10 characters, no spaces"));
    }
    let unit = state.store.unit(id).await?;
    visible(&auth, Action::EditResident, Scope::building(unit.0, unit.1))?;
    let change = auth.change(&state, "household.create", Some(unit.0));
    let household = state.store.create_household(id, room, change).await?;
    let detail = state.store.household(household, state.clock.today()).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": household, "address": detail.address}))))
}
