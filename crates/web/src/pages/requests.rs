//! Request pages: the queue, a request with its timeline and the actions open to the viewer, intake, and the figures.

use super::{Layout, PageContext, error_page, page_or_error, render};
use crate::AppState;
use crate::api::requests::{QueueQuery, SummaryQuery, leaves};
use crate::auth::Auth;
use crate::error::{ApiError, FieldIssue};
use crate::i18n::Lang;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wujia_app::requests::{self as use_case, TakeIn, act, queue, summary, take_in};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::registry::AddressQuery;
use wujia_core::requests::{ActionKind, Channel, Command, Rate, Status};

use super::when;

fn status_label(code: &str, lang: Lang) -> String {
    lang.t(&format!("status.{code}")).to_string()
}

fn channel_label(code: &str, lang: Lang) -> String {
    lang.t(&format!("channel.{code}")).to_string()
}

/// One row of the queue.
struct QueueRow {
    /// Still open, so it may be merged.
    open: bool,
    id: i64,
    number: String,
    category: String,
    location: String,
    status: String,
    due: String,
    overdue: bool,
    paused: bool,
    lead: String,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct QueuePage {
    l: Layout,
    rows: Vec<QueueRow>,
    statuses: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    status: String,
    category: String,
    channel: String,
    mine: bool,
    my_buildings: Option<bool>,
    can_merge: bool,
}

fn category_name(c: &wujia_store::Category, lang: Lang) -> String {
    if lang == Lang::Zh { c.name_zh.clone() } else { c.name_en.clone() }
}

#[derive(Deserialize)]
struct QueueParams {
    status: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    #[serde(default)]
    mine: bool,
    buildings: Option<String>,
}

async fn queue_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<QueueParams>,
) -> Response {
    let status = p.status.clone().unwrap_or_else(|| "open".into());
    let result = async {
        let q = QueueQuery {
            status: Some(status.clone()).filter(|s| !s.is_empty()),
            category: p.category.clone(),
            channel: p.channel.clone(),
            building_id: None,
            buildings: p.buildings.clone(),
            mine: p.mine,
            from: None,
            to: None,
            limit: Some(200),
            community_id: None,
        };
        let rows = queue(&state.app, &auth, &q.filter()?).await?;
        let cats = state.store.categories().await?;
        let leads: Vec<i64> = rows.iter().filter_map(|r| r.lead_id).collect();
        let users = state.store.display_names(&leads).await?;
        let now = state.clock.now();
        let lang = ctx.lang;
        let rows = rows
            .into_iter()
            .map(|r| {
                let open = Status::from_code(&r.status).is_some_and(Status::is_open);
                QueueRow {
                    open,
                    id: r.id,
                    category: cats
                        .iter()
                        .find(|c| c.id == r.category_id)
                        .map(|c| category_name(c, lang))
                        .unwrap_or_default(),
                    location: r.location.clone(),
                    status: status_label(&r.status, lang),
                    due: when(r.resolve_due),
                    overdue: open && r.paused_reason.is_none() && now > r.resolve_due,
                    paused: r.paused_reason.is_some(),
                    lead: r.lead_id.and_then(|l| users.get(&l).cloned()).unwrap_or_else(|| "—".into()),
                    number: r.number,
                }
            })
            .collect();
        let mut statuses = vec![
            ("open".to_string(), lang.t("requests.open").to_string()),
            (String::new(), lang.t("requests.all").to_string()),
        ];
        statuses.extend(Status::ALL.iter().map(|s| (s.code().to_string(), status_label(s.code(), lang))));
        let can_merge = auth.community(None).is_ok_and(|c| auth.can(Action::DispatchRequests, Scope::community(c)));
        Ok::<_, ApiError>(QueuePage {
            can_merge,
            l: ctx.layout(lang.t("requests.title"), Some(&auth)),
            rows,
            statuses,
            categories: cats
                .iter()
                .filter(|c| c.parent_id.is_none())
                .map(|c| (c.code.clone(), category_name(c, lang)))
                .collect(),
            channels: Channel::ALL.iter().map(|c| (c.code().to_string(), channel_label(c.code(), lang))).collect(),
            status: status.clone(),
            category: p.category.clone().unwrap_or_default(),
            channel: p.channel.clone().unwrap_or_default(),
            mine: p.mine,
            // Offered to those who look after buildings; checked when on.
            my_buildings: (!auth.actor.buildings.is_empty()).then(|| p.buildings.as_deref() == Some("mine")),
        })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

/// An input of an action form.
struct ActionField {
    name: &'static str,
    label: String,
    options: Vec<(String, String)>,
}

/// An action the viewer may take now.
struct ActionForm {
    code: &'static str,
    label: String,
    fields: Vec<ActionField>,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    l: Layout,
    id: i64,
    version: i64,
    number: String,
    status: String,
    category: String,
    location: String,
    channel: String,
    contact: String,
    respond_due: String,
    resolve_due: String,
    lead: String,
    paused: Option<String>,
    description: String,
    resolution: Option<String>,
    photos: Vec<(String, String)>,
    actions: Vec<ActionForm>,
    timeline: Vec<(String, String, String, String)>,
    back: String,
    errors: Vec<FieldIssue>,
}

async fn request_page_for(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    errors: Vec<FieldIssue>,
) -> Result<RequestPage, ApiError> {
    let detail = use_case::get(&state.app, auth, id).await?;
    let (r, timeline) = (detail.request, detail.timeline);
    let lang = ctx.lang;
    let cats = state.store.categories().await?;
    let lead_name = state.store.display_names(&r.lead_id.into_iter().collect::<Vec<_>>()).await?;
    let name_of = |id: Option<i64>| id.and_then(|i| lead_name.get(&i).cloned()).unwrap_or_else(|| "—".to_string());
    // Work goes to those who work in the request's community; the list is read only when a form needs it.
    let needs_people =
        detail.actions.iter().any(|a| matches!(a, ActionKind::Dispatch | ActionKind::Reassign | ActionKind::Escalate));
    let users = if needs_people {
        state
            .store
            .community_accounts(
                r.community_id,
                &[Role::Staff, Role::SocialWorker, Role::Property, Role::Developer, Role::Street],
            )
            .await?
    } else {
        Vec::new()
    };
    let handlers: Vec<(String, String)> = users
        .iter()
        .map(|u| (u.id.to_string(), format!("{} · {}", u.display_name, lang.t(&format!("role.{}", u.role.code())))))
        .collect();
    let streets: Vec<(String, String)> =
        users.iter().filter(|u| u.role() == Role::Street).map(|u| (u.id.to_string(), u.display_name.clone())).collect();
    let text = |name: &'static str| ActionField {
        name,
        label: lang.t(&format!("requests.field_{name}")).to_string(),
        options: vec![],
    };
    let choose = |name: &'static str, options: Vec<(String, String)>| ActionField {
        name,
        label: lang.t(&format!("requests.field_{name}")).to_string(),
        options,
    };
    let solved = vec![
        ("solved".to_string(), lang.t("solved.solved").to_string()),
        ("partly_solved".to_string(), lang.t("solved.partly_solved").to_string()),
        ("not_solved".to_string(), lang.t("solved.not_solved").to_string()),
    ];
    let satisfaction = vec![
        ("satisfied".to_string(), lang.t("satisfaction.satisfied").to_string()),
        ("basically_satisfied".to_string(), lang.t("satisfaction.basically_satisfied").to_string()),
        ("dissatisfied".to_string(), lang.t("satisfaction.dissatisfied").to_string()),
    ];
    // The domain says which actions are open; the page only knows which fields each one asks for.
    let actions = detail
        .actions
        .iter()
        .map(|kind| {
            let fields = match kind {
                ActionKind::Respond => vec![text("note")],
                ActionKind::Dispatch | ActionKind::Reassign => vec![choose("lead", handlers.clone())],
                ActionKind::Resolve => vec![text("resolution")],
                ActionKind::FollowUp => {
                    vec![choose("solved", solved.clone()), choose("satisfaction", satisfaction.clone()), text("note")]
                }
                ActionKind::Return | ActionKind::Pause => vec![text("reason")],
                ActionKind::Escalate => vec![choose("to", streets.clone()), text("reason")],
                ActionKind::Start | ActionKind::Close | ActionKind::Resume => vec![],
            };
            ActionForm { code: kind.code(), label: lang.t(&format!("action.{}", kind.code())).to_string(), fields }
        })
        .collect();
    let timeline = timeline
        .into_iter()
        .map(|t| {
            let action = lang.t(&format!("event.{}", t.action)).to_string();
            let detail = ["note", "reason", "resolution", "description"]
                .iter()
                .filter_map(|k| t.detail.get(*k).and_then(|v| v.as_str()))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            (when(t.at), t.actor, action, detail)
        })
        .collect();
    let category = cats.iter().find(|c| c.id == r.category_id).map(|c| category_name(c, lang)).unwrap_or_default();
    // Masked or in full as the rules decided for this viewer (a full read is already in the audit log).
    let contact = match &r.contact_phone {
        Some(p) => format!("{} {p}", r.contact_name),
        None => r.contact_name.clone(),
    };
    Ok(RequestPage {
        l: ctx.layout(&r.number, Some(auth)),
        id: r.id,
        version: r.version,
        status: status_label(&r.status, lang),
        category,
        location: r.location.clone(),
        channel: channel_label(&r.channel, lang),
        contact,
        respond_due: when(r.respond_due),
        resolve_due: when(r.resolve_due),
        lead: name_of(r.lead_id),
        paused: r.paused_reason.clone(),
        description: r.description.clone(),
        resolution: r.resolution.clone(),
        photos: state
            .store
            .photos(r.id)
            .await?
            .into_iter()
            .map(|p| (format!("/api/v1/photos/{}", p.blob), lang.t(&format!("requests.photo_{}", p.stage)).to_string()))
            .collect(),
        actions,
        timeline,
        back: "/requests".into(),
        errors,
        number: r.number,
    })
}

async fn request_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    match request_page_for(&state, &ctx, &auth, id, vec![]).await {
        Ok(p) => render(p),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize, Default)]
struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    lead: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    solved: String,
    #[serde(default)]
    satisfaction: String,
}

fn pick<T: serde::de::DeserializeOwned>(field: &str, s: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::json!(s)).map_err(|_| ApiError::field(field, "请选择 / choose one"))
}

fn command_of(f: &ActForm) -> Result<Command, ApiError> {
    let id = |field: &str, s: &str| s.trim().parse::<i64>().map_err(|_| ApiError::field(field, "请选择 / choose one"));
    Ok(match f.action.as_str() {
        "respond" => Command::Respond { note: f.note.clone() },
        "dispatch" => Command::Dispatch { lead: id("lead", &f.lead)?, co_handlers: vec![] },
        "start" => Command::Start,
        "resolve" => Command::Resolve { resolution: f.resolution.clone() },
        "follow_up" => Command::FollowUp {
            solved: pick("solved", &f.solved)?,
            satisfaction: pick("satisfaction", &f.satisfaction)?,
            note: f.note.clone(),
        },
        "close" => Command::Close,
        "return" => Command::Return { reason: f.reason.clone() },
        "reassign" => Command::Reassign { lead: id("lead", &f.lead)?, co_handlers: vec![] },
        "escalate" => Command::Escalate { to: id("to", &f.to)?, reason: f.reason.clone() },
        "pause" => Command::Pause { reason: f.reason.clone() },
        "resume" => Command::Resume,
        _ => return Err(ApiError::field("action", "未知操作 / unknown action")),
    })
}

async fn act_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ActForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let result = async {
        let command = command_of(&f)?;
        let version = f.version.trim().parse::<i64>().unwrap_or(-1);
        Ok(act(&state.app, &auth, id, version, &command).await?)
    }
    .await;
    act_outcome(&state, &ctx, &auth, id, result).await
}

/// Resolving from the page, with photos of what was done: every photo is checked before anything is written, then
/// the request is resolved and the photos are kept as the resolution's.
async fn resolve_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Response {
    let form = match crate::form::PhotoForm::read_submitted(multipart, &auth).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    let field = |name: &str| form.fields.get(name).cloned().unwrap_or_default();
    let result = async {
        let r = state.store.request(id).await?;
        if state.store.photos(id).await?.len() + form.photos.len() > crate::api::photos::MAX_PHOTOS {
            return Err(ApiError::field("photos", "每件诉求最多 9 张照片 / at most 9 photos per request"));
        }
        let mut cleaned = Vec::with_capacity(form.photos.len());
        for photo in &form.photos {
            cleaned.push(crate::api::photos::take_in(photo.clone()).await?);
        }
        let version = field("version").trim().parse::<i64>().unwrap_or(-1);
        let resolved =
            act(&state.app, &auth, id, version, &Command::Resolve { resolution: field("resolution") }).await?;
        for clean in cleaned {
            crate::api::photos::attach(&state, &auth, &r, clean).await?;
        }
        Ok(resolved)
    }
    .await;
    act_outcome(&state, &ctx, &auth, id, result).await
}

/// The page after a workflow action: back to the request, or the request again with what was wrong.
async fn act_outcome<T>(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    result: Result<T, ApiError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(&format!("/requests/{id}")).into_response(),
        Err(e @ (ApiError::Validation(_) | ApiError::Conflict(_))) => {
            let status = e.status();
            let issues = match &e {
                ApiError::Conflict(m) => vec![FieldIssue { field: "action".into(), message: m.clone(), row: None }],
                other => other.issues(),
            };
            match request_page_for(state, ctx, auth, id, issues).await {
                Ok(p) => (status, render(p)).into_response(),
                Err(e) => error_page(ctx, Some(auth), e),
            }
        }
        Err(e) => error_page(ctx, Some(auth), e),
    }
}

#[derive(Template)]
#[template(path = "request_new.html")]
struct NewPage {
    l: Layout,
    answers: Vec<(String, String)>,
    staff: bool,
    categories: Vec<(i64, String)>,
    channels: Vec<(String, String)>,
    errors: Vec<FieldIssue>,
    category_id: String,
    description: String,
    channel: String,
    location: String,
    contact_name: String,
    contact_phone: String,
    external_no: String,
}

#[derive(Deserialize, Default)]
struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    external_no: String,
}

async fn new_page_for(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    f: &NewForm,
    errors: Vec<FieldIssue>,
) -> Result<NewPage, ApiError> {
    let staff = !matches!(auth.role(), Role::Resident | Role::Volunteer);
    let channels = Channel::ALL
        .iter()
        .filter(|c| !matches!(c, Channel::Portal | Channel::Open311))
        .map(|c| (c.code().to_string(), channel_label(c.code(), ctx.lang)))
        .collect();
    // Answers already published, so that a resident may find theirs before asking.
    let answers = match auth.community(None) {
        Ok(c) => {
            state.store.knowledge(c, None, None).await?.into_iter().take(10).map(|k| (k.title, k.answer)).collect()
        }
        Err(_) => Vec::new(),
    };
    Ok(NewPage {
        l: ctx.layout(ctx.lang.t("requests.new"), Some(auth)),
        answers,
        staff,
        categories: leaves(&state.store.categories().await?),
        channels,
        errors,
        category_id: f.category_id.clone(),
        description: f.description.clone(),
        channel: f.channel.clone(),
        location: f.location.clone(),
        contact_name: f.contact_name.clone(),
        contact_phone: f.contact_phone.clone(),
        external_no: f.external_no.clone(),
    })
}

async fn new_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    match new_page_for(&state, &ctx, &auth, &NewForm::default(), vec![]).await {
        Ok(p) => render(p),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

/// Photos one form may carry.
const FORM_PHOTOS: usize = 3;

async fn read_new_form(mut multipart: Multipart) -> Result<(NewForm, Vec<Vec<u8>>), ApiError> {
    let mut f = NewForm::default();
    let mut photos = Vec::new();
    let unreadable = || ApiError::BadRequest {
        field: Some("photos".into()),
        detail: "上传内容无法读取 / the upload could not be read".into(),
    };
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or("").to_string();
        if name == "photos" {
            let bytes = field.bytes().await.map_err(|_| ApiError::PayloadTooLarge)?;
            if !bytes.is_empty() {
                photos.push(bytes.to_vec());
            }
            continue;
        }
        let text = field.text().await.map_err(|_| unreadable())?;
        match name.as_str() {
            "csrf" => f.csrf = text,
            "category_id" => f.category_id = text,
            "description" => f.description = text,
            "channel" => f.channel = text,
            "location" => f.location = text,
            "contact_name" => f.contact_name = text,
            "contact_phone" => f.contact_phone = text,
            "external_no" => f.external_no = text,
            _ => {}
        }
    }
    Ok((f, photos))
}

async fn new_submit(State(state): State<AppState>, ctx: PageContext, auth: Auth, multipart: Multipart) -> Response {
    let (f, photos) = match read_new_form(multipart).await {
        Ok(x) => x,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let result = async {
        // Photos are checked before anything is written, so a bad photo leaves no request behind.
        if photos.len() > FORM_PHOTOS {
            return Err(ApiError::field("photos", "每次最多上传 3 张照片 / at most 3 photos at a time"));
        }
        let mut cleaned = Vec::new();
        for p in photos {
            cleaned.push(crate::api::photos::take_in(p).await.map_err(|e| ApiError::field("photos", e.detail()))?);
        }
        let category_id = f
            .category_id
            .trim()
            .parse::<i64>()
            .map_err(|_| ApiError::field("category_id", "请选择类别 / choose a category"))?;
        // A full address typed by staff is resolved to its household; anything else is a place.
        let mut household_id = None;
        if AddressQuery::parse(&f.location).is_some_and(|q| q.is_complete()) {
            let hits = state.store.households_at_address(auth.community(None)?, &f.location, 2).await?;
            if let [hit] = hits.as_slice() {
                household_id = Some(hit.household_id);
            }
        }
        let body = TakeIn {
            category_id,
            description: f.description.clone(),
            channel: Some(f.channel.clone()).filter(|c| !c.is_empty()),
            household_id,
            location: Some(f.location.clone()),
            contact_name: Some(f.contact_name.clone()),
            contact_phone: Some(f.contact_phone.clone()),
            answers: serde_json::Map::new(),
            external_no: Some(f.external_no.clone()),
            community_id: None,
        };
        let taken = take_in(&state.app, &auth, &body, None).await?;
        if !cleaned.is_empty() {
            let r = state.store.request(taken.id).await?;
            for clean in cleaned {
                crate::api::photos::attach(&state, &auth, &r, clean).await?;
            }
        }
        Ok(taken)
    }
    .await;
    match result {
        Ok(r) => Redirect::to(&format!("/requests/{}", r.id)).into_response(),
        Err(e @ ApiError::Validation(_)) => {
            let status = e.status();
            match new_page_for(&state, &ctx, &auth, &f, e.issues()).await {
                Ok(p) => (status, render(p)).into_response(),
                Err(e) => error_page(&ctx, Some(&auth), e),
            }
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Template)]
#[template(path = "request_figures.html")]
struct FiguresPage {
    l: Layout,
    from: String,
    to: String,
    rates: Vec<(String, String, bool)>,
    by_category: Vec<(String, String, String, String, String)>,
    by_channel: Vec<(String, String, String, String, String)>,
    definitions: Vec<(String, String)>,
}

fn percent(rate: &Rate) -> String {
    rate.value.map_or_else(|| "—".to_string(), |v| format!("{:.1}%", v * 100.0))
}

fn row(name: String, r: &wujia_core::requests::ThreeRates) -> (String, String, String, String, String) {
    (name, r.requests.to_string(), percent(&r.response), percent(&r.resolution), percent(&r.satisfaction))
}

#[derive(Deserialize)]
struct FigureParams {
    from: Option<String>,
    to: Option<String>,
}

async fn figures_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<FigureParams>,
) -> Response {
    let result = async {
        let q = SummaryQuery { from: p.from.clone(), to: p.to.clone(), community_id: None };
        let s = summary(&state.app, &auth, &q.period()?).await?;
        let cats = state.store.categories().await?;
        let lang = ctx.lang;
        let o = &s.overall;
        let minutes =
            |v: Option<f64>| v.map_or_else(|| "—".into(), |m| format!("{m:.0} {}", lang.t("requests.minutes")));
        let rates = vec![
            (lang.t("requests.count").to_string(), o.requests.to_string(), false),
            (lang.t("requests.response_rate").to_string(), percent(&o.response), o.response.small_sample),
            (lang.t("requests.resolution_rate").to_string(), percent(&o.resolution), o.resolution.small_sample),
            (lang.t("requests.satisfaction_rate").to_string(), percent(&o.satisfaction), o.satisfaction.small_sample),
            (lang.t("requests.mean_respond").to_string(), minutes(o.mean_minutes_to_respond), false),
            (lang.t("requests.mean_resolve").to_string(), minutes(o.mean_minutes_to_resolve), false),
            (lang.t("requests.overdue_count").to_string(), o.overdue.to_string(), false),
            (lang.t("requests.from_12345").to_string(), s.from_12345.to_string(), false),
        ];
        let by_category = s
            .by_category
            .iter()
            .map(|(code, r)| {
                let name = cats.iter().find(|c| &c.code == code).map_or(code.clone(), |c| category_name(c, lang));
                row(name, r)
            })
            .collect();
        let by_channel = s.by_channel.iter().map(|(code, r)| row(channel_label(code, lang), r)).collect();
        let d = &s.definitions;
        let definitions = [
            ("response_rate", d.response_rate),
            ("resolution_rate", d.resolution_rate),
            ("satisfaction_rate", d.satisfaction_rate),
            ("small_sample", d.small_sample),
        ]
        .iter()
        .map(|(k, text)| (lang.t(&format!("requests.{k}")).to_string(), (*text).to_string()))
        .collect();
        Ok::<_, ApiError>(FiguresPage {
            l: ctx.layout(lang.t("requests.figures"), Some(&auth)),
            from: p.from.clone().unwrap_or_default(),
            to: p.to.clone().unwrap_or_default(),
            rates,
            by_category,
            by_channel,
            definitions,
        })
    }
    .await;
    page_or_error(&ctx, &auth, result)
}

/// Request page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(queue_page))
        .route(
            "/requests/new",
            get(new_page).post(new_submit).layer(axum::extract::DefaultBodyLimit::max(
                FORM_PHOTOS * wujia_core::media::MAX_PHOTO_BYTES + 1024 * 1024,
            )),
        )
        .route("/requests/figures", get(figures_page))
        .route("/requests/{id}", get(request_page))
        .route("/requests/{id}/act", post(act_submit))
        .route(
            "/requests/{id}/resolve",
            post(resolve_submit).layer(axum::extract::DefaultBodyLimit::max(crate::api::PHOTO_FORM_BYTES)),
        )
}
