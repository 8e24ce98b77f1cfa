//! The registry: browsing, finding, editing, importing and exporting residents.

use crate::AppState;
use crate::auth::{Auth, check_new_password, hash_password_blocking, token_hash};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::view::{ResidentOut, log_phone_reads, resident_out, resident_scope};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::registry::{PhoneNumber, ResidentInput};
use wujia_core::transfer::{self, Format};
use wujia_store::{HouseholdDetail, ImportReport, NewUser};

/// `?community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommunityQuery {
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// Counts of compounds, buildings, households and residents, and residents by origin community and by tag.
#[utoipa::path(get, path = "/api/v1/registry/summary", operation_id = "get_registry_summary", tag = "registry",
    params(CommunityQuery), responses((status = 200, description = "The figures")), security(("bearer" = [])))]
pub async fn get_registry_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Value>, ApiError> {
    let community = auth.community(q.community_id)?;
    auth.require(Action::ViewSummary, Scope::community(community))?;
    let s = state.store.registry_summary(community, state.clock.today()).await?;
    let as_map = |v: &[(String, i64)]| v.iter().map(|(k, n)| (k.clone(), json!(n))).collect::<serde_json::Map<_, _>>();
    Ok(Json(json!({
        "community_id": s.community_id, "compounds": s.compounds, "buildings": s.buildings,
        "households": s.households, "residents": s.residents,
        "residents_by_origin": as_map(&s.residents_by_origin), "residents_by_tag": as_map(&s.residents_by_tag),
    })))
}

/// The communities the caller works in.
#[utoipa::path(get, path = "/api/v1/communities", operation_id = "list_communities", tag = "registry",
    responses((status = 200, description = "Communities")), security(("bearer" = [])))]
pub async fn list_communities(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let all = state.store.communities().await?;
    let mine: Vec<_> = all.into_iter().filter(|c| auth.actor.communities.contains(&c.id)).collect();
    Ok(Json(json!(mine)))
}

/// Compounds of a community.
#[utoipa::path(get, path = "/api/v1/communities/{id}/compounds", operation_id = "list_compounds", tag = "registry",
    params(("id" = i64, Path, description = "Community id")), responses((status = 200, description = "Compounds")), security(("bearer" = [])))]
pub async fn list_compounds(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let community = auth.community(Some(id))?;
    auth.require(Action::ViewAddresses, Scope::community(community))?;
    Ok(Json(json!(state.store.compounds(community).await?)))
}

/// Buildings of a compound.
#[utoipa::path(get, path = "/api/v1/compounds/{id}/buildings", operation_id = "list_buildings", tag = "registry",
    params(("id" = i64, Path, description = "Compound id")), responses((status = 200, description = "Buildings")), security(("bearer" = [])))]
pub async fn list_buildings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let compound = state.store.compound(id).await?;
    visible(&auth, Action::ViewAddresses, Scope::community(compound.community_id))?;
    Ok(Json(json!(state.store.buildings(id).await?)))
}

/// Units of a building with their households.
#[utoipa::path(get, path = "/api/v1/buildings/{id}/units", operation_id = "list_units", tag = "registry",
    params(("id" = i64, Path, description = "Building id")), responses((status = 200, description = "Units")), security(("bearer" = [])))]
pub async fn list_units(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let (building, units) = wujia_app::registry::building_units(&state.app, &auth, id).await?;
    Ok(Json(json!({"building": building, "units": units})))
}

/// Outside the caller's communities a record is "not found"; inside but not permitted it is "forbidden".
pub(crate) fn visible(auth: &Auth, action: Action, scope: Scope) -> Result<(), ApiError> {
    if scope.community.is_some_and(|c| !auth.actor.communities.contains(&c)) {
        return Err(ApiError::NotFound);
    }
    auth.require(action, scope)
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
    let hits = search(&state, &auth, q.community_id, &q.q, q.limit.unwrap_or(50)).await?;
    Ok(Json(json!(hits)))
}

/// Search as the caller may see it: residents' names only with `ViewResidents` on their building.
pub(crate) async fn search(
    state: &AppState,
    auth: &Auth,
    community: Option<i64>,
    q: &str,
    limit: i64,
) -> Result<Vec<wujia_store::SearchHit>, ApiError> {
    let community = auth.community(community)?;
    auth.require(Action::ViewAddresses, Scope::community(community))?;
    if q.chars().count() > 100 {
        return Err(ApiError::field("q", "搜索内容过长 / the query is too long"));
    }
    let mut hits = state.store.search(community, q, limit.clamp(1, 200)).await?;
    hits.retain_mut(|h| {
        let scope = Scope::household(community, h.building_id, h.household_id);
        if auth.can(Action::ViewResidents, scope) {
            true
        } else {
            h.name = None;
            h.resident_id.is_none()
        }
    });
    Ok(hits)
}

/// A household as the caller may see it, with its residents shaped for the caller; full phone reads are logged.
pub(crate) async fn household_for(
    state: &AppState,
    auth: &Auth,
    id: i64,
) -> Result<(HouseholdDetail, Vec<ResidentOut>), ApiError> {
    let h = state.store.household(id, state.clock.today()).await?;
    visible(auth, Action::ViewResidents, Scope::household(h.community_id, h.building_id, h.id))?;
    let residents: Vec<ResidentOut> = h.residents.iter().map(|r| resident_out(auth, r)).collect();
    log_phone_reads(state, auth, &residents, h.community_id).await?;
    Ok((h, residents))
}

/// A household and everyone in it.
#[utoipa::path(get, path = "/api/v1/households/{id}", operation_id = "get_household", tag = "registry",
    params(("id" = i64, Path, description = "Household id")), responses((status = 200, description = "The household")), security(("bearer" = [])))]
pub async fn get_household(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let (h, residents) = household_for(&state, &auth, id).await?;
    Ok(Json(json!({
        "id": h.id, "community_id": h.community_id, "building_id": h.building_id, "address": h.address,
        "room": h.room, "residents": residents,
    })))
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
    responses((status = 201, description = "Created", body = ResidentOut), (status = 422, description = "Invalid fields")),
    security(("bearer" = [])))]
pub async fn create_resident(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResidentBody>,
) -> Result<(StatusCode, Json<ResidentOut>), ApiError> {
    let r = add_resident(&state, &auth, id, &body.fields).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

pub(crate) async fn add_resident(
    state: &AppState,
    auth: &Auth,
    household: i64,
    input: &ResidentInput,
) -> Result<ResidentOut, ApiError> {
    let today = state.clock.today();
    let h = state.store.household(household, today).await?;
    visible(auth, Action::EditResident, Scope::household(h.community_id, h.building_id, h.id))?;
    let draft = input.parse(today)?;
    let v = state
        .store
        .create_resident(household, &draft, auth.change(state, "resident.create", Some(h.community_id)), today)
        .await?;
    Ok(resident_out(auth, &v))
}

/// One resident.
#[utoipa::path(get, path = "/api/v1/residents/{id}", operation_id = "get_resident", tag = "registry",
    params(("id" = i64, Path, description = "Resident id")), responses((status = 200, description = "The resident", body = ResidentOut)),
    security(("bearer" = [])))]
pub async fn get_resident(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResidentOut>, ApiError> {
    let v = state.store.resident(id, state.clock.today()).await?;
    visible(&auth, Action::ViewResidents, resident_scope(&v))?;
    let out = resident_out(&auth, &v);
    log_phone_reads(&state, &auth, std::slice::from_ref(&out), v.community_id).await?;
    Ok(Json(out))
}

/// Changes a resident; `version` must be the one read (409 if someone else changed it).
#[utoipa::path(put, path = "/api/v1/residents/{id}", operation_id = "update_resident", tag = "registry",
    params(("id" = i64, Path, description = "Resident id")), request_body = ResidentBody,
    responses((status = 200, description = "Changed", body = ResidentOut), (status = 409, description = "Changed by someone else"),
              (status = 422, description = "Invalid fields")), security(("bearer" = [])))]
pub async fn update_resident(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ResidentBody>,
) -> Result<Json<ResidentOut>, ApiError> {
    let version = body
        .version
        .ok_or_else(|| ApiError::field("version", "必须提供读取时的版本号 / the version read is required"))?;
    Ok(Json(edit_resident(&state, &auth, id, version, &body.fields).await?))
}

pub(crate) async fn edit_resident(
    state: &AppState,
    auth: &Auth,
    id: i64,
    version: i64,
    input: &ResidentInput,
) -> Result<ResidentOut, ApiError> {
    let today = state.clock.today();
    let before = state.store.resident(id, today).await?;
    visible(auth, Action::EditResident, resident_scope(&before))?;
    let mut input = input.clone();
    // A masked phone sent back unchanged keeps the stored number.
    if input.phone.contains('*') {
        input.phone = before.phone.clone().unwrap_or_default();
    }
    let draft = input.parse(today)?;
    let v = state
        .store
        .update_resident(id, version, &draft, auth.change(state, "resident.update", Some(before.community_id)), today)
        .await?;
    Ok(resident_out(auth, &v))
}

/// Shows a resident's full ID number; the read is recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/residents/{id}/id_card", operation_id = "reveal_id_card", tag = "registry",
    params(("id" = i64, Path, description = "Resident id")), responses((status = 200, description = "{\"id_card\": …}")),
    security(("bearer" = [])))]
pub async fn reveal_id_card(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"id_card": reveal(&state, &auth, id).await?})))
}

pub(crate) async fn reveal(state: &AppState, auth: &Auth, id: i64) -> Result<Option<String>, ApiError> {
    let v = state.store.resident(id, state.clock.today()).await?;
    visible(auth, Action::ViewIdCard, resident_scope(&v))?;
    let mut change = auth.change(state, "resident.read_id_card", Some(v.community_id));
    change.entity = "resident".into();
    change.entity_id = id.to_string();
    change.after = json!({"fields": ["id_card"]});
    Ok(state.store.reveal_id_card(id, &change).await?)
}

/// The community's tag set.
#[utoipa::path(get, path = "/api/v1/tags", operation_id = "list_tags", tag = "registry",
    params(CommunityQuery), responses((status = 200, description = "Tags")), security(("bearer" = [])))]
pub async fn list_tags(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CommunityQuery>,
) -> Result<Json<Value>, ApiError> {
    let community = auth.community(q.community_id)?;
    auth.require(Action::ViewResidents, Scope::community(community))
        .or_else(|_| auth.require(Action::ViewSummary, Scope::community(community)))?;
    let derived: Vec<Value> = wujia_core::registry::DERIVED_TAGS
        .iter()
        .map(|(c, zh, en)| json!({"code": c, "name_zh": zh, "name_en": en, "derived": true}))
        .collect();
    Ok(Json(json!({"tags": state.store.tags(community).await?, "derived": derived})))
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
    responses((status = 201, description = "Created"), (status = 409, description = "Code or name taken")), security(("bearer" = [])))]
pub async fn create_tag(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<TagBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let tag = add_tag(&state, &auth, &body).await?;
    Ok((StatusCode::CREATED, Json(json!(tag))))
}

pub(crate) async fn add_tag(state: &AppState, auth: &Auth, body: &TagBody) -> Result<wujia_store::TagInfo, ApiError> {
    let community = auth.community(body.community_id)?;
    auth.require(Action::ManageTags, Scope::community(community))?;
    let code = body.code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ApiError::field("code", "代码须为小写字母、数字或下划线 / lower-case letters, digits and _ only"));
    }
    if wujia_core::registry::DERIVED_TAGS.iter().any(|(c, _, _)| *c == code) {
        return Err(ApiError::Conflict("该代码为系统计算标签 / this code is a computed tag".into()));
    }
    let (zh, en) = (body.name_zh.trim(), body.name_en.trim());
    if zh.is_empty() || zh.chars().count() > 20 {
        return Err(ApiError::field("name_zh", "中文名称为 1–20 个字符 / 1–20 characters"));
    }
    if en.is_empty() || en.chars().count() > 40 {
        return Err(ApiError::field("name_en", "英文名称为 1–40 个字符 / 1–40 characters"));
    }
    Ok(state.store.create_tag(community, code, zh, en, auth.change(state, "tag.create", Some(community))).await?)
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
    let bytes = export_file(&state, &auth, community, format).await?;
    Ok(file_response(format, "residents", bytes))
}

pub(crate) async fn export_file(
    state: &AppState,
    auth: &Auth,
    community: i64,
    format: Format,
) -> Result<Vec<u8>, ApiError> {
    // A building social worker exports their own buildings; others the whole community.
    let buildings = (auth.role() == Role::SocialWorker).then(|| auth.actor.buildings.clone());
    if buildings.is_none() {
        auth.require(Action::ExportRegistry, Scope::community(community))?;
    } else if !auth.actor.communities.contains(&community) {
        return Err(ApiError::NotFound);
    }
    let records = state.store.export_records(community, buildings.as_deref(), state.clock.today()).await?;
    let mut unmasked = 0usize;
    let rows: Vec<Vec<String>> = records
        .iter()
        .filter(|r| auth.can(Action::ExportRegistry, Scope::building(community, r.building_id)))
        .map(|r| {
            let v = &r.resident;
            let scope = Scope::household(community, r.building_id, v.household_id);
            let id_card = if auth.can(Action::ViewIdCard, scope) {
                unmasked += usize::from(r.id_card.is_some());
                r.id_card.clone().unwrap_or_default()
            } else {
                v.id_card_masked.clone().unwrap_or_default()
            };
            let phone = match (&v.phone, auth.can(Action::ViewPhone, scope)) {
                (Some(p), true) => p.clone(),
                (Some(p), false) => PhoneNumber::parse(p).map(|n| n.masked()).unwrap_or_default(),
                (None, _) => String::new(),
            };
            let manual: Vec<&str> = v
                .tags
                .iter()
                .map(String::as_str)
                .filter(|t| !wujia_core::registry::DERIVED_TAGS.iter().any(|(c, _, _)| c == t))
                .collect();
            vec![
                r.compound.clone(),
                r.building.to_string(),
                r.unit.to_string(),
                r.room.clone(),
                v.name.clone(),
                if v.gender == "male" { "男".into() } else { "女".into() },
                v.birth_date.to_string(),
                id_card,
                phone,
                v.origin.clone().unwrap_or_default(),
                v.move_in_date.map(|d| d.to_string()).unwrap_or_default(),
                crate::view::relation_label(&v.relation, crate::Lang::Zh),
                v.wedding_date.map(|d| d.to_string()).unwrap_or_default(),
                manual.join("、"),
            ]
        })
        .collect();
    let mut change = auth.change(state, "registry.export", Some(community));
    change.entity = "registry".into();
    change.entity_id = community.to_string();
    change.after = json!({"rows": rows.len(), "unmasked_id_cards": unmasked, "format": format.extension()});
    state.store.record(&change).await?;
    transfer::write_table(format, &rows).map_err(|e| ApiError::Internal(e.to_string()))
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
    visible(auth, Action::IssueSignupCode, Scope::household(h.community_id, h.building_id, h.id))?;
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
