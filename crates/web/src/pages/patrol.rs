//! Patrol pages: today's rounds and a round on a phone (check in, record a finding, even offline), the QR
//! sticker's page, the zero-illegal-construction board, cases, joint meetings and the figures.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::form::PhotoForm;
use crate::i18n::Lang;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Deserialize;
use std::collections::HashMap;
use wujia_app::patrol::{self, CheckIn, NewCheckpoint, NewPlan, RoundsQuery};
use wujia_app::period::PeriodQuery;
use wujia_core::accounts::{Action, Scope};
use wujia_core::patrol::FindingType;
use wujia_core::patrol::cases::CaseStep;

use super::when;

fn hm(t: DateTime<Utc>) -> String {
    t.with_timezone(&Shanghai).format("%H:%M").to_string()
}

fn kind_label(code: &str, lang: Lang) -> String {
    lang.t(&format!("finding.{code}")).to_string()
}

fn kinds(lang: Lang) -> Vec<(String, String)> {
    FindingType::ALL.iter().map(|t| (t.code().to_string(), kind_label(t.code(), lang))).collect()
}

/// All patrol page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/patrol", get(today_page))
        .route("/patrol/rounds/{id}", get(round_page))
        .route("/patrol/rounds/{id}/checkins", post(checkin_submit))
        .route("/patrol/rounds/{id}/completion", post(finish_submit))
        .route(
            "/patrol/findings",
            post(finding_submit).layer(axum::extract::DefaultBodyLimit::max(crate::api::PHOTO_FORM_BYTES)),
        )
        .route("/patrol/scan/{code}", get(scan_page))
        .route("/patrol/board", get(board_page))
        .route("/patrol/cases/{id}", get(case_page))
        .route(
            "/patrol/cases/{id}/steps",
            post(step_submit).layer(axum::extract::DefaultBodyLimit::max(crate::api::PHOTO_FORM_BYTES)),
        )
        .route("/patrol/meetings", get(meetings_page).post(meeting_create))
        .route("/patrol/meetings/{id}", get(meeting_page))
        .route("/patrol/meetings/{id}/minutes", post(minutes_submit))
        .route("/patrol/actions/{id}", post(action_submit))
        .route("/patrol/figures", get(figures_page))
        .route(
            "/patrol/buildings/{id}/baselines",
            post(baseline_submit).layer(axum::extract::DefaultBodyLimit::max(crate::api::PHOTO_FORM_BYTES)),
        )
        .route("/patrol/plans", get(plans_page).post(plan_submit))
        .route("/patrol/zones/{id}/checkpoints", post(checkpoint_submit))
        .route("/patrol/zones/{id}/members", post(member_submit))
        .route("/patrol/checkpoints/{id}/sticker", get(sticker_page))
        .route("/patrol/calendar", post(calendar_submit))
}

struct RoundRow {
    id: i64,
    title: String,
    time: String,
    status_code: String,
    status: String,
    progress: String,
}

#[derive(Template)]
#[template(path = "patrol_today.html")]
struct TodayPage {
    l: Layout,
    date: String,
    rounds: Vec<RoundRow>,
    can_view: bool,
}

async fn today_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = async {
        let rounds = patrol::rounds(&state.app, &auth, &RoundsQuery::default()).await?;
        let lang = ctx.lang;
        let c = auth.community(None)?;
        Ok(TodayPage {
            l: ctx.layout(lang.t("patrol.today"), Some(&auth)),
            date: state.clock.today().to_string(),
            rounds: rounds
                .iter()
                .map(|r| RoundRow {
                    id: r.id,
                    title: format!("{} · {}", r.zone_name, r.plan_name),
                    time: format!("{}–{}", hm(r.starts_at), hm(r.due_at)),
                    status_code: r.status.code().into(),
                    status: lang.t(&format!("round.{}", r.status.code())).to_string(),
                    progress: format!("{}/{}", r.checked, r.checkpoints),
                })
                .collect(),
            can_view: auth.can(Action::ViewPatrol, Scope::community(c)),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

struct CheckpointRow {
    id: i64,
    name: String,
    checked: Option<String>,
}

#[derive(Template)]
#[template(path = "patrol_round.html")]
struct RoundPage {
    l: Layout,
    id: i64,
    title: String,
    time: String,
    status: String,
    open: bool,
    progress: String,
    checkpoints: Vec<CheckpointRow>,
    checklist: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    findings: Vec<(String, String, bool, Option<i64>)>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct RoundParams {
    recorded: Option<i64>,
    checked: Option<String>,
}

async fn round_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
) -> Result<RoundPage, ApiError> {
    let d = patrol::round(&state.app, auth, id).await?;
    let lang = ctx.lang;
    let r = &d.round;
    Ok(RoundPage {
        l: ctx.layout(&format!("{} · {}", r.zone_name, r.plan_name), Some(auth)),
        id,
        title: format!("{} · {}", r.zone_name, r.plan_name),
        time: format!("{} {}–{}", r.date, hm(r.starts_at), hm(r.due_at)),
        status: lang.t(&format!("round.{}", r.status.code())).to_string(),
        open: r.open(),
        progress: format!("{}/{}", r.checked, r.checkpoints),
        checkpoints: d
            .checkpoints
            .iter()
            .map(|c| CheckpointRow {
                id: c.id,
                name: c.name.clone(),
                checked: d.checkin_at(c.id).map(|k| {
                    let how = match k.method {
                        patrol::CheckinMethod::Qr => "patrol.by_qr",
                        patrol::CheckinMethod::Tap => "patrol.by_tap",
                    };
                    format!("{} · {}", hm(k.at), lang.t(how))
                }),
            })
            .collect(),
        checklist: d.checklist.iter().map(|c| (c.clone(), kind_label(c, lang))).collect(),
        kinds: kinds(lang),
        findings: d
            .findings
            .iter()
            .map(|f| (kind_label(f.kind.code(), lang), f.place_text.clone(), f.fixed_on_spot, f.case_id))
            .collect(),
        notice,
        error,
    })
}

async fn round_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Query(p): Query<RoundParams>,
) -> Response {
    let notice = if p.recorded.is_some() {
        Some(ctx.lang.t("patrol.recorded").to_string())
    } else {
        p.checked.map(|name| format!("{}{name}", ctx.lang.t("patrol.checked_in")))
    };
    let result = round_view(&state, &ctx, &auth, id, notice, None).await;
    super::page_or_error(&ctx, &auth, result)
}

/// A page again with the error on it, or the error page when the page itself cannot be shown.
async fn round_with_error(state: &AppState, ctx: &PageContext, auth: &Auth, id: i64, e: ApiError) -> Response {
    let page = round_view(state, ctx, auth, id, None, Some(e.detail())).await;
    super::page_with_error(ctx, auth, e, page)
}

/// A check-in form: `csrf`, `checkpoint_id` or `code`, and one `ok` per checklist item that is fine.
struct CheckinForm {
    csrf: String,
    checkpoint_id: Option<i64>,
    code: Option<String>,
    ok: Vec<String>,
}

impl CheckinForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut f = Self { csrf: String::new(), checkpoint_id: None, code: None, ok: Vec::new() };
        for (k, v) in pairs {
            match k.as_str() {
                "csrf" => f.csrf = v,
                "checkpoint_id" => f.checkpoint_id = v.trim().parse().ok(),
                "code" => f.code = Some(v).filter(|c| !c.trim().is_empty()),
                "ok" => f.ok.push(v),
                _ => {}
            }
        }
        f
    }
}

async fn checkin_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = CheckinForm::from_pairs(pairs);
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = CheckIn { checkpoint_id: f.checkpoint_id, code: f.code, checklist: f.ok };
    match patrol::check_in(&state.app, &auth, id, &body).await {
        Ok(done) => {
            let name = crate::auth::urlencode(&done.checkpoint.name);
            Redirect::to(&format!("/patrol/rounds/{id}?checked={name}")).into_response()
        }
        Err(e) => round_with_error(&state, &ctx, &auth, id, e.into()).await,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn finish_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    match patrol::finish(&state.app, &auth, id).await {
        Ok(_) => Redirect::to("/patrol").into_response(),
        Err(e) => round_with_error(&state, &ctx, &auth, id, e.into()).await,
    }
}

async fn finding_submit(State(state): State<AppState>, ctx: PageContext, auth: Auth, multipart: Multipart) -> Response {
    let form = match PhotoForm::read_submitted(multipart, &auth).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    let round = form.id("round_id").ok().flatten();
    let recorded = match crate::api::patrol::finding_report(form) {
        Ok(report) => patrol::record_finding(&state.app, &auth, report).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match recorded {
        Ok(done) => match round {
            Some(r) => Redirect::to(&format!("/patrol/rounds/{r}?recorded={}", done.finding.id)).into_response(),
            None => Redirect::to(&format!("/patrol/board?recorded={}", done.finding.id)).into_response(),
        },
        Err(e) => match round {
            Some(r) => round_with_error(&state, &ctx, &auth, r, e).await,
            None => error_page(&ctx, Some(&auth), e),
        },
    }
}

#[derive(Template)]
#[template(path = "patrol_scan.html")]
struct ScanPage {
    l: Layout,
    checkpoint: String,
    code: String,
    round: Option<(i64, String)>,
}

async fn scan_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(code): Path<String>) -> Response {
    let result = async {
        let scan = patrol::scan(&state.app, &auth, &code).await?;
        Ok(ScanPage {
            l: ctx.layout(&scan.checkpoint.name, Some(&auth)),
            checkpoint: format!("{} · {}", scan.zone, scan.checkpoint.name),
            code: scan.checkpoint.code.clone(),
            round: scan.round.map(|r| (r.id, format!("{} {}–{}", r.plan_name, hm(r.starts_at), hm(r.due_at)))),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

struct CaseRow {
    id: i64,
    number: String,
    kind: String,
    place: String,
    status: String,
    age: i64,
    recurrence: bool,
}

#[derive(Template)]
#[template(path = "patrol_board.html")]
struct BoardPage {
    l: Layout,
    open: i64,
    closed_30_days: i64,
    buildings: Vec<(String, i64, i64, i64)>,
    trend_svg: String,
    cases: Vec<CaseRow>,
    can_manage: bool,
    kinds: Vec<(String, String)>,
    notice: Option<String>,
}

/// Twelve weekly bars drawn on the server, with a text alternative.
fn trend_svg(trend: &[(chrono::NaiveDate, i64)], label: &str) -> String {
    let points: Vec<(String, f64)> = trend.iter().map(|(d, n)| (d.format("%m-%d").to_string(), *n as f64)).collect();
    crate::charts::bars(&points, label, "#8a1c14", None, 0)
}

#[derive(Deserialize, Default)]
struct BoardParams {
    recorded: Option<i64>,
}

async fn board_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<BoardParams>,
) -> Response {
    let result = async {
        let c = auth.community(None)?;
        let now = state.clock.now();
        let board = patrol::board(&state.app, &auth, Some(c)).await?;
        let lang = ctx.lang;
        // The board's counts are the community's; the list of cases shows those the viewer may open.
        let cases = patrol::cases(&state.app, &auth, &patrol::CasesQuery::default()).await?;
        Ok(BoardPage {
            l: ctx.layout(lang.t("patrol.board"), Some(&auth)),
            open: board.open,
            closed_30_days: board.closed_30_days,
            buildings: board
                .buildings
                .iter()
                .map(|b| {
                    (
                        format!("{}{}号楼", b.compound_name, b.building_number),
                        b.open_cases,
                        b.oldest_days,
                        b.recurrences,
                    )
                })
                .collect(),
            trend_svg: trend_svg(&board.trend, lang.t("patrol.trend")),
            cases: cases
                .into_iter()
                .map(|k| CaseRow {
                    id: k.id,
                    number: k.number,
                    kind: kind_label(k.kind.code(), lang),
                    place: k.place_text,
                    status: lang.t(&format!("case.{}", k.status.code())).to_string(),
                    age: (now - k.opened_at).num_days(),
                    recurrence: k.recurrence,
                })
                .collect(),
            can_manage: auth.can(Action::PatrolRounds, Scope::community(c)),
            kinds: kinds(lang),
            notice: p.recorded.map(|_| lang.t("patrol.recorded").to_string()),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

struct StepRow {
    when: String,
    what: String,
    note: String,
    photo: Option<String>,
    actor: String,
}

#[derive(Template)]
#[template(path = "patrol_case.html")]
struct CasePage {
    l: Layout,
    id: i64,
    number: String,
    kind: String,
    place: String,
    status: String,
    deadline: String,
    recurrence: bool,
    version: i64,
    building_id: Option<i64>,
    request: Option<(i64, String)>,
    baselines: Vec<(String, String, Option<String>)>,
    photos: Vec<String>,
    steps: Vec<StepRow>,
    can_manage: bool,
    open: OpenSteps,
    error: Option<String>,
}

/// Which step forms the case page shows: exactly the steps the viewer may record now.
struct OpenSteps {
    visit: bool,
    handle: bool,
    reinspect: bool,
    link: bool,
    close: bool,
}

impl OpenSteps {
    fn of(steps: &[CaseStep]) -> Self {
        let has = |s| steps.contains(&s);
        Self {
            visit: has(CaseStep::Visit),
            handle: has(CaseStep::Handle),
            reinspect: has(CaseStep::Reinspect),
            link: has(CaseStep::Link),
            close: has(CaseStep::Close),
        }
    }
}

async fn case_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    error: Option<String>,
) -> Result<CasePage, ApiError> {
    let d = patrol::case(&state.app, auth, id).await?;
    let c = &d.case;
    let lang = ctx.lang;
    Ok(CasePage {
        l: ctx.layout(&c.number, Some(auth)),
        id,
        number: c.number.clone(),
        kind: kind_label(c.kind.code(), lang),
        place: c.place_text.clone(),
        status: lang.t(&format!("case.{}", c.status.code())).to_string(),
        deadline: c.agreed_deadline.map(|d| d.to_string()).unwrap_or_default(),
        recurrence: c.recurrence,
        version: c.version,
        building_id: c.building_id,
        request: d.request.as_ref().map(|r| (r.id, r.number.clone())),
        baselines: d.baselines.iter().map(|x| (when(x.recorded_at), x.note.clone(), x.photo.clone())).collect(),
        photos: d.finding_photos.clone(),
        steps: d
            .steps
            .iter()
            .map(|s| StepRow {
                when: when(s.at),
                what: match &s.outcome {
                    Some(o) => format!("{} · {}", lang.t(&format!("step.{}", s.kind)), lang.t(&format!("outcome.{o}"))),
                    None => lang.t(&format!("step.{}", s.kind)).to_string(),
                },
                note: match s.deadline {
                    Some(day) => format!("{} ({} {day})", s.note, lang.t("patrol.deadline")),
                    None => s.note.clone(),
                },
                photo: s.photo.clone(),
                actor: s.actor.clone(),
            })
            .collect(),
        can_manage: auth.can(Action::ManagePatrol, Scope::community(c.community_id)) && c.status.is_open(),
        open: OpenSteps::of(&d.actions),
        error,
    })
}

async fn case_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = case_view(&state, &ctx, &auth, id, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn step_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Response {
    let form = match PhotoForm::read_submitted(multipart, &auth).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    let recorded = match crate::api::cases::step_report(form) {
        Ok(report) => patrol::record_step(&state.app, &auth, id, report).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match recorded {
        Ok(_) => Redirect::to(&format!("/patrol/cases/{id}")).into_response(),
        Err(e) => {
            let page = case_view(&state, &ctx, &auth, id, Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

struct ActionRow {
    id: i64,
    title: String,
    party: String,
    owner: String,
    due: String,
    overdue: bool,
    progress: String,
    done: bool,
    version: i64,
    editable: bool,
}

fn action_rows(state: &AppState, lang: Lang, actions: Vec<patrol::ActionView>) -> Vec<ActionRow> {
    let today = state.clock.today();
    actions
        .into_iter()
        .map(|a| ActionRow {
            id: a.id,
            overdue: a.overdue(today),
            title: a.title,
            party: lang.t(&format!("party.{}", a.party.code())).to_string(),
            owner: a.owner,
            due: a.due.to_string(),
            progress: a.progress,
            done: a.status == patrol::ActionStatus::Done,
            version: a.version,
            editable: a.editable,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "patrol_meetings.html")]
struct MeetingsPage {
    l: Layout,
    meetings: Vec<(i64, String, String, String)>,
    actions: Vec<ActionRow>,
    can_manage: bool,
    error: Option<String>,
}

async fn meetings_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
) -> Result<MeetingsPage, ApiError> {
    let c = auth.community(None)?;
    let lang = ctx.lang;
    let meetings = patrol::meetings(&state.app, auth, Some(c)).await?;
    let actions = patrol::actions(&state.app, auth, &patrol::ActionsQuery::default()).await?;
    Ok(MeetingsPage {
        l: ctx.layout(lang.t("patrol.meetings"), Some(auth)),
        meetings: meetings
            .into_iter()
            .map(|m| (m.id, m.title, when(m.starts_at), lang.t(&format!("meeting.{}", m.status.code())).to_string()))
            .collect(),
        actions: action_rows(state, lang, actions),
        can_manage: auth.can(Action::ManagePatrol, Scope::community(c)),
        error,
    })
}

async fn meetings_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = meetings_view(&state, &ctx, &auth, None).await;
    super::page_or_error(&ctx, &auth, result)
}

#[derive(Deserialize)]
struct MeetingForm {
    csrf: String,
    title: String,
    starts_at: String,
    place: Option<String>,
}

async fn meeting_create(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<MeetingForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = patrol::NewMeeting {
        title: f.title,
        starts_at: f.starts_at,
        place: f.place.filter(|p| !p.trim().is_empty()),
        community_id: None,
    };
    match patrol::schedule(&state.app, &auth, &body).await.map_err(ApiError::from) {
        Ok(m) => Redirect::to(&format!("/patrol/meetings/{}", m.id)).into_response(),
        Err(e) => {
            let page = meetings_view(&state, &ctx, &auth, Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

#[derive(Template)]
#[template(path = "patrol_meeting.html")]
struct MeetingPage {
    l: Layout,
    id: i64,
    title: String,
    starts_at: String,
    place: String,
    held: bool,
    attendance: Vec<(String, String)>,
    minutes: String,
    agenda: Vec<(String, String, bool)>,
    actions: Vec<ActionRow>,
    can_manage: bool,
    parties: Vec<(String, String)>,
    error: Option<String>,
}

async fn meeting_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    error: Option<String>,
) -> Result<MeetingPage, ApiError> {
    let d = patrol::meeting(&state.app, auth, id).await?;
    let lang = ctx.lang;
    let agenda = d
        .agenda
        .iter()
        .map(|item| {
            use wujia_core::patrol::meetings::AgendaItem;
            let (kind, text, link, overdue) = match item {
                AgendaItem::CarriedAction { title, party, due, overdue, .. } => (
                    "carried_action",
                    format!(
                        "{title} · {} · {} {due}",
                        lang.t(&format!("party.{}", party.code())),
                        lang.t("patrol.due")
                    ),
                    String::new(),
                    *overdue,
                ),
                AgendaItem::OpenCase { id, number, finding, title, age_days } => (
                    "open_case",
                    format!(
                        "{number} · {} · {title} · {age_days} {}",
                        kind_label(finding, lang),
                        lang.t("patrol.days")
                    ),
                    format!("/patrol/cases/{id}"),
                    false,
                ),
                AgendaItem::OverdueRequest { id, number, title, days_over } => (
                    "overdue_request",
                    format!("{number} · {title} · {} {days_over}", lang.t("patrol.days_over")),
                    format!("/requests/{id}"),
                    false,
                ),
            };
            (format!("{}：{text}", lang.t(&format!("agenda.{kind}"))), link, overdue)
        })
        .collect();
    let attendance = d
        .attendance
        .iter()
        .map(|a| (lang.t(&format!("party.{}", a.party.code())).to_string(), a.name.clone()))
        .collect();
    let m = &d.meeting;
    Ok(MeetingPage {
        l: ctx.layout(&m.title, Some(auth)),
        id,
        title: m.title.clone(),
        starts_at: when(m.starts_at),
        place: m.place.clone(),
        held: m.status == patrol::MeetingStatus::Held,
        attendance,
        minutes: m.minutes.clone(),
        agenda,
        can_manage: auth.can(Action::ManagePatrol, Scope::community(m.community_id)),
        actions: action_rows(state, lang, d.actions),
        parties: wujia_core::patrol::meetings::Party::ALL
            .iter()
            .map(|p| (p.code().to_string(), lang.t(&format!("party.{}", p.code())).to_string()))
            .collect(),
        error,
    })
}

async fn meeting_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = meeting_view(&state, &ctx, &auth, id, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn minutes_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let attendance = ["community", "property", "developer", "street"]
        .iter()
        .filter(|p| !get(&format!("attend_{p}")).is_empty())
        .map(|p| patrol::Attendee { party: p.to_string(), name: get(&format!("attend_{p}")) })
        .collect();
    // Rows left wholly blank are not actions; a row with anything in it must be complete.
    let actions = (0..5)
        .filter(|i| ["title", "owner", "due"].iter().any(|k| !get(&format!("action{i}_{k}")).is_empty()))
        .map(|i| patrol::NewAction {
            title: get(&format!("action{i}_title")),
            party: get(&format!("action{i}_party")),
            owner: get(&format!("action{i}_owner")),
            due: Some(get(&format!("action{i}_due"))),
            case_id: get(&format!("action{i}_case")).parse().ok(),
        })
        .collect();
    let body = patrol::Minutes { attendance, minutes: get("minutes"), actions };
    match patrol::hold(&state.app, &auth, id, &body).await.map_err(ApiError::from) {
        Ok(_) => Redirect::to(&format!("/patrol/meetings/{id}")).into_response(),
        Err(e) => {
            let page = meeting_view(&state, &ctx, &auth, id, Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

#[derive(Deserialize)]
struct ActionForm {
    csrf: String,
    progress: String,
    done: Option<String>,
    version: i64,
    back: Option<String>,
}

async fn action_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let patch = patrol::ActionProgress { progress: f.progress, done: f.done.is_some(), version: f.version };
    match patrol::record_progress(&state.app, &auth, id, &patch).await {
        Ok(_) => Redirect::to(&super::safe_next(f.back.as_deref())).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e.into()),
    }
}

#[derive(Template)]
#[template(path = "patrol_figures.html")]
struct FiguresPage {
    l: Layout,
    from: String,
    to: String,
    tiles: Vec<(String, String)>,
    by_zone: Vec<(String, String, String)>,
    by_type: Vec<(String, i64)>,
    by_week: Vec<(String, i64)>,
}

#[derive(Deserialize, Default)]
struct FiguresParams {
    from: Option<String>,
    to: Option<String>,
}

async fn figures_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<FiguresParams>,
) -> Response {
    let result = async {
        let q = PeriodQuery { from: p.from.clone(), to: p.to.clone(), community_id: None };
        let s = patrol::summary(&state.app, &auth, &q).await?;
        let f = &s.figures;
        let lang = ctx.lang;
        let share = |x: Option<f64>| x.map_or("—".into(), |x| format!("{:.1}%", x * 100.0));
        let days = f.mean_days_to_rectify.map_or("—".into(), |d| format!("{d:.1}"));
        let tiles = vec![
            (
                lang.t("patrol.round_completion").to_string(),
                format!("{} ({}/{})", share(f.rounds.rate), f.rounds.done, f.rounds.due),
            ),
            (lang.t("patrol.missed").to_string(), f.rounds.missed.to_string()),
            (lang.t("patrol.findings").to_string(), f.findings.to_string()),
            (lang.t("patrol.fixed_share").to_string(), share(f.fixed_on_spot_share)),
            (lang.t("patrol.recurrences").to_string(), f.recurrences.to_string()),
            (lang.t("patrol.days_to_rectify").to_string(), days),
            (
                lang.t("patrol.actions_on_time").to_string(),
                format!("{} ({}/{})", share(f.actions_on_time_share), f.actions_done_on_time, f.actions_due),
            ),
            (lang.t("patrol.open_illegal").to_string(), s.open_illegal_construction_cases.to_string()),
        ];
        let by_zone = f
            .rounds_by_zone_shift
            .iter()
            .flat_map(|(zone, shifts)| {
                shifts.iter().map(move |(shift, c)| {
                    (
                        format!("{zone} · {}", lang.t(&format!("shift.{shift}"))),
                        format!("{}/{}", c.done, c.due),
                        share(c.rate),
                    )
                })
            })
            .collect();
        let count = |n: &u64| i64::try_from(*n).unwrap_or(i64::MAX);
        Ok(FiguresPage {
            l: ctx.layout(lang.t("patrol.figures"), Some(&auth)),
            from: s.from.to_string(),
            to: s.to.to_string(),
            tiles,
            by_zone,
            by_type: f.findings_by_type.iter().map(|(k, n)| (kind_label(k, lang), count(n))).collect(),
            by_week: f.findings_by_week.iter().map(|(k, n)| (k.clone(), count(n))).collect(),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

struct ZoneView {
    id: i64,
    name: String,
    members: Vec<(String, bool)>,
    checkpoints: Vec<(i64, String)>,
    plans: Vec<String>,
}

#[derive(Template)]
#[template(path = "patrol_plans.html")]
struct PlansPage {
    l: Layout,
    zones: Vec<ZoneView>,
    accounts: Vec<(i64, String)>,
    weekdays: Vec<(u8, String)>,
    can_manage: bool,
    error: Option<String>,
}

async fn plans_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
) -> Result<PlansPage, ApiError> {
    let c = auth.community(None)?;
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    let lang = ctx.lang;
    let plans = patrol::plans(&state.app, auth, Some(c)).await?;
    let zones = patrol::zones(&state.app, auth, Some(c))
        .await?
        .into_iter()
        .map(|z| ZoneView {
            plans: plans
                .iter()
                .filter(|p| p.zone_id == z.id)
                .map(|p| {
                    let days = if p.weekdays.len() == 7 {
                        lang.t("patrol.every_day").to_string()
                    } else {
                        p.weekdays
                            .iter()
                            .map(|d| lang.t(&format!("weekday.{d}")).to_string())
                            .collect::<Vec<_>>()
                            .join("、")
                    };
                    format!("{} · {} · {}", p.name, p.times.join(" / "), days)
                })
                .collect(),
            id: z.id,
            name: z.name,
            members: z.members.into_iter().map(|m| (m.display_name, m.leader)).collect(),
            checkpoints: z.checkpoints.into_iter().map(|k| (k.id, k.name)).collect(),
        })
        .collect();
    let accounts = patrol::squad_candidates(&state.app, auth, c)
        .await?
        .into_iter()
        .map(|u| (u.id, format!("{} · {}", u.display_name, lang.t(&format!("role.{}", u.role.code())))))
        .collect();
    Ok(PlansPage {
        l: ctx.layout(lang.t("patrol.plans"), Some(auth)),
        zones,
        accounts,
        weekdays: (1..=7u8).map(|d| (d, lang.t(&format!("weekday.{d}")).to_string())).collect(),
        can_manage: auth.can(Action::ManagePatrol, Scope::community(c)),
        error,
    })
}

async fn plans_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = plans_view(&state, &ctx, &auth, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn plans_with_error(state: &AppState, ctx: &PageContext, auth: &Auth, e: ApiError) -> Response {
    let page = plans_view(state, ctx, auth, Some(e.detail())).await;
    super::page_with_error(ctx, auth, e, page)
}

async fn plan_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    if let Err(e) = auth.check_csrf(&get("csrf")) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = NewPlan {
        zone_id: get("zone_id").parse().unwrap_or_default(),
        name: get("name"),
        times: get("times").split([',', '，', ' ', '、']).filter(|t| !t.is_empty()).map(str::to_string).collect(),
        weekdays: Some(pairs.iter().filter(|(k, _)| k == "weekday").filter_map(|(_, v)| v.parse().ok()).collect()),
        window_minutes: get("window_minutes").parse().ok(),
        checklist: None,
    };
    match patrol::create_plan(&state.app, &auth, &body).await {
        Ok(_) => Redirect::to("/patrol/plans").into_response(),
        Err(e) => plans_with_error(&state, &ctx, &auth, e.into()).await,
    }
}

#[derive(Deserialize)]
struct CheckpointForm {
    csrf: String,
    name: String,
}

async fn checkpoint_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<CheckpointForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = NewCheckpoint { name: f.name, building_id: None };
    match patrol::add_checkpoint(&state.app, &auth, id, &body).await {
        Ok(_) => Redirect::to("/patrol/plans").into_response(),
        Err(e) => plans_with_error(&state, &ctx, &auth, e.into()).await,
    }
}

#[derive(Deserialize)]
struct MemberForm {
    csrf: String,
    user_id: i64,
    leader: Option<String>,
}

async fn member_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<MemberForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let result = patrol::set_member(&state.app, &auth, id, f.user_id, f.leader.is_some()).await;
    match result {
        Ok(()) => Redirect::to("/patrol/plans").into_response(),
        Err(e) => plans_with_error(&state, &ctx, &auth, e.into()).await,
    }
}

#[derive(Template)]
#[template(path = "patrol_sticker.html")]
struct StickerPage {
    l: Layout,
    zone: String,
    name: String,
    url: String,
    qr_svg: String,
}

async fn sticker_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let patrol::Sticker { zone, checkpoint: cp } = patrol::sticker(&state.app, &auth, id).await?;
        let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        let scheme = if state.config.secure_cookies { "https" } else { "http" };
        let url = format!("{scheme}://{host}/patrol/scan/{}", cp.code);
        let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
        let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build();
        Ok(StickerPage { l: ctx.layout(&cp.name, Some(&auth)), zone, name: cp.name, url, qr_svg })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

async fn calendar_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    headers: axum::http::HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let token = crate::auth::new_token(24);
    let saved = state
        .store
        .create_calendar_token(
            auth.user.id,
            &crate::auth::token_hash(&token),
            auth.change(&state, "api_token.calendar", None),
        )
        .await;
    match saved {
        Ok(()) => {
            let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            let scheme = if state.config.secure_cookies { "https" } else { "http" };
            let lang = ctx.lang;
            super::message(
                &ctx,
                Some(&auth),
                axum::http::StatusCode::OK,
                lang.t("patrol.calendar_feeds"),
                vec![
                    lang.t("patrol.calendar_hint").to_string(),
                    format!("{scheme}://{host}/api/v1/meetings.ics?token={token}"),
                ],
                Some(format!("{scheme}://{host}/api/v1/patrol/rounds.ics?token={token}")),
                "/patrol",
            )
        }
        Err(e) => error_page(&ctx, Some(&auth), e.into()),
    }
}

async fn baseline_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Response {
    let form = match PhotoForm::read_submitted(multipart, &auth).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    match patrol::add_baseline(&state.app, &auth, id, form.text("note"), form.photos.clone()).await {
        Ok(_) => Redirect::to(&super::safe_next(form.text("back"))).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e.into()),
    }
}
