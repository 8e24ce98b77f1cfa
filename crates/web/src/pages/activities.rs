//! Activity pages: the calendar with registration for a household's members, the staff's activity page with the
//! invitation list, the desk's check-in by code, photos and summary, a printable sign-in sheet, and the integration
//! figures with their trend.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::api::activities::{
    ActivityBody, PeriodQuery, RegistrationAction, RegistrationBody, check_in_code, invitations, plan, recommended,
    register, registration_step, summary,
};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::form::PhotoForm;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Duration;
use chrono_tz::Asia::Shanghai;
use serde::Deserialize;
use std::collections::HashMap;
use wujia_core::accounts::{Action, Scope};

use super::when;

/// All activity page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/activities", get(list_page).post(create_submit))
        .route("/activities/figures", get(figures_page))
        .route("/activities/{id}", get(activity_page))
        .route("/activities/{id}/register", post(register_submit))
        .route("/activities/{id}/registrations/{rid}", post(step_submit))
        .route("/activities/{id}/checkin", post(checkin_submit))
        .route("/activities/{id}/invitations", get(invitations_page))
        .route("/activities/{id}/sheet", get(sheet_page))
        .route(
            "/activities/{id}/photos",
            post(photo_submit).layer(axum::extract::DefaultBodyLimit::max(crate::api::PHOTO_FORM_BYTES)),
        )
}

struct Card {
    id: i64,
    title: String,
    when: String,
    place: String,
    theme: String,
    places: String,
    full: bool,
    open: bool,
}

#[derive(Template)]
#[template(path = "activities.html")]
struct ListPage {
    l: Layout,
    cards: Vec<Card>,
    recommended: Vec<(i64, String, String)>,
    mine: Vec<(i64, i64, String, String, String, bool, String)>,
    members: Vec<(i64, String)>,
    can_manage: bool,
    error: Option<String>,
}

async fn list_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
) -> Result<ListPage, ApiError> {
    let c = auth.community(None)?;
    let lang = ctx.lang;
    let now = state.clock.now();
    let list = state.store.activities(c, now - Duration::days(31), now + Duration::days(93)).await?;
    let cards = list
        .iter()
        .map(|a| Card {
            id: a.id,
            title: a.title.clone(),
            when: when(a.starts_at),
            place: a.place.clone(),
            theme: [a.theme.as_str(), a.series.as_str()]
                .iter()
                .filter(|x| !x.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" · "),
            places: format!("{}/{}", a.taken, a.capacity),
            full: a.taken >= a.capacity,
            open: now < a.starts_at,
        })
        .collect();
    let (mine, members, rec) = match auth.actor.household {
        Some(h) => {
            let regs = state.store.household_registrations(h).await?;
            let mut mine = Vec::new();
            for g in regs {
                let a = state.store.activity(g.activity_id).await?;
                mine.push((
                    a.id,
                    g.id,
                    a.title,
                    g.name,
                    lang.t(&format!("activity.status_{}", g.status)).to_string(),
                    g.status == "offered",
                    g.offered_until.map(when).unwrap_or_default(),
                ));
            }
            let members = state
                .store
                .household(h, state.clock.today())
                .await?
                .residents
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect();
            let rec = recommended(state, auth)
                .await?
                .into_iter()
                .map(|v| {
                    (
                        v["id"].as_i64().unwrap_or_default(),
                        v["title"].as_str().unwrap_or_default().to_string(),
                        v["for"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("、"))
                            .unwrap_or_default(),
                    )
                })
                .collect();
            (mine, members, rec)
        }
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    Ok(ListPage {
        l: ctx.layout(lang.t("activity.title"), Some(auth)),
        cards,
        recommended: rec,
        mine,
        members,
        can_manage: auth.can(Action::ManageActivities, Scope::community(c)),
        error,
    })
}

async fn list_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = list_view(&state, &ctx, &auth, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn list_with_error(state: &AppState, ctx: &PageContext, auth: &Auth, e: ApiError) -> Response {
    let page = list_view(state, ctx, auth, Some(e.detail())).await;
    super::page_with_error(ctx, auth, e, page)
}

async fn create_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    if let Err(e) = auth.check_csrf(&get("csrf")) {
        return error_page(&ctx, Some(&auth), e);
    }
    let date = get("date");
    let body = ActivityBody {
        title: get("title"),
        theme: get("theme"),
        series: get("series"),
        organiser: get("organiser"),
        partners: get("partners"),
        place: get("place"),
        starts_at: format!("{date}T{}", get("from")),
        ends_at: format!("{date}T{}", get("to")),
        capacity: get("capacity").parse().unwrap_or(0),
        target_tags: f.iter().filter(|(k, v)| k == "tag" && !v.is_empty()).map(|(_, v)| v.clone()).collect(),
        min_age: get("min_age").parse().ok(),
        max_age: get("max_age").parse().ok(),
        volunteers_needed: get("volunteers_needed").parse().unwrap_or(0),
        community_id: None,
    };
    match plan(&state, &auth, &body).await {
        Ok(a) => Redirect::to(&format!("/activities/{}", a.id)).into_response(),
        Err(e) => list_with_error(&state, &ctx, &auth, e).await,
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    l: Layout,
    id: i64,
    title: String,
    when: String,
    place: String,
    organiser: String,
    target: String,
    places: String,
    summary: String,
    photos: Vec<String>,
    regs: Vec<(i64, String, String, String, String, bool)>,
    my_codes: Vec<(String, String, String)>,
    members: Vec<(i64, String)>,
    open: bool,
    can_manage: bool,
    error: Option<String>,
}

async fn activity_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    error: Option<String>,
) -> Result<ActivityPage, ApiError> {
    let a = state.store.activity(id).await?;
    if !auth.actor.communities.contains(&a.community_id) {
        return Err(ApiError::NotFound);
    }
    let lang = ctx.lang;
    let manage = auth.can(Action::ManageActivities, Scope::community(a.community_id));
    let target = a.target();
    let mut t = target.tags.iter().map(|x| lang.t(&format!("tagname.{x}")).to_string()).collect::<Vec<_>>();
    if target.min_age.is_some() || target.max_age.is_some() {
        t.push(format!(
            "{}–{} {}",
            target.min_age.map(|x| x.to_string()).unwrap_or_default(),
            target.max_age.map(|x| x.to_string()).unwrap_or_default(),
            lang.t("activity.years")
        ));
    }
    let regs = state.store.registrations(id).await?;
    let my_codes = regs
        .iter()
        .filter(|g| {
            Some(g.household_id) == auth.actor.household && matches!(g.status.as_str(), "registered" | "offered")
        })
        .map(|g| {
            let svg = qrcode::QrCode::new(g.code.as_bytes())
                .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(160, 160).build())
                .unwrap_or_default();
            (g.name.clone(), g.code.clone(), svg)
        })
        .collect();
    let members = match auth.actor.household {
        Some(h) => {
            state.store.household(h, state.clock.today()).await?.residents.into_iter().map(|r| (r.id, r.name)).collect()
        }
        None => Vec::new(),
    };
    Ok(ActivityPage {
        l: ctx.layout(&a.title, Some(auth)),
        id,
        title: a.title.clone(),
        when: format!("{}–{}", when(a.starts_at), a.ends_at.with_timezone(&Shanghai).format("%H:%M")),
        place: a.place.clone(),
        organiser: [a.organiser.as_str(), a.partners.as_str()]
            .iter()
            .filter(|x| !x.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" · "),
        target: if t.is_empty() { lang.t("activity.everyone").to_string() } else { t.join("、") },
        places: format!("{}/{} · {} {}", a.taken, a.capacity, lang.t("activity.waiting"), a.waiting),
        summary: a.summary.clone(),
        photos: state
            .store
            .activity_photos(id)
            .await?
            .into_iter()
            .map(|p| format!("/api/v1/activity_photos/{}", p.0))
            .collect(),
        regs: if manage {
            regs.iter()
                .map(|g| {
                    (
                        g.id,
                        g.name.clone(),
                        g.address.clone(),
                        g.origin.clone().unwrap_or_default(),
                        lang.t(&format!("activity.status_{}", g.status)).to_string(),
                        matches!(g.status.as_str(), "registered" | "offered"),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
        my_codes,
        members,
        open: state.clock.now() < a.starts_at,
        can_manage: manage,
        error,
    })
}

async fn activity_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = activity_view(&state, &ctx, &auth, id, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn back(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    r: Result<(), ApiError>,
    to: Option<&str>,
) -> Response {
    match r {
        Ok(()) => Redirect::to(&super::safe_next(Some(to.unwrap_or(&format!("/activities/{id}"))))).into_response(),
        Err(e) => {
            let page = activity_view(state, ctx, auth, id, Some(e.detail())).await;
            super::page_with_error(ctx, auth, e, page)
        }
    }
}

async fn register_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = RegistrationBody {
        resident_id: f.get("resident_id").and_then(|r| r.parse().ok()).unwrap_or_default(),
        note: f.get("note").cloned().unwrap_or_default(),
    };
    let r = register(&state, &auth, id, &body).await.map(|_| ());
    back(&state, &ctx, &auth, id, r, f.get("back").map(String::as_str)).await
}

async fn step_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path((id, rid)): Path<(i64, i64)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    let body = RegistrationAction {
        action: f.get("action").cloned().unwrap_or_default(),
        stars: f.get("stars").and_then(|s| s.parse().ok()),
        comment: f.get("comment").cloned(),
    };
    let r = registration_step(&state, &auth, id, rid, &body).await.map(|_| ());
    back(&state, &ctx, &auth, id, r, f.get("back").map(String::as_str)).await
}

async fn checkin_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(e) = auth.check_csrf(f.get("csrf").map_or("", String::as_str)) {
        return error_page(&ctx, Some(&auth), e);
    }
    let r = check_in_code(&state, &auth, id, f.get("code").map_or("", String::as_str)).await.map(|_| ());
    back(&state, &ctx, &auth, id, r, None).await
}

async fn photo_submit(
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
    let r = async {
        let a = state.store.activity(id).await?;
        auth.require(Action::ManageActivities, Scope::community(a.community_id))?;
        for p in &form.photos {
            let clean = crate::api::photos::take_in(p.clone()).await?;
            let kept = crate::api::photos::keep(&state, clean).await?;
            state
                .store
                .add_activity_photo(
                    &a,
                    &kept.blob,
                    kept.media_type(),
                    auth.change(&state, "activity.photo", Some(a.community_id)),
                )
                .await?;
        }
        if let Some(s) = form.text("summary") {
            state
                .store
                .set_activity_summary(&a, s, auth.change(&state, "activity.summary", Some(a.community_id)))
                .await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    back(&state, &ctx, &auth, id, r, None).await
}

#[derive(Template)]
#[template(path = "activity_invitations.html")]
struct InvitationsPage {
    l: Layout,
    id: i64,
    title: String,
    households: i64,
    rows: Vec<(i64, String, i64, String, String, bool)>,
}

async fn invitations_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let v = invitations(&state, &auth, id).await?;
        let a = state.store.activity(id).await?;
        Ok(InvitationsPage {
            l: ctx.layout(&format!("{} · {}", a.title, ctx.lang.t("activity.invitations")), Some(&auth)),
            id,
            title: a.title,
            households: v["households"].as_i64().unwrap_or(0),
            rows: v["invitees"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|r| {
                            (
                                r["resident_id"].as_i64().unwrap_or(0),
                                r["name"].as_str().unwrap_or_default().to_string(),
                                r["age"].as_i64().unwrap_or(0),
                                r["address"].as_str().unwrap_or_default().to_string(),
                                r["origin"].as_str().unwrap_or_default().to_string(),
                                r["registered"].as_bool().unwrap_or(false),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

#[derive(Template)]
#[template(path = "activity_sheet.html")]
struct SheetPage {
    l: Layout,
    title: String,
    when: String,
    place: String,
    rows: Vec<(String, String, String)>,
}

async fn sheet_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = async {
        let a = state.store.activity(id).await?;
        auth.require(Action::ManageActivities, Scope::community(a.community_id))?;
        let rows = state
            .store
            .registrations(id)
            .await?
            .into_iter()
            .filter(|g| matches!(g.status.as_str(), "registered" | "offered" | "attended"))
            .map(|g| {
                (
                    g.name,
                    g.address,
                    g.checked_in_at.map(|t| t.with_timezone(&Shanghai).format("%H:%M").to_string()).unwrap_or_default(),
                )
            })
            .collect();
        Ok(SheetPage {
            l: ctx.layout(&a.title, Some(&auth)),
            title: a.title,
            when: when(a.starts_at),
            place: a.place,
            rows,
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

#[derive(Template)]
#[template(path = "activity_figures.html")]
struct FiguresPage {
    l: Layout,
    from: String,
    to: String,
    tiles: Vec<(String, String)>,
    by_origin: Vec<(String, i64)>,
    trend_svg: String,
    definition: String,
    never: i64,
    reach: Vec<(i64, String)>,
}

#[derive(Deserialize, Default)]
struct FiguresParams {
    from: Option<String>,
    to: Option<String>,
}

/// The mixing index month by month, on a 0–1 scale.
fn trend_svg(points: &[(String, f64)], label: &str) -> String {
    let short: Vec<(String, f64)> = points.iter().map(|(m, v)| (m.get(2..).unwrap_or(m).to_string(), *v)).collect();
    crate::charts::bars(&short, label, "#0b5d1e", Some(1.0), 2)
}

async fn figures_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<FiguresParams>,
) -> Response {
    let result = async {
        let c = auth.community(None)?;
        if !auth.can(Action::ManageActivities, Scope::community(c))
            && !auth.can(Action::ViewSummary, Scope::community(c))
        {
            return Err(ApiError::Forbidden);
        }
        let s = summary(&state, c, &PeriodQuery { from: p.from.clone(), to: p.to.clone(), community_id: None }).await?;
        let lang = ctx.lang;
        let f = &s["integration"];
        let pct = |v: &serde_json::Value| v.as_f64().map_or("—".into(), |x| format!("{:.0}%", x * 100.0));
        let num = |v: &serde_json::Value| v.as_f64().map_or("—".into(), |x| format!("{x:.2}"));
        let points: Vec<(String, f64)> = s["trend"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| {
                        (
                            t["month"].as_str().unwrap_or_default().to_string(),
                            t["mean_mixing_index"].as_f64().unwrap_or(0.0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(FiguresPage {
            l: ctx.layout(lang.t("activity.figures"), Some(&auth)),
            from: s["from"].as_str().unwrap_or_default().into(),
            to: s["to"].as_str().unwrap_or_default().into(),
            tiles: vec![
                (lang.t("activity.activities").into(), s["activities"].to_string()),
                (lang.t("activity.registrations").into(), s["registrations"].to_string()),
                (lang.t("activity.attendance").into(), s["attendance"].to_string()),
                (lang.t("activity.mixing").into(), num(&f["mean_mixing_index"])),
                (
                    lang.t("activity.three_origins").into(),
                    format!("{} ({})", f["three_or_more_origins"], pct(&f["three_or_more_share"])),
                ),
                (lang.t("activity.new_ties").into(), f["new_cross_origin_ties"].to_string()),
            ],
            by_origin: f["by_origin"]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0))).collect())
                .unwrap_or_default(),
            trend_svg: trend_svg(&points, lang.t("activity.trend")),
            definition: s["mixing_index_definition"].as_str().unwrap_or_default().into(),
            never: s["households_never_attended"].as_i64().unwrap_or(0),
            reach: s["households_to_reach"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|h| {
                            (
                                h["household_id"].as_i64().unwrap_or(0),
                                h["address"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}
