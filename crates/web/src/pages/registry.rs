//! Staff pages for the registry: browse, find, view a household, edit a resident, import and export.

use super::{Layout, PageContext, error_page, message, page_or_error, render};
use crate::AppState;
use crate::api::registry::{file_response, import_file, issue_code};
use crate::auth::Auth;
use crate::error::{ApiError, FieldIssue};
use crate::i18n::Lang;
use crate::view::relation_label;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wujia_app::registry::{self, NewTag};
use wujia_core::accounts::{Action, Scope};
use wujia_core::registry::{Relation, ResidentInput};
use wujia_core::transfer::{self, Format};
use wujia_store::{BuildingSummary, CompoundSummary, ImportReport, SearchHit, UnitWithHouseholds};

#[derive(Deserialize, Default)]
struct CommunityParam {
    c: Option<i64>,
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsolePage {
    l: Layout,
    community_id: i64,
    community_name: String,
    communities: Vec<(i64, String)>,
    figures: Option<ConsoleFigures>,
    compounds: Vec<CompoundSummary>,
}

/// The registry's figures as the console shows them, tags by name.
struct ConsoleFigures {
    compounds: i64,
    buildings: i64,
    households: i64,
    residents: i64,
    by_origin: Vec<(String, i64)>,
    by_tag: Vec<(String, i64)>,
}

async fn console(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<CommunityParam>,
) -> Response {
    let result = async {
        let o = registry::overview(&state.app, &auth, q.c).await?;
        let communities: Vec<(i64, String)> = o.communities.into_iter().map(|c| (c.id, c.name)).collect();
        let name = communities.iter().find(|c| c.0 == o.community_id).map(|c| c.1.clone()).unwrap_or_default();
        let zh = ctx.lang == Lang::Zh;
        let figures = o.figures.map(|f| ConsoleFigures {
            compounds: f.compounds,
            buildings: f.buildings,
            households: f.households,
            residents: f.residents,
            by_tag: f
                .residents_by_tag
                .iter()
                .map(|(code, n)| (o.tags.as_ref().map_or_else(|| code.clone(), |t| t.label(code, zh)), *n))
                .collect(),
            by_origin: f.residents_by_origin,
        });
        Ok::<_, ApiError>(ConsolePage {
            l: ctx.layout(&name, Some(&auth)),
            community_id: o.community_id,
            community_name: name,
            communities,
            figures,
            compounds: o.compounds,
        })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

#[derive(Template)]
#[template(path = "compound.html")]
struct CompoundPage {
    l: Layout,
    compound: CompoundSummary,
    buildings: Vec<BuildingSummary>,
}

async fn compound(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = async {
        let (compound, buildings) = registry::compound_buildings(&state.app, &auth, id).await?;
        Ok::<_, ApiError>(CompoundPage { l: ctx.layout(&compound.name, Some(&auth)), compound, buildings })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

#[derive(Template)]
#[template(path = "building.html")]
struct BuildingPage {
    l: Layout,
    building: BuildingSummary,
    units: Vec<UnitWithHouseholds>,
}

async fn building(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = async {
        let (building, units) = registry::building_units(&state.app, &auth, id).await?;
        let title = format!("{}{}{}", building.compound_name, building.number, ctx.lang.t("registry.building_suffix"));
        Ok::<_, ApiError>(BuildingPage { l: ctx.layout(&title, Some(&auth)), building, units })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

/// A resident row as the household page shows it.
struct Row {
    id: i64,
    name: String,
    relation: String,
    gender: String,
    age: u32,
    phone: Option<String>,
    phone_masked: bool,
    id_card: Option<String>,
    tags: String,
    can_edit: bool,
    can_reveal: bool,
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    l: Layout,
    id: i64,
    building_id: i64,
    address: String,
    rows: Vec<Row>,
    can_edit: bool,
    can_issue_code: bool,
    /// Requests of the household (number, status, what, id), newest first; shown to those who see requests.
    requests: Vec<(String, String, String, i64)>,
    /// Reception-day visits (date, what was raised).
    visits: Vec<(String, String)>,
}

fn gender_label(code: &str, lang: Lang) -> String {
    lang.t(&format!("gender.{code}")).to_string()
}

async fn household(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = async {
        let mut h = registry::household(&state.app, &auth, id).await?;
        let tags = registry::tags(&state.app, &auth, Some(h.community_id)).await?;
        let zh = ctx.lang == Lang::Zh;
        let rows = std::mem::take(&mut h.residents)
            .into_iter()
            .map(|r| Row {
                id: r.id,
                relation: relation_label(&r.relation, ctx.lang),
                gender: gender_label(&r.gender, ctx.lang),
                age: r.age,
                phone_masked: r.phone_masked,
                phone: r.phone,
                id_card: r.id_card,
                tags: r.tags.iter().map(|t| tags.label(t, zh)).collect::<Vec<_>>().join("、"),
                can_edit: h.actions.edit_residents,
                can_reveal: h.actions.reveal_id_cards,
                name: r.name,
            })
            .collect();
        // The household's history with the community: its requests and its reception-day visits.
        let (requests, visits) = if h.actions.view_history {
            let history = registry::household_history(&state.app, &auth, &h).await?;
            let requests = history
                .requests
                .into_iter()
                .map(|r| (r.number, ctx.lang.t(&format!("status.{}", r.status)).to_string(), r.description, r.id))
                .collect();
            let visits = history
                .visits
                .into_iter()
                .map(|v| {
                    let day = v.arrived_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
                    (day, v.raised.join("；"))
                })
                .collect();
            (requests, visits)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok::<_, ApiError>(HouseholdPage {
            l: ctx.layout(&h.address, Some(&auth)),
            id: h.id,
            building_id: h.building_id,
            address: h.address,
            rows,
            can_edit: h.actions.edit_residents,
            can_issue_code: h.actions.issue_signup_code,
            requests,
            visits,
        })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

/// One input of the resident form.
struct FormField {
    name: &'static str,
    label: String,
    value: String,
    kind: &'static str,
    required: bool,
    options: Option<Vec<(String, String)>>,
    hint: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "resident_form.html")]
struct ResidentFormPage {
    l: Layout,
    household_id: i64,
    address: String,
    action: String,
    version: i64,
    fields: Vec<FormField>,
    errors: Vec<FieldIssue>,
}

#[derive(Deserialize, Default)]
struct ResidentForm {
    #[serde(default)]
    csrf: String,
    /// Text, since numbers inside a flattened urlencoded form do not deserialise.
    #[serde(default)]
    version: String,
    #[serde(flatten)]
    input: ResidentInput,
}

/// Where a resident form posts to.
struct FormTarget {
    household_id: i64,
    action: String,
    version: i64,
}

async fn resident_form(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    target: FormTarget,
    input: &ResidentInput,
    errors: Vec<FieldIssue>,
) -> Result<ResidentFormPage, ApiError> {
    let FormTarget { household_id, action, version } = target;
    let choices = registry::resident_form_choices(&state.app, auth, household_id).await?;
    let (origins, tags) = (&choices.origins, &choices.tags);
    let lang = ctx.lang;
    let error_of = |name: &str| errors.iter().find(|e| e.field == name).map(|e| e.message.clone());
    let field = |name: &'static str, kind: &'static str, value: &str, required: bool| FormField {
        name,
        label: lang.t(&format!("resident.{name}")).to_string(),
        value: value.to_string(),
        kind,
        required,
        options: None,
        hint: None,
        error: error_of(name),
    };
    let mut gender = field("gender", "text", &input.gender, true);
    gender.options =
        Some(vec![("male".into(), lang.t("gender.male").into()), ("female".into(), lang.t("gender.female").into())]);
    let mut origin = field("origin", "text", &input.origin, false);
    origin.options = Some(
        std::iter::once((String::new(), "—".to_string()))
            .chain(origins.iter().map(|n| (n.clone(), n.clone())))
            .collect(),
    );
    let mut relation = field("relation", "text", &input.relation, true);
    relation.options =
        Some(Relation::ALL.iter().map(|r| (r.code().to_string(), relation_label(r.code(), lang))).collect());
    let mut id_card = field("id_card", "text", &input.id_card, false);
    id_card.hint = Some(lang.t("resident.id_card_hint").to_string());
    let mut phone = field("phone", "tel", &input.phone, false);
    phone.hint = Some(lang.t("resident.phone_hint").to_string());
    let mut tag_field = field("tags", "text", &input.tags, false);
    let names: Vec<String> =
        tags.iter().map(|t| if lang == Lang::Zh { t.name_zh.clone() } else { t.code.clone() }).collect();
    tag_field.hint = Some(format!("{}{}", lang.t("resident.tags_hint"), names.join("、")));
    let fields = vec![
        field("name", "text", &input.name, true),
        gender,
        field("birth_date", "date", &input.birth_date, true),
        id_card,
        phone,
        relation,
        origin,
        field("move_in_date", "date", &input.move_in_date, false),
        field("wedding_date", "date", &input.wedding_date, false),
        tag_field,
    ];
    let title = if version == 0 { lang.t("resident.new_title") } else { lang.t("resident.edit_title") };
    Ok(ResidentFormPage {
        l: ctx.layout(title, Some(auth)),
        household_id,
        address: choices.address,
        action,
        version,
        fields,
        errors,
    })
}

async fn edit_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = async {
        let v = registry::resident_to_edit(&state.app, &auth, id).await?;
        // Only the community's own tags are set by hand; the computed ones follow from the register.
        let tags = registry::tags(&state.app, &auth, Some(v.community_id)).await?;
        let manual: Vec<String> =
            v.tags.iter().filter_map(|c| tags.tags.iter().find(|t| &t.code == c).map(|t| t.name_zh.clone())).collect();
        let input = ResidentInput {
            name: v.name.clone(),
            gender: v.gender.clone(),
            birth_date: v.birth_date.to_string(),
            id_card: String::new(),
            phone: v.phone.clone().unwrap_or_default(),
            origin: v.origin.clone().unwrap_or_default(),
            move_in_date: v.move_in_date.map(|d| d.to_string()).unwrap_or_default(),
            relation: v.relation.clone(),
            wedding_date: v.wedding_date.map(|d| d.to_string()).unwrap_or_default(),
            tags: manual.join("、"),
        };
        resident_form(
            &state,
            &ctx,
            &auth,
            FormTarget { household_id: v.household_id, action: format!("/residents/{id}/edit"), version: v.version },
            &input,
            vec![],
        )
        .await
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

async fn edit_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ResidentForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let version: i64 = f.version.trim().parse().unwrap_or(-1);
    match registry::edit_resident(&state.app, &auth, id, version, &f.input).await.map_err(ApiError::from) {
        Ok(r) => axum::response::Redirect::to(&format!("/households/{}", r.household_id)).into_response(),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = e.status();
            let issues = if let ApiError::Conflict(m) = &e {
                vec![FieldIssue { field: "form".into(), message: m.clone(), row: None }]
            } else {
                e.issues()
            };
            let household = match registry::household_of(&state.app, &auth, id).await {
                Ok(h) => h,
                Err(e) => return error_page(&ctx, Some(&auth), e.into()),
            };
            match resident_form(
                &state,
                &ctx,
                &auth,
                FormTarget { household_id: household, action: format!("/residents/{id}/edit"), version },
                &f.input,
                issues,
            )
            .await
            {
                Ok(page) => (status, render(page)).into_response(),
                Err(e) => error_page(&ctx, Some(&auth), e),
            }
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

async fn new_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(household): Path<i64>) -> Response {
    let result = async {
        let input = ResidentInput { relation: "other".into(), ..Default::default() };
        resident_form(
            &state,
            &ctx,
            &auth,
            FormTarget {
                household_id: household,
                action: format!("/households/{household}/residents/new"),
                version: 0,
            },
            &input,
            vec![],
        )
        .await
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

async fn new_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(household): Path<i64>,
    Form(f): Form<ResidentForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    match registry::add_resident(&state.app, &auth, household, &f.input).await.map_err(ApiError::from) {
        Ok(_) => axum::response::Redirect::to(&format!("/households/{household}")).into_response(),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = e.status();
            let issues = if let ApiError::Conflict(m) = &e {
                vec![FieldIssue { field: "id_card".into(), message: m.clone(), row: None }]
            } else {
                e.issues()
            };
            match resident_form(
                &state,
                &ctx,
                &auth,
                FormTarget {
                    household_id: household,
                    action: format!("/households/{household}/residents/new"),
                    version: 0,
                },
                &f.input,
                issues,
            )
            .await
            {
                Ok(page) => (status, render(page)).into_response(),
                Err(e) => error_page(&ctx, Some(&auth), e),
            }
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn reveal_id(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        auth.check_csrf(&f.csrf)?;
        Ok::<_, ApiError>(registry::reveal_id_card(&state.app, &auth, id).await?)
    }
    .await;
    match result {
        Ok(read) => message(
            &ctx,
            Some(&auth),
            StatusCode::OK,
            &format!("{} · {}", read.name, ctx.lang.t("resident.id_card")),
            vec![ctx.lang.t("resident.reveal_logged").to_string()],
            Some(read.id_card.unwrap_or_else(|| "—".into())),
            &format!("/households/{}", read.household_id),
        ),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

async fn signup_code(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        auth.check_csrf(&f.csrf)?;
        issue_code(&state, &auth, id).await
    }
    .await;
    match result {
        Ok((code, expires)) => {
            let until = expires.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string();
            message(
                &ctx,
                Some(&auth),
                StatusCode::CREATED,
                ctx.lang.t("household.code_title"),
                vec![format!("{} {until}", ctx.lang.t("household.code_hint"))],
                Some(code),
                &format!("/households/{id}"),
            )
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

/// A WeChat binding code for the household, shown once.
async fn wechat_code(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        auth.check_csrf(&f.csrf)?;
        Ok::<_, ApiError>(wujia_app::wechat::issue_code(&state.app, &auth, id).await?)
    }
    .await;
    match result {
        Ok(issued) => {
            let until =
                issued.expires_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M").to_string();
            message(
                &ctx,
                Some(&auth),
                StatusCode::CREATED,
                ctx.lang.t("wechat.code_title"),
                vec![format!("{} {until}", ctx.lang.t("wechat.code_hint"))],
                Some(issued.code),
                &format!("/households/{id}"),
            )
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    l: Layout,
    summary: String,
    hits: Vec<SearchHit>,
    /// Full-text hits: kind, link, title, highlighted snippet (escaped by the index, marks in <b>).
    records: Vec<(String, String, String, String)>,
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    c: Option<i64>,
}

async fn search_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<SearchParams>,
) -> Response {
    // Records found by full text, for those who may see them (the registry hits come first).
    let q = crate::api::search::SearchQuery { q: p.q.clone(), limit: Some(30), ..Default::default() };
    let records = if p.q.trim().is_empty() {
        Vec::new()
    } else {
        match crate::api::search::search(&state, &auth, &q).await {
            Ok(records) => records,
            Err(e) => return error_page(&ctx, Some(&auth), e),
        }
    };
    let records: Vec<(String, String, String, String)> = records
        .into_iter()
        .map(|h| (ctx.lang.t(&format!("search.kind_{}", h.kind)).to_string(), h.link, h.title, h.snippet))
        .collect();
    match registry::search(&state.app, &auth, p.c, &p.q, 100).await.map_err(ApiError::from) {
        Ok(hits) => {
            let summary = if p.q.trim().is_empty() {
                ctx.lang.t("search.empty_query").to_string()
            } else if hits.is_empty() {
                format!("{}「{}」", ctx.lang.t("search.none"), p.q.trim())
            } else {
                format!("「{}」: {} {}", p.q.trim(), hits.len(), ctx.lang.t("search.results"))
            };
            let mut l = ctx.layout(ctx.lang.t("search.title"), Some(&auth));
            l.query = p.q.clone();
            render(SearchPage { l, summary, hits, records })
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    l: Layout,
    community_id: i64,
    report: Option<ImportReport>,
    errors: Vec<FieldIssue>,
    error_summary: String,
}

fn import_page_for(
    ctx: &PageContext,
    auth: &Auth,
    community: i64,
    report: Option<ImportReport>,
    errors: Vec<FieldIssue>,
) -> ImportPage {
    let error_summary = if errors.is_empty() {
        String::new()
    } else {
        format!("{} ({})", ctx.lang.t("import.has_errors"), errors.len())
    };
    ImportPage {
        l: ctx.layout(ctx.lang.t("import.title"), Some(auth)),
        community_id: community,
        report,
        errors,
        error_summary,
    }
}

async fn import_page(ctx: PageContext, auth: Auth, Query(q): Query<CommunityParam>) -> Response {
    match auth.community(q.c) {
        Ok(c) => render(import_page_for(&ctx, &auth, c, None, vec![])),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

async fn import_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<CommunityParam>,
    mut multipart: Multipart,
) -> Response {
    let community = match auth.community(q.c) {
        Ok(c) => c,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    let mut csrf = String::new();
    let mut dry_run = false;
    let mut file: Option<Vec<u8>> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                let bytes = match field.bytes().await {
                    Ok(b) => b,
                    Err(_) => return error_page(&ctx, Some(&auth), ApiError::PayloadTooLarge),
                };
                match name.as_str() {
                    "csrf" => csrf = String::from_utf8_lossy(&bytes).to_string(),
                    "dry_run" => dry_run = !bytes.is_empty(),
                    "file" => file = Some(bytes.to_vec()),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => {
                return error_page(
                    &ctx,
                    Some(&auth),
                    ApiError::BadRequest { field: Some("file".into()), detail: ctx.lang.t("import.unreadable").into() },
                );
            }
        }
    }
    if let Err(e) = auth.check_csrf(&csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let issues = vec![FieldIssue {
            field: ctx.lang.t("import.file").into(),
            message: ctx.lang.t("import.no_file").into(),
            row: None,
        }];
        return (StatusCode::UNPROCESSABLE_ENTITY, render(import_page_for(&ctx, &auth, community, None, issues)))
            .into_response();
    };
    match import_file(&state, &auth, Some(community), &bytes, dry_run).await {
        Ok(report) => render(import_page_for(&ctx, &auth, community, Some(report), vec![])),
        Err(e @ (ApiError::Validation(_) | ApiError::UnsupportedFile(_) | ApiError::PayloadTooLarge)) => {
            let status = e.status();
            let mut issues = e.issues();
            if issues.is_empty() {
                issues.push(FieldIssue { field: ctx.lang.t("import.file").into(), message: e.detail(), row: None });
            }
            (status, render(import_page_for(&ctx, &auth, community, None, issues))).into_response()
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct FileParams {
    format: Option<String>,
    c: Option<i64>,
}

fn parse_format(p: &FileParams) -> Result<Format, ApiError> {
    p.format
        .as_deref()
        .map_or(Ok(Format::Xlsx), |f| Format::parse(f).ok_or_else(|| ApiError::field("format", "xlsx | csv")))
}

async fn template_file(ctx: PageContext, auth: Auth, Query(p): Query<FileParams>) -> Response {
    let result = parse_format(&p)
        .and_then(|f| transfer::template(f).map(|b| (f, b)).map_err(|e| ApiError::Internal(e.to_string())));
    match result {
        Ok((f, bytes)) => file_response(f, "registry-template", bytes),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

async fn export(State(state): State<AppState>, ctx: PageContext, auth: Auth, Query(p): Query<FileParams>) -> Response {
    let result = async {
        let format = parse_format(&p)?;
        let community = auth.community(p.c)?;
        Ok::<_, ApiError>((format, registry::export(&state.app, &auth, community, format).await?))
    }
    .await;
    match result {
        Ok((f, bytes)) => file_response(f, "residents", bytes),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

/// Registry page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(console))
        .route("/compounds/{id}", get(compound))
        .route("/buildings/{id}", get(building))
        .route("/households/{id}", get(household))
        .route("/households/{id}/residents/new", get(new_page).post(new_submit))
        .route("/households/{id}/signup-code", post(signup_code))
        .route("/households/{id}/wechat-code", post(wechat_code))
        .route("/residents/{id}/edit", get(edit_page).post(edit_submit))
        .route("/residents/{id}/id-card", post(reveal_id))
        .route("/search", get(search_page))
        .route(
            "/registry/import",
            get(import_page).post(import_submit).layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES)),
        )
        .route("/registry/template", get(template_file))
        .route("/registry/export", get(export))
        .route("/registry/tags", get(tags_page).post(tags_submit))
}

#[derive(Template)]
#[template(path = "tags.html")]
struct TagsPage {
    l: Layout,
    community_id: i64,
    tags: Vec<(String, String, String, i64)>,
    can_manage: bool,
    errors: Vec<FieldIssue>,
}

async fn tags_page_for(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    community: Option<i64>,
    errors: Vec<FieldIssue>,
) -> Result<TagsPage, ApiError> {
    let summary = registry::figures(&state.app, auth, community).await?;
    let community = summary.community_id;
    let set = registry::tags(&state.app, auth, Some(community)).await?;
    let mut tags: Vec<(String, String, String, i64)> = Vec::new();
    for t in set.tags {
        let n = summary.with_tag(&t.code);
        tags.push((t.code, t.name_zh, t.name_en, n));
    }
    for t in set.derived {
        tags.push((t.code.into(), t.name_zh.into(), t.name_en.into(), summary.with_tag(t.code)));
    }
    Ok(TagsPage {
        l: ctx.layout(ctx.lang.t("tags.title"), Some(auth)),
        community_id: community,
        tags,
        can_manage: auth.can(Action::ManageTags, Scope::community(community)),
        errors,
    })
}

async fn tags_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<CommunityParam>,
) -> Response {
    match tags_page_for(&state, &ctx, &auth, q.c, vec![]).await {
        Ok(p) => render(p),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct TagForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
}

async fn tags_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<CommunityParam>,
    Form(f): Form<TagForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let new = NewTag { community_id: q.c, code: f.code, name_zh: f.name_zh, name_en: f.name_en };
    match registry::add_tag(&state.app, &auth, &new).await.map_err(ApiError::from) {
        Ok(_) => axum::response::Redirect::to(&format!("/registry/tags?c={}", q.c.unwrap_or_default())).into_response(),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = e.status();
            let issues = if let ApiError::Conflict(m) = &e {
                vec![FieldIssue { field: "code".into(), message: m.clone(), row: None }]
            } else {
                e.issues()
            };
            match tags_page_for(&state, &ctx, &auth, q.c, issues).await {
                Ok(p) => (status, render(p)).into_response(),
                Err(e) => error_page(&ctx, Some(&auth), e),
            }
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}
