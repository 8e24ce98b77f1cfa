//! The registry: browsing, finding, editing, importing and exporting residents.

use crate::AppState;
use crate::auth::{Auth, check_new_password, hash_password_blocking, token_hash};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::i18n::Lang;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wujia_app::registry::{self, HouseholdView, NewTag, RegistryFigures, Resident, Tag, TagSet};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::registry::ResidentInput;
use wujia_core::transfer::{self, Format};
use wujia_store::{ImportReport, NewUser};

/// `?community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommunityQuery {
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// Counts of compounds, buildings, households and residents, and residents by origin community and by tag.
#[utoipa::path(get, path = "/api/v1/registry/summary", operation_id = "get_registry_summary", tag = "registry",
    params(CommunityQuery), responses((status = 200, description = "The figures", body = RegistryFigures)), security(("bearer" = [])))]
pub async fn get_registry_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<RegistryFigures>, ApiError> {
    Ok(Json(registry::figures(&state.app, &auth, q.community_id).await?))
}

/// The communities the caller works in.
#[utoipa::path(get, path = "/api/v1/communities", operation_id = "list_communities", tag = "registry",
    responses((status = 200, description = "Communities")), security(("bearer" = [])))]
pub async fn list_communities(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(registry::communities(&state.app, &auth).await?)))
}

/// Compounds of a community.
#[utoipa::path(get, path = "/api/v1/communities/{id}/compounds", operation_id = "list_compounds", tag = "registry",
    params(("id" = i64, Path, description = "Community id")), responses((status = 200, description = "Compounds")), security(("bearer" = [])))]
pub async fn list_compounds(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(registry::compounds(&state.app, &auth, Some(id)).await?)))
}

/// Buildings of a compound.
#[utoipa::path(get, path = "/api/v1/compounds/{id}/buildings", operation_id = "list_buildings", tag = "registry",
    params(("id" = i64, Path, description = "Compound id")), responses((status = 200, description = "Buildings")), security(("bearer" = [])))]
pub async fn list_buildings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let (_, buildings) = registry::compound_buildings(&state.app, &auth, id).await?;
    Ok(Json(json!(buildings)))
}

/// Units of a building with their households.
#[utoipa::path(get, path = "/api/v1/buildings/{id}/units", operation_id = "list_units", tag = "registry",
    params(("id" = i64, Path, description = "Building id")), responses((status = 200, description = "Units")), security(("bearer" = [])))]
pub async fn list_units(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let (building, units) = registry::building_units(&state.app, &auth, id).await?;
    Ok(Json(json!({"building": building, "units": units})))
}

/// `?q=&community_id=&limit=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Address text (`3号院7号楼2单元301`), a name, a phone tail (4 digits), a phone or an ID number.
    pub q: String,
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
    /// At most this many results (default 50, at most 200).
    pub limit: Option<i64>,
}

/// Finds households by address or residents by name, phone tail, phone or ID number.
#[utoipa::path(get, path = "/api/v1/households", operation_id = "search_households", tag = "registry",
    params(SearchQuery), responses((status = 200, description = "Matches")), security(("bearer" = [])))]
pub async fn search_households(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let hits = registry::search(&state.app, &auth, q.community_id, &q.q, q.limit.unwrap_or(50)).await?;
    Ok(Json(json!(hits)))
}

/// A household and everyone in it, with what the caller may do there.
#[utoipa::path(get, path = "/api/v1/households/{id}", operation_id = "get_household", tag = "registry",
    params(("id" = i64, Path, description = "Household id")),
    responses((status = 200, description = "The household", body = HouseholdView)), security(("bearer" = [])))]
pub async fn get_household(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<HouseholdView>, ApiError> {
    Ok(Json(registry::household(&state.app, &auth, id).await?))
}

/// A resident's fields as text; blank optional fields are left out.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResidentBody {
    /// The version read, required when updating.
    pub version: Option<i64>,
    /// Resident fields.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: ResidentInput,
}

/// Adds a resident to a household.
#[utoipa::path(post, path = "/api/v1/households/{id}/residents", operation_id = "create_resident", tag = "registry",
    params(("id" = i64, Path, description = "Household id")), request_body = ResidentBody,
    responses((status = 201, description = "Created", body = Resident), (status = 422, description = "Invalid fields")),
    security(("bearer" = [])))]
pub async fn create_resident(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResidentBody>,
) -> Result<(StatusCode, Json<Resident>), ApiError> {
    let r = registry::add_resident(&state.app, &auth, id, &body.fields).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// One resident.
#[utoipa::path(get, path = "/api/v1/residents/{id}", operation_id = "get_resident", tag = "registry",
    params(("id" = i64, Path, description = "Resident id")), responses((status = 200, description = "The resident", body = Resident)),
    security(("bearer" = [])))]
pub async fn get_resident(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Resident>, ApiError> {
    Ok(Json(registry::resident(&state.app, &auth, id).await?))
}

/// Changes a resident; `version` must be the one read (409 if someone else changed it).
#[utoipa::path(put, path = "/api/v1/residents/{id}", operation_id = "update_resident", tag = "registry",
    params(("id" = i64, Path, description = "Resident id")), request_body = ResidentBody,
    responses((status = 200, description = "Changed", body = Resident), (status = 409, description = "Changed by someone else"),
              (status = 422, description = "Invalid fields")), security(("bearer" = [])))]
pub async fn update_resident(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResidentBody>,
) -> Result<Json<Resident>, ApiError> {
    let version = body
        .version
        .ok_or_else(|| ApiError::field("version", "必须提供读取时的版本号 / the version read is required"))?;
    Ok(Json(registry::edit_resident(&state.app, &auth, id, version, &body.fields).await?))
}

/// A full ID number.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdCardOut {
    /// The number, or null when none is registered.
    pub id_card: Option<String>,
}

/// Shows a resident's full ID number; the read is recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/residents/{id}/id_card", operation_id = "reveal_id_card", tag = "registry",
    params(("id" = i64, Path, description = "Resident id")), responses((status = 200, description = "The number", body = IdCardOut)),
    security(("bearer" = [])))]
pub async fn reveal_id_card(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<IdCardOut>, ApiError> {
    let read = registry::reveal_id_card(&state.app, &auth, id).await?;
    Ok(Json(IdCardOut { id_card: read.id_card }))
}

/// The community's tag set.
#[utoipa::path(get, path = "/api/v1/tags", operation_id = "list_tags", tag = "registry",
    params(CommunityQuery), responses((status = 200, description = "Tags", body = TagSet)), security(("bearer" = [])))]
pub async fn list_tags(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<TagSet>, ApiError> {
    Ok(Json(registry::tags(&state.app, &auth, q.community_id).await?))
}

/// A new tag.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TagBody {
    /// The community.
    pub community_id: Option<i64>,
    /// Code: lower-case letters, digits and `_`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// Adds a tag to the community's tag set.
#[utoipa::path(post, path = "/api/v1/tags", operation_id = "create_tag", tag = "registry", request_body = TagBody,
    responses((status = 201, description = "Created", body = Tag), (status = 409, description = "Code or name taken")), security(("bearer" = [])))]
pub async fn create_tag(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<TagBody>,
) -> Result<(StatusCode, Json<Tag>), ApiError> {
    let new = NewTag { community_id: body.community_id, code: body.code, name_zh: body.name_zh, name_en: body.name_en };
    Ok((StatusCode::CREATED, Json(registry::add_tag(&state.app, &auth, &new).await?)))
}

/// `?community_id=&dry_run=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
    /// Check every row and report, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports residents and households from an XLSX or CSV file (UTF-8 or GBK) sent as the request body.
/// All rows or none are written; re-importing the same file changes nothing.
#[utoipa::path(post, path = "/api/v1/registry/imports", operation_id = "import_residents", tag = "registry",
    params(ImportQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "What was (or would be) written"),
              (status = 422, description = "Every bad row with its column"), (status = 415, description = "Not XLSX or CSV")),
    security(("bearer" = [])))]
pub async fn import_residents(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<ImportReport>, ApiError> {
    // A body over the limit is refused while it is read; say so as a problem, like every other error.
    let body = body.map_err(|_| ApiError::PayloadTooLarge)?;
    Ok(Json(import_file(&state, &auth, q.community_id, &body, q.dry_run).await?))
}

pub(crate) async fn import_file(
    state: &AppState,
    auth: &Auth,
    community: Option<i64>,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    let community = auth.community(community)?;
    auth.require(Action::ImportRegistry, Scope::community(community))?;
    let today = state.clock.today();
    let bytes = bytes.to_vec();
    let parsed = tokio::task::spawn_blocking(move || {
        let table = transfer::read_table(&bytes).map_err(ApiError::from)?;
        transfer::check_rows(&table, today).map_err(ApiError::from)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    let change = auth.change(state, "resident.import", Some(community));
    Ok(state.store.import_residents(community, &parsed.rows, parsed.errors, dry_run, change, &|_, _| {}).await?)
}

/// `?format=xlsx|csv`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
    /// The community, for exports.
    pub community_id: Option<i64>,
}

fn format_of(q: &FormatQuery) -> Result<Format, ApiError> {
    match q.format.as_deref() {
        None => Ok(Format::Xlsx),
        Some(f) => Format::parse(f).ok_or_else(|| ApiError::field("format", "应为 xlsx 或 csv / must be xlsx or csv")),
    }
}

pub(crate) fn file_response(format: Format, name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}.{ext}\"", ext = format.extension());
    ([(header::CONTENT_TYPE, format.content_type().to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response()
}

/// The import template with its Chinese headers and an example row.
#[utoipa::path(get, path = "/api/v1/registry/template", operation_id = "get_import_template", tag = "registry",
    params(FormatQuery), responses((status = 200, description = "The template file")), security(("bearer" = [])))]
pub async fn get_import_template(_auth: Auth, ApiQuery(q): ApiQuery<FormatQuery>) -> Result<Response, ApiError> {
    let format = format_of(&q)?;
    let bytes = transfer::template(format).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(file_response(format, "registry-template", bytes))
}

/// Exports residents as the caller may see them: numbers masked unless the role needs them.
#[utoipa::path(get, path = "/api/v1/registry/export", operation_id = "export_residents", tag = "registry",
    params(FormatQuery), responses((status = 200, description = "The file")), security(("bearer" = [])))]
pub async fn export_residents(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = format_of(&q)?;
    let community = auth.community(q.community_id)?;
    let bytes = registry::export(&state.app, &auth, community, format).await?;
    Ok(file_response(format, "residents", bytes))
}

/// Issues a one-time code with which a member of the household signs up (valid 7 days).
#[utoipa::path(post, path = "/api/v1/households/{id}/signup_codes", operation_id = "create_signup_code", tag = "registry",
    params(("id" = i64, Path, description = "Household id")), responses((status = 201, description = "{\"code\", \"expires_at\"}")),
    security(("bearer" = [])))]
pub async fn create_signup_code(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (code, expires) = issue_code(&state, &auth, id).await?;
    Ok((StatusCode::CREATED, Json(json!({"code": code, "expires_at": expires}))))
}

pub(crate) async fn issue_code(
    state: &AppState,
    auth: &Auth,
    household: i64,
) -> Result<(String, chrono::DateTime<chrono::Utc>), ApiError> {
    let h = state.store.household(household, state.clock.today()).await?;
    registry::visible(auth, Action::IssueSignupCode, Scope::household(h.community_id, h.building_id, h.id))?;
    // Unambiguous letters and digits, read out over the phone or printed on a slip.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut raw = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
    // 256 is a multiple of 32, so the modulo is unbiased.
    let code: String = raw.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
    let code = format!("{}-{}", &code[..4], &code[4..]);
    let expires = state.clock.now() + Duration::days(7);
    let change = auth.change(state, "signup_code.issue", Some(h.community_id));
    state.store.issue_signup_code(household, &token_hash(&normalize_code(&code)), expires, change).await?;
    Ok((code, expires))
}

fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A resident's sign-up with a code from staff.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignupBody {
    /// The one-time code, e.g. `K7QM-9XDA`.
    pub code: String,
    /// Login name: 3–32 letters, digits, `_` or `.`.
    pub username: String,
    /// Name shown to staff.
    pub display_name: String,
    /// Password: at least 10 characters, letters and digits.
    pub password: String,
}

/// Creates a resident account linked to the household the code was issued for.
#[utoipa::path(post, path = "/api/v1/signup", operation_id = "create_signup", tag = "registry", request_body = SignupBody,
    responses((status = 201, description = "Account created"), (status = 422, description = "Bad code, username or password")))]
pub async fn create_signup(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = signup(&state, &body, Lang::from_headers(&headers)).await?;
    Ok((StatusCode::CREATED, Json(json!(super::UserOut::from(&user)))))
}

pub(crate) async fn signup(state: &AppState, body: &SignupBody, lang: Lang) -> Result<wujia_store::User, ApiError> {
    let mut issues = Vec::new();
    let username = body.username.trim();
    if let Err(m) = check_username(username) {
        issues.push(crate::error::FieldIssue { field: "username".into(), message: m.into(), row: None });
    }
    let display = body.display_name.trim();
    if display.is_empty() || display.chars().count() > 40 {
        issues.push(crate::error::FieldIssue {
            field: "display_name".into(),
            message: "姓名为 1–40 个字符 / 1–40 characters".into(),
            row: None,
        });
    }
    if let Err(message) = check_new_password(&body.password, &[username, display], lang) {
        issues.push(crate::error::FieldIssue { field: "password".into(), message, row: None });
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let hash = hash_password_blocking(body.password.clone()).await?;
    let new = NewUser {
        username: username.into(),
        display_name: display.into(),
        password_hash: hash,
        role: Role::Resident,
        organization: None,
        household_id: None,
        communities: vec![],
        must_change_password: false,
    };
    Ok(state.store.redeem_signup_code(&token_hash(&normalize_code(&body.code)), &new, state.clock.now()).await?)
}

/// Usernames: 3–32 ASCII letters, digits, `_`, `.` or `-`.
pub(crate) fn check_username(u: &str) -> Result<(), &'static str> {
    if (3..=32).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    {
        Ok(())
    } else {
        Err("用户名为 3–32 个字母、数字、_ . - / 3–32 letters, digits, _ . -")
    }
}
