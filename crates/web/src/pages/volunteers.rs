//! Volunteer pages: apply and sign up from the portal, check in and out, report time; staff approve applications,
//! plan shifts and see the recognition board; a printable record of a volunteer's service.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::api::volunteers::{
    ApplicationBody, AttendanceBody, DecisionBody, ShiftBody, apply, attend, decide, plan_shift, sign_up,
};
use crate::auth::Auth;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use chrono_tz::Asia::Shanghai;
use serde::Deserialize;
use std::collections::HashMap;
use wujia_core::accounts::{Action, Scope};

use super::when;

/// All volunteer page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/volunteer", get(mine_page).post(apply_submit))
        .route("/volunteers", get(team_page))
        .route("/volunteers/{id}/decision", post(decide_submit))
        .route("/volunteers/{id}/record", get(record_page))
        .route("/shifts", post(shift_submit))
        .route("/shifts/{id}/signup", post(signup_submit))
        .route("/shifts/{id}/attendance/{volunteer}", post(attendance_submit))
}

struct ShiftRow {
    id: i64,
    title: String,
    when: String,
    places: String,
    full: bool,
    signed: bool,
    checked_in: bool,
    done: Option<String>,
    ended: bool,
}

#[derive(Template)]
#[template(path = "volunteer_mine.html")]
struct MinePage {
    l: Layout,
    me: Option<(i64, String, String, String, String)>,
    me_id: i64,
    approved: bool,
    members: Vec<(i64, String)>,
    shifts: Vec<ShiftRow>,
    error: Option<String>,
}

async fn mine_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
) -> Result<MinePage, ApiError> {
    let lang = ctx.lang;
    let h = auth.actor.household.ok_or(ApiError::Forbidden)?;
    let c = auth.community(None)?;
    let mine = state.store.household_volunteers(h).await?;
    let me = mine.iter().find(|v| v.user_id == Some(auth.user.id)).or_else(|| mine.first()).cloned();
    let members =
        state.store.household(h, state.clock.today()).await?.residents.into_iter().map(|r| (r.id, r.name)).collect();
    let now = state.clock.now();
    let mut shifts = Vec::new();
    for s in state.store.shifts(c, now - Duration::days(14), now + Duration::days(28)).await? {
        let g = match &me {
            Some(v) => state.store.signup(s.id, v.id).await?,
            None => None,
        };
        shifts.push(ShiftRow {
            id: s.id,
            title: s.title.clone(),
            when: format!("{}–{}", when(s.starts_at), s.ends_at.with_timezone(&Shanghai).format("%H:%M")),
            places: format!("{}/{}", s.taken, s.capacity),
            full: s.taken >= s.capacity,
            signed: g.is_some(),
            checked_in: g.as_ref().is_some_and(|g| g.checked_in_at.is_some() && g.checked_out_at.is_none()),
            done: g.as_ref().and_then(|g| {
                g.minutes.map(|m| {
                    format!(
                        "{:.1} h · {}",
                        m as f64 / 60.0,
                        lang.t(&format!("volunteer.minutes_{}", g.minutes_status.as_deref().unwrap_or("pending")))
                    )
                })
            }),
            ended: now >= s.ends_at,
        });
    }
    shifts.retain(|s| s.signed || !s.ended);
    Ok(MinePage {
        l: ctx.layout(lang.t("volunteer.title"), Some(auth)),
        approved: me.as_ref().is_some_and(|v| v.status == "approved"),
        me_id: me.as_ref().map_or(0, |v| v.id),
        me: me.map(|v| {
            (
                v.id,
                v.name.clone(),
                v.team.clone(),
                lang.t(&format!("volunteer.status_{}", v.status)).to_string(),
                format!("{:.1}", v.minutes as f64 / 60.0),
            )
        }),
        members,
        shifts,
        error,
    })
}

async fn mine_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = mine_view(&state, &ctx, &auth, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn mine_with_error(state: &AppState, ctx: &PageContext, auth: &Auth, e: ApiError) -> Response {
    let page = mine_view(state, ctx, auth, Some(e.detail())).await;
    super::page_with_error(ctx, auth, e, page)
}

#[derive(Deserialize)]
struct ApplyForm {
    csrf: String,
    resident_id: i64,
    team: Option<String>,
    skills: Option<String>,
    availability: Option<String>,
}

async fn apply_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<ApplyForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = ApplicationBody {
        resident_id: f.resident_id,
        team: f.team,
        skills: f.skills.unwrap_or_default(),
        availability: f.availability.unwrap_or_default(),
    };
    match apply(&state, &auth, &body).await {
        Ok(_) => Redirect::to("/volunteer").into_response(),
        Err(e) => mine_with_error(&state, &ctx, &auth, e).await,
    }
}

async fn signup_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    let volunteer = f.get("volunteer_id").and_then(|v| v.parse().ok());
    match sign_up(&state, &auth, id, volunteer).await {
        Ok(_) => Redirect::to(if volunteer.is_some() { "/volunteers" } else { "/volunteer" }).into_response(),
        Err(e) if volunteer.is_some() => error_page(&ctx, Some(&auth), e),
        Err(e) => mine_with_error(&state, &ctx, &auth, e).await,
    }
}

#[derive(Deserialize)]
struct AttendanceForm {
    csrf: String,
    action: String,
    minutes: Option<String>,
    back: Option<String>,
}

async fn attendance_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path((id, volunteer)): Path<(i64, i64)>,
    Form(f): Form<AttendanceForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    // The field gives hours of service: a finite number up to a day's 24.
    let hours = match f.minutes.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => match wujia_core::text::bounded_number(m, 24.0) {
            Some(h) => Some(h),
            None => {
                let e =
                    ApiError::field("minutes", "服务时长应为 0 到 24 小时 / hours of service must be between 0 and 24");
                return error_page(&ctx, Some(&auth), e);
            }
        },
    };
    let body = AttendanceBody { action: f.action.clone(), minutes: hours.map(|h| (h * 60.0).round() as i64) };
    match attend(&state, &auth, id, volunteer, &body).await {
        Ok(_) => Redirect::to(&super::safe_next(f.back.as_deref())).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

/// A shift on the team page: id, title, time, places, and (volunteer, name, attendance) per sign-up.
type ShiftCard = (i64, String, String, String, Vec<(i64, String, String)>);

struct Member {
    id: i64,
    name: String,
    team: String,
    skills: String,
    hours: String,
    points: i64,
    core: bool,
    version: i64,
}

#[derive(Template)]
#[template(path = "volunteer_team.html")]
struct TeamPage {
    l: Layout,
    applications: Vec<Member>,
    board: Vec<Member>,
    shifts: Vec<ShiftCard>,
    joined: i64,
    hours: String,
    error: Option<String>,
}

fn member(v: &wujia_store::VolunteerRow) -> Member {
    Member {
        id: v.id,
        name: v.name.clone(),
        team: v.team.clone(),
        skills: v.skills.clone(),
        hours: format!("{:.1}", v.minutes as f64 / 60.0),
        points: wujia_core::volunteers::points(v.minutes),
        core: v.core,
        version: v.version,
    }
}

async fn team_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
) -> Result<TeamPage, ApiError> {
    let c = auth.community(None)?;
    auth.require(Action::ManageVolunteers, Scope::community(c))?;
    let lang = ctx.lang;
    let now = state.clock.now();
    let today = state.clock.today();
    let facts = state.store.volunteer_facts(c, today - Duration::days(364), today).await?;
    let mut shifts = Vec::new();
    for s in state.store.shifts(c, now - Duration::days(7), now + Duration::days(28)).await? {
        let signups = state
            .store
            .signups(s.id)
            .await?
            .into_iter()
            .map(|g| {
                let state_text = if g.no_show {
                    lang.t("volunteer.no_show").to_string()
                } else {
                    match (g.minutes, g.minutes_status.as_deref()) {
                        (Some(m), Some(st)) => {
                            format!("{:.1} h · {}", m as f64 / 60.0, lang.t(&format!("volunteer.minutes_{st}")))
                        }
                        _ => String::new(),
                    }
                };
                (g.volunteer_id, g.name, state_text)
            })
            .collect();
        shifts.push((
            s.id,
            s.title,
            format!("{}–{}", when(s.starts_at), s.ends_at.with_timezone(&Shanghai).format("%H:%M")),
            format!("{}/{}", s.taken, s.capacity),
            signups,
        ));
    }
    Ok(TeamPage {
        l: ctx.layout(lang.t("volunteer.team"), Some(auth)),
        applications: state.store.volunteers(c, Some("applied")).await?.iter().map(member).collect(),
        board: state.store.volunteers(c, Some("approved")).await?.iter().take(50).map(member).collect(),
        shifts,
        joined: facts.joined,
        hours: format!("{:.1}", facts.hours),
        error,
    })
}

async fn team_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = team_view(&state, &ctx, &auth, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn team_with_error(state: &AppState, ctx: &PageContext, auth: &Auth, e: ApiError) -> Response {
    let page = team_view(state, ctx, auth, Some(e.detail())).await;
    super::page_with_error(ctx, auth, e, page)
}

#[derive(Deserialize)]
struct DecideForm {
    csrf: String,
    decision: String,
    core: Option<String>,
    version: i64,
}

async fn decide_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = DecisionBody { decision: f.decision, core: f.core.is_some(), version: f.version };
    match decide(&state, &auth, id, &body).await {
        Ok(_) => Redirect::to("/volunteers").into_response(),
        Err(e) => team_with_error(&state, &ctx, &auth, e).await,
    }
}

async fn shift_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    if let Err(e) = auth.check_csrf(&get("csrf")) {
        return error_page(&ctx, Some(&auth), e);
    }
    let date = get("date");
    let body = ShiftBody {
        title: get("title"),
        kind: get("kind"),
        team: Some(get("team")),
        starts_at: format!("{date}T{}", get("from")),
        ends_at: format!("{date}T{}", get("to")),
        capacity: get("capacity").parse().unwrap_or(0),
        community_id: None,
    };
    match plan_shift(&state, &auth, &body).await {
        Ok(_) => Redirect::to("/volunteers").into_response(),
        Err(e) => team_with_error(&state, &ctx, &auth, e).await,
    }
}

#[derive(Template)]
#[template(path = "volunteer_record.html")]
struct RecordPage {
    l: Layout,
    name: String,
    address: String,
    team: String,
    since: String,
    hours: String,
    points: i64,
    rows: Vec<(String, String, String, String)>,
    printed: String,
}

async fn record_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = async {
        let v = state.store.volunteer(id).await?;
        let own = auth.actor.household == Some(v.household_id);
        if !own && !auth.can(Action::ManageVolunteers, Scope::community(v.community_id)) {
            return Err(ApiError::NotFound);
        }
        let lang = ctx.lang;
        let rows = state
            .store
            .service_record(id)
            .await?
            .into_iter()
            .filter(|(g, _)| g.minutes_status.as_deref() == Some("approved") || g.no_show)
            .map(|(g, s)| {
                let served = if g.no_show {
                    lang.t("volunteer.no_show").to_string()
                } else {
                    format!("{:.1}", g.minutes.unwrap_or(0) as f64 / 60.0)
                };
                (when(s.starts_at), s.title, lang.t(&format!("volunteer.kind_{}", s.kind)).to_string(), served)
            })
            .collect();
        Ok(RecordPage {
            l: ctx.layout(&format!("{} · {}", v.name, lang.t("volunteer.record")), Some(&auth)),
            name: v.name.clone(),
            address: v.address.clone(),
            team: v.team.clone(),
            since: v.decided_at.map(when).unwrap_or_default(),
            hours: format!("{:.1}", v.minutes as f64 / 60.0),
            points: wujia_core::volunteers::points(v.minutes),
            rows,
            printed: when(state.clock.now()),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}
