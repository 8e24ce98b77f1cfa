//! Patrol pages: today's rounds and a round on a phone (check in, record a finding, even offline), the QR
//! sticker's page, the zero-illegal-construction board, cases, joint meetings and the figures.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::api::cases::step;
use crate::api::meetings::{
    ActionBody, ActionPatch, Attendee, MeetingBody, MinutesBody, hold, meeting_json, progress, schedule,
};
use crate::api::patrol::{CheckinBody, RoundsQuery, check_in, finish, may_walk, record_finding, rounds_for, summary};
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
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::patrol::FindingType;
use wujia_core::patrol::cases::CaseStep;
use wujia_core::patrol::plans::RoundStatus;

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
        let q = RoundsQuery { date: None, from: None, to: None, zone_id: None, mine: None, community_id: None };
        let rounds = rounds_for(&state, &auth, &q).await?;
        let now = state.clock.now();
        let lang = ctx.lang;
        let c = auth.community(None)?;
        Ok(TodayPage {
            l: ctx.layout(lang.t("patrol.today"), Some(&auth)),
            date: state.clock.today().to_string(),
            rounds: rounds
                .iter()
                .map(|r| {
                    let s = RoundStatus::of(usize::try_from(r.checked).unwrap_or(0), r.completed_at, r.due_at, now);
                    RoundRow {
                        id: r.id,
                        title: format!("{} · {}", r.zone_name, r.plan_name),
                        time: format!("{}–{}", hm(r.starts_at), hm(r.due_at)),
                        status_code: s.code().into(),
                        status: lang.t(&format!("round.{}", s.code())).to_string(),
                        progress: format!("{}/{}", r.checked, r.checkpoints),
                    }
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
    let r = state.store.round(id).await?;
    if !auth.can(Action::ViewPatrol, Scope::community(r.community_id)) {
        may_walk(state, auth, r.community_id, r.zone_id).await.map_err(|_| ApiError::NotFound)?;
    }
    let lang = ctx.lang;
    let now = state.clock.now();
    let status = RoundStatus::of(usize::try_from(r.checked).unwrap_or(0), r.completed_at, r.due_at, now);
    let checkins = state.store.checkins(id).await?;
    let plan = state.store.plan(r.plan_id).await?;
    let findings = state.store.round_findings(id).await?;
    Ok(RoundPage {
        l: ctx.layout(&format!("{} · {}", r.zone_name, r.plan_name), Some(auth)),
        id,
        title: format!("{} · {}", r.zone_name, r.plan_name),
        time: format!("{} {}–{}", r.date, hm(r.starts_at), hm(r.due_at)),
        status: lang.t(&format!("round.{}", status.code())).to_string(),
        open: matches!(status, RoundStatus::Planned | RoundStatus::InProgress),
        progress: format!("{}/{}", r.checked, r.checkpoints),
        checkpoints: state
            .store
            .checkpoints(r.zone_id)
            .await?
            .into_iter()
            .map(|c| CheckpointRow {
                id: c.id,
                name: c.name,
                checked: checkins.iter().find(|k| k.checkpoint_id == c.id).map(|k| {
                    format!(
                        "{} · {}",
                        hm(k.at),
                        lang.t(if k.method == "qr" { "patrol.by_qr" } else { "patrol.by_tap" })
                    )
                }),
            })
            .collect(),
        checklist: plan.checklist_codes().iter().map(|c| (c.clone(), kind_label(c, lang))).collect(),
        kinds: kinds(lang),
        findings: findings
            .into_iter()
            .map(|f| (kind_label(&f.kind, lang), f.place_text, f.fixed_on_spot, f.case_id))
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
    let body = CheckinBody { checkpoint_id: f.checkpoint_id, code: f.code.clone(), checklist: f.ok.clone() };
    match check_in(&state, &auth, id, &body).await {
        Ok(_) => {
            let name = match (f.checkpoint_id, &f.code) {
                (Some(cp), _) => state.store.checkpoint(cp).await.map(|c| c.name).unwrap_or_default(),
                (None, Some(code)) => state.store.checkpoint_by_code(code).await.map(|c| c.name).unwrap_or_default(),
                _ => String::new(),
            };
            Redirect::to(&format!("/patrol/rounds/{id}?checked={}", crate::auth::urlencode(&name))).into_response()
        }
        Err(e) => round_with_error(&state, &ctx, &auth, id, e).await,
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
    match finish(&state, &auth, id).await {
        Ok(_) => Redirect::to("/patrol").into_response(),
        Err(e) => round_with_error(&state, &ctx, &auth, id, e).await,
    }
}

async fn finding_submit(State(state): State<AppState>, ctx: PageContext, auth: Auth, multipart: Multipart) -> Response {
    let form = match PhotoForm::read_submitted(multipart, &auth).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    let round = form.id("round_id").ok().flatten();
    match record_finding(&state, &auth, &form).await {
        Ok((f, _)) => match round {
            Some(r) => Redirect::to(&format!("/patrol/rounds/{r}?recorded={}", f.id)).into_response(),
            None => Redirect::to(&format!("/patrol/board?recorded={}", f.id)).into_response(),
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
        let cp = state.store.checkpoint_by_code(&code).await?;
        let zone = state.store.zone(cp.zone_id).await?;
        may_walk(&state, &auth, zone.community_id, zone.id).await?;
        let today = state.clock.today();
        let now = state.clock.now();
        let rounds = state.store.rounds(zone.community_id, Some(zone.id), today, today).await?;
        let current = rounds.iter().find(|r| {
            wujia_core::patrol::plans::may_check_in(r.starts_at, r.due_at, r.completed_at.is_some(), now).is_ok()
        });
        Ok(ScanPage {
            l: ctx.layout(&cp.name, Some(&auth)),
            checkpoint: format!("{} · {}", zone.name, cp.name),
            code: cp.code.clone(),
            round: current.map(|r| (r.id, format!("{} {}–{}", r.plan_name, hm(r.starts_at), hm(r.due_at)))),
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
        auth.require(Action::ViewPatrol, Scope::community(c))?;
        let now = state.clock.now();
        let board = state.store.zero_board(c, now).await?;
        let lang = ctx.lang;
        let mut cases = state.store.cases(c, true, None, 500).await?;
        // The board's counts are the community's; the list of cases shows those the viewer may open.
        cases.retain(|case| {
            wujia_core::patrol::cases::may_view_case(
                &auth.actor,
                case.community_id,
                crate::api::cases::handled_by(case),
            )
        });
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
                        (now - b.oldest).num_days(),
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
                    kind: kind_label(&k.kind, lang),
                    place: k.place_text,
                    status: lang.t(&format!("case.{}", k.status)).to_string(),
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
    let v = crate::api::cases::case_json(state, auth, id).await?;
    let c = state.store.case(id).await?;
    let lang = ctx.lang;
    let steps = state.store.case_steps(id).await?;
    Ok(CasePage {
        l: ctx.layout(&c.number, Some(auth)),
        id,
        number: c.number.clone(),
        kind: kind_label(&c.kind, lang),
        place: c.place_text.clone(),
        status: lang.t(&format!("case.{}", c.status)).to_string(),
        deadline: c.agreed_deadline.map(|d| d.to_string()).unwrap_or_default(),
        recurrence: c.recurrence,
        version: c.version,
        building_id: c.building_id,
        request: match c.request_id {
            Some(r) => {
                let r = state.store.request(r).await?;
                Some((r.id, r.number))
            }
            None => None,
        },
        baselines: match c.building_id {
            Some(b) => state
                .store
                .baselines(b)
                .await?
                .into_iter()
                .map(|x| (when(x.recorded_at), x.note, x.blob.map(|h| format!("/api/v1/patrol/photos/{h}"))))
                .collect(),
            None => Vec::new(),
        },
        photos: v["finding_photos"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
        steps: steps
            .into_iter()
            .map(|s| StepRow {
                when: when(s.at),
                what: match &s.outcome {
                    Some(o) => format!("{} · {}", lang.t(&format!("step.{}", s.kind)), lang.t(&format!("outcome.{o}"))),
                    None => lang.t(&format!("step.{}", s.kind)).to_string(),
                },
                note: match s.deadline {
                    Some(d) => format!("{} ({} {d})", s.note, lang.t("patrol.deadline")),
                    None => s.note,
                },
                photo: s.photo_blob.map(|b| format!("/api/v1/patrol/photos/{b}")),
                actor: s.actor,
            })
            .collect(),
        can_manage: auth.can(Action::ManagePatrol, Scope::community(c.community_id)) && c.status != "closed",
        open: OpenSteps::of(&crate::api::cases::steps_open(auth, &c)?),
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
    match step(&state, &auth, id, &form).await {
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

fn action_rows(state: &AppState, auth: &Auth, lang: Lang, actions: Vec<wujia_store::MeetingAction>) -> Vec<ActionRow> {
    let today = state.clock.today();
    actions
        .into_iter()
        .map(|a| {
            let scope = Scope::community(a.community_id);
            let editable = a.status == "open"
                && (auth.can(Action::ManagePatrol, scope)
                    || (auth.can(Action::UpdateMeetingActions, scope)
                        && crate::api::meetings::own_party(auth) == Some(a.party.as_str())));
            ActionRow {
                id: a.id,
                title: a.title,
                party: lang.t(&format!("party.{}", a.party)).to_string(),
                owner: a.owner,
                due: a.due.to_string(),
                overdue: a.status == "open" && a.due < today,
                progress: a.progress,
                done: a.status == "done",
                version: a.version,
                editable,
            }
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
    auth.require(Action::ViewPatrol, Scope::community(c))?;
    let lang = ctx.lang;
    let party = crate::api::meetings::own_party(auth);
    let actions = state.store.meeting_actions(c, true, party).await?;
    Ok(MeetingsPage {
        l: ctx.layout(lang.t("patrol.meetings"), Some(auth)),
        meetings: state
            .store
            .meetings(c)
            .await?
            .into_iter()
            .map(|m| (m.id, m.title, when(m.starts_at), lang.t(&format!("meeting.{}", m.status)).to_string()))
            .collect(),
        actions: action_rows(state, auth, lang, actions),
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
    let body = MeetingBody {
        title: f.title,
        starts_at: f.starts_at,
        place: f.place.filter(|p| !p.trim().is_empty()),
        community_id: None,
    };
    match schedule(&state, &auth, &body).await {
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
    let v = meeting_json(state, auth, id).await?;
    let m = state.store.meeting(id).await?;
    let lang = ctx.lang;
    let agenda = v["agenda"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    let kind = i["kind"].as_str().unwrap_or_default();
                    let (text, link) = match kind {
                        "carried_action" => (
                            format!(
                                "{} · {} · {} {}",
                                i["title"].as_str().unwrap_or_default(),
                                lang.t(&format!("party.{}", i["party"].as_str().unwrap_or_default())),
                                lang.t("patrol.due"),
                                i["due"].as_str().unwrap_or_default()
                            ),
                            String::new(),
                        ),
                        "open_case" => (
                            format!(
                                "{} · {} · {} · {} {}",
                                i["number"].as_str().unwrap_or_default(),
                                kind_label(i["finding"].as_str().unwrap_or_default(), lang),
                                i["title"].as_str().unwrap_or_default(),
                                i["age_days"],
                                lang.t("patrol.days")
                            ),
                            format!("/patrol/cases/{}", i["id"]),
                        ),
                        _ => (
                            format!(
                                "{} · {} · {} {}",
                                i["number"].as_str().unwrap_or_default(),
                                i["title"].as_str().unwrap_or_default(),
                                lang.t("patrol.days_over"),
                                i["days_over"]
                            ),
                            format!("/requests/{}", i["id"]),
                        ),
                    };
                    (
                        format!("{}：{text}", lang.t(&format!("agenda.{kind}"))),
                        link,
                        i["overdue"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let attendance = v["attendance"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        lang.t(&format!("party.{}", x["party"].as_str().unwrap_or_default())).to_string(),
                        x["name"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let actions = state.store.actions_of_meeting(id).await?;
    Ok(MeetingPage {
        l: ctx.layout(&m.title, Some(auth)),
        id,
        title: m.title.clone(),
        starts_at: when(m.starts_at),
        place: m.place.clone(),
        held: m.status == "held",
        attendance,
        minutes: m.minutes.clone(),
        agenda,
        actions: action_rows(state, auth, lang, actions),
        can_manage: auth.can(Action::ManagePatrol, Scope::community(m.community_id)),
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
        .map(|p| Attendee { party: p.to_string(), name: get(&format!("attend_{p}")) })
        .collect();
    // Rows left wholly blank are not actions; a row with anything in it must be complete.
    let actions = (0..5)
        .filter(|i| ["title", "owner", "due"].iter().any(|k| !get(&format!("action{i}_{k}")).is_empty()))
        .map(|i| ActionBody {
            title: get(&format!("action{i}_title")),
            party: get(&format!("action{i}_party")),
            owner: get(&format!("action{i}_owner")),
            due: Some(get(&format!("action{i}_due"))),
            case_id: get(&format!("action{i}_case")).parse().ok(),
        })
        .collect();
    let body = MinutesBody { attendance, minutes: get("minutes"), actions };
    match hold(&state, &auth, id, &body).await {
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
    let patch = ActionPatch { progress: f.progress, done: f.done.is_some(), version: f.version };
    match progress(&state, &auth, id, &patch).await {
        Ok(_) => Redirect::to(&super::safe_next(f.back.as_deref())).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
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
        let c = auth.community(None)?;
        auth.require(Action::ViewPatrol, Scope::community(c))?;
        let s = summary(&state, c, p.from.as_deref(), p.to.as_deref()).await?;
        let lang = ctx.lang;
        let days = s["mean_days_to_rectify"].as_f64().map_or("—".into(), |d| format!("{d:.1}"));
        let tiles = vec![
            (
                lang.t("patrol.round_completion").to_string(),
                format!(
                    "{} ({}/{})",
                    crate::charts::percent(&s["rounds"]["rate"]),
                    s["rounds"]["done"],
                    s["rounds"]["due"]
                ),
            ),
            (lang.t("patrol.missed").to_string(), s["rounds"]["missed"].to_string()),
            (lang.t("patrol.findings").to_string(), s["findings"].to_string()),
            (lang.t("patrol.fixed_share").to_string(), crate::charts::percent(&s["fixed_on_spot_share"])),
            (lang.t("patrol.recurrences").to_string(), s["recurrences"].to_string()),
            (lang.t("patrol.days_to_rectify").to_string(), days),
            (
                lang.t("patrol.actions_on_time").to_string(),
                format!(
                    "{} ({}/{})",
                    crate::charts::percent(&s["actions_on_time_share"]),
                    s["actions_done_on_time"],
                    s["actions_due"]
                ),
            ),
            (lang.t("patrol.open_illegal").to_string(), s["open_illegal_construction_cases"].to_string()),
        ];
        let mut by_zone = Vec::new();
        if let Some(zones) = s["rounds_by_zone_shift"].as_object() {
            for (zone, shifts) in zones {
                for (shift, c) in shifts.as_object().into_iter().flatten() {
                    by_zone.push((
                        format!("{zone} · {}", lang.t(&format!("shift.{shift}"))),
                        format!("{}/{}", c["done"], c["due"]),
                        crate::charts::percent(&c["rate"]),
                    ));
                }
            }
        }
        let counts = |v: &serde_json::Value, label: &dyn Fn(&str) -> String| -> Vec<(String, i64)> {
            v.as_object()
                .map(|o| o.iter().map(|(k, n)| (label(k), n.as_i64().unwrap_or(0))).collect())
                .unwrap_or_default()
        };
        Ok(FiguresPage {
            l: ctx.layout(lang.t("patrol.figures"), Some(&auth)),
            from: s["from"].as_str().unwrap_or_default().to_string(),
            to: s["to"].as_str().unwrap_or_default().to_string(),
            tiles,
            by_zone,
            by_type: counts(&s["findings_by_type"], &|k| kind_label(k, lang)),
            by_week: counts(&s["findings_by_week"], &|k| k.to_string()),
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
    let plans = state.store.plans(c).await?;
    let mut zones = Vec::new();
    for z in state.store.zones(c).await? {
        zones.push(ZoneView {
            id: z.id,
            name: z.name.clone(),
            members: state.store.zone_members(z.id).await?.into_iter().map(|m| (m.display_name, m.leader)).collect(),
            checkpoints: state.store.checkpoints(z.id).await?.into_iter().map(|k| (k.id, k.name)).collect(),
            plans: plans
                .iter()
                .filter(|p| p.zone_id == z.id)
                .map(|p| {
                    let times: Vec<String> = serde_json::from_str(&p.times).unwrap_or_default();
                    let days: Vec<u8> = serde_json::from_str(&p.weekdays).unwrap_or_default();
                    let days = if days.len() == 7 {
                        lang.t("patrol.every_day").to_string()
                    } else {
                        days.iter().map(|d| lang.t(&format!("weekday.{d}")).to_string()).collect::<Vec<_>>().join("、")
                    };
                    format!("{} · {} · {}", p.name, times.join(" / "), days)
                })
                .collect(),
        });
    }
    let accounts = state
        .store
        .community_accounts(c, &[Role::Staff, Role::SocialWorker, Role::Patrol, Role::Volunteer])
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
    let body = crate::api::patrol::PlanBody {
        zone_id: get("zone_id").parse().unwrap_or_default(),
        name: get("name"),
        times: get("times").split([',', '，', ' ', '、']).filter(|t| !t.is_empty()).map(str::to_string).collect(),
        weekdays: Some(pairs.iter().filter(|(k, _)| k == "weekday").filter_map(|(_, v)| v.parse().ok()).collect()),
        window_minutes: get("window_minutes").parse().ok(),
        checklist: None,
    };
    match crate::api::patrol::plan(&state, &auth, &body).await {
        Ok(_) => Redirect::to("/patrol/plans").into_response(),
        Err(e) => plans_with_error(&state, &ctx, &auth, e).await,
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
    let body = crate::api::patrol::CheckpointBody { name: f.name, building_id: None };
    match crate::api::patrol::add_checkpoint(&state, &auth, id, &body).await {
        Ok(_) => Redirect::to("/patrol/plans").into_response(),
        Err(e) => plans_with_error(&state, &ctx, &auth, e).await,
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
    let result = async {
        let z = state.store.zone(id).await?;
        auth.require(Action::ManagePatrol, Scope::community(z.community_id))?;
        state
            .store
            .set_zone_member(
                &z,
                f.user_id,
                f.leader.is_some(),
                auth.change(&state, "zone.member", Some(z.community_id)),
            )
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/patrol/plans").into_response(),
        Err(e) => plans_with_error(&state, &ctx, &auth, e).await,
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
        let cp = state.store.checkpoint(id).await?;
        let zone = state.store.zone(cp.zone_id).await?;
        auth.require(Action::ManagePatrol, Scope::community(zone.community_id))?;
        let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        let scheme = if state.config.secure_cookies { "https" } else { "http" };
        let url = format!("{scheme}://{host}/patrol/scan/{}", cp.code);
        let qr = qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::Internal(e.to_string()))?;
        let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build();
        Ok(StickerPage { l: ctx.layout(&cp.name, Some(&auth)), zone: zone.name, name: cp.name, url, qr_svg })
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
    match crate::api::cases::add_baseline(&state, &auth, id, &form).await {
        Ok(()) => Redirect::to(&super::safe_next(form.text("back"))).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}
