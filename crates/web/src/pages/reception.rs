//! Reception-day pages: the list with booking for residents, the desk on a tablet (bookings, walk-ins, the queue,
//! demands answered or turned into requests), open demands for each party, and the figures.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Deserialize;
use std::collections::HashMap;
use wujia_app::reception::{self, DemandAnswer, DemandView, NewBooking, NewDay, NewDemand, NewVisit};
use wujia_app::registry::household_at_address;
use wujia_core::accounts::{Action, Scope};

use super::when;

fn hm(t: DateTime<Utc>) -> String {
    t.with_timezone(&Shanghai).format("%H:%M").to_string()
}

/// All reception page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reception", get(list_page).post(create_submit))
        .route("/reception/figures", get(figures_page))
        .route("/reception/{id}", get(day_page))
        .route("/reception/{id}/bookings", post(book_submit))
        .route("/reception/{id}/visits", post(visit_submit))
        .route("/reception/demands/{id}", post(demand_submit))
}

struct DayRow {
    id: i64,
    title: String,
    when: String,
    kind: String,
    booked: i64,
    visits: i64,
    open: bool,
    slots: Vec<(String, String, i64)>,
}

#[derive(Template)]
#[template(path = "reception_list.html")]
struct ListPage {
    l: Layout,
    days: Vec<DayRow>,
    mine: Vec<(String, String)>,
    demands: Vec<DemandRow>,
    can_manage: bool,
    can_book: bool,
    error: Option<String>,
    notice: Option<String>,
}

struct DemandRow {
    id: i64,
    text: String,
    party: String,
    answer: Option<String>,
    request: Option<String>,
    answered: bool,
    version: i64,
    editable: bool,
    can_request: bool,
}

fn demand_rows(lang: crate::i18n::Lang, list: Vec<DemandView>) -> Vec<DemandRow> {
    list.into_iter()
        .map(|d| DemandRow {
            id: d.id,
            text: d.text,
            party: lang.t(&format!("party.{}", d.party.code())).to_string(),
            answer: d.answer,
            request: d.request_number,
            answered: d.answered,
            version: d.version,
            editable: d.editable,
            can_request: d.can_request,
        })
        .collect()
}

async fn list_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    error: Option<String>,
    notice: Option<String>,
) -> Result<ListPage, ApiError> {
    let c = auth.community(None)?;
    let lang = ctx.lang;
    let now = state.clock.now();
    let scope = Scope::community(c);
    let can_view = auth.can(Action::ViewReception, scope);
    let days =
        reception::days(&state.app, auth, &reception::DaysQuery { upcoming: None, community_id: Some(c) }).await?;
    let mut rows = Vec::new();
    for d in days.iter().filter(|d| can_view || d.ends_at > now) {
        let slots = if d.open_for_booking {
            let (_, slots) = reception::day_slots(&state.app, auth, d.id).await?;
            slots
                .iter()
                .map(|s| (s.starts_at.to_rfc3339(), format!("{}–{}", hm(s.starts_at), hm(s.ends_at)), s.left))
                .collect()
        } else {
            Vec::new()
        };
        rows.push(DayRow {
            id: d.id,
            title: d.title.clone(),
            when: format!("{}–{}", when(d.starts_at), hm(d.ends_at)),
            kind: match d.kind {
                wujia_core::reception::SessionKind::Themed => format!("{} · {}", lang.t("reception.themed"), d.theme),
                wujia_core::reception::SessionKind::Regular => lang.t("reception.regular").to_string(),
            },
            booked: d.bookings,
            visits: d.visits,
            open: d.open_for_booking,
            slots,
        });
    }
    let mine = reception::my_bookings(&state.app, auth)
        .await?
        .into_iter()
        .map(|b| (b.title, format!("{}–{}", when(b.booking.slot_start), hm(b.slot_end))))
        .collect();
    let demands = if can_view {
        reception::open_demands(&state.app, auth, &reception::DemandsQuery { party: None, community_id: Some(c) })
            .await?
    } else {
        Vec::new()
    };
    Ok(ListPage {
        l: ctx.layout(lang.t("reception.title"), Some(auth)),
        days: rows,
        mine,
        demands: demand_rows(lang, demands),
        can_manage: auth.can(Action::ManageReception, scope),
        can_book: auth.actor.household.is_some(),
        error,
        notice,
    })
}

#[derive(Deserialize, Default)]
struct ListParams {
    booked: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<ListParams>,
) -> Response {
    let notice = p.booked.map(|slot| format!("{}{slot}", ctx.lang.t("reception.booked")));
    let result = list_view(&state, &ctx, &auth, None, notice).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn list_with_error(state: &AppState, ctx: &PageContext, auth: &Auth, e: ApiError) -> Response {
    let page = list_view(state, ctx, auth, Some(e.detail()), None).await;
    super::page_with_error(ctx, auth, e, page)
}

async fn create_submit(
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
    let body = NewDay {
        title: get("title"),
        kind: get("kind"),
        theme: get("theme"),
        place: Some(get("place")),
        parties: None,
        starts_at: format!("{date}T{}", get("from")),
        ends_at: format!("{date}T{}", get("to")),
        slot_minutes: get("slot_minutes").parse().ok(),
        slot_capacity: get("slot_capacity").parse().ok(),
        community_id: None,
    };
    match reception::hold_day(&state.app, &auth, &body).await {
        Ok(d) => Redirect::to(&format!("/reception/{}", d.id)).into_response(),
        Err(e) => list_with_error(&state, &ctx, &auth, e.into()).await,
    }
}

#[derive(Deserialize)]
struct BookForm {
    csrf: String,
    slot: String,
    topic: Option<String>,
    household_id: Option<String>,
    name: Option<String>,
    back: Option<String>,
}

async fn book_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<BookForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let result = async {
        let slot = DateTime::parse_from_rfc3339(f.slot.trim())
            .map_err(|_| ApiError::field("slot", "请选择时段 / choose a slot"))?
            .with_timezone(&Utc);
        let household_id = match f.household_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => match text.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    // Staff booking on a resident's behalf type the address; only they may look one up.
                    let c = auth.community(None)?;
                    let at = household_at_address(&state.app, &auth, c, Action::ManageReception, text).await?;
                    Some(at.household("household_id")?)
                }
            },
            None => None,
        };
        let body = NewBooking { slot, topic: f.topic.clone().unwrap_or_default(), household_id, name: f.name.clone() };
        Ok::<_, ApiError>(reception::book(&state.app, &auth, id, &body).await?)
    }
    .await;
    match result {
        Ok(b) => {
            let back = f.back.as_deref().filter(|b| b.starts_with("/reception/")).map(str::to_string);
            Redirect::to(
                &back.unwrap_or_else(|| format!("/reception?booked={}", crate::auth::urlencode(&when(b.slot_start)))),
            )
            .into_response()
        }
        Err(e) => list_with_error(&state, &ctx, &auth, e).await,
    }
}

struct VisitRow {
    queue_no: i64,
    name: String,
    arrived: String,
    answered: bool,
    demands: Vec<DemandRow>,
}

#[derive(Template)]
#[template(path = "reception_day.html")]
struct DayPage {
    l: Layout,
    id: i64,
    title: String,
    when: String,
    place: String,
    parties: String,
    bookings: Vec<(i64, String, String, String, bool)>,
    visits: Vec<VisitRow>,
    party_options: Vec<(String, String)>,
    categories: Vec<(i64, String)>,
    slots: Vec<(String, String)>,
    open: bool,
    can_manage: bool,
    error: Option<String>,
}

async fn day_view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    id: i64,
    error: Option<String>,
) -> Result<DayPage, ApiError> {
    let detail = reception::day(&state.app, auth, id).await?;
    let d = &detail.day;
    let scope = Scope::community(d.community_id);
    auth.require(Action::ViewReception, scope)?;
    let lang = ctx.lang;
    let visits = detail.visits.clone().unwrap_or_default();
    let arrived: Vec<i64> = visits.iter().filter_map(|v| v.booking_id).collect();
    let rows = visits
        .into_iter()
        .map(|v| VisitRow {
            queue_no: v.queue_no,
            name: v.name,
            arrived: hm(v.arrived_at),
            answered: v.answered,
            demands: demand_rows(lang, v.demands),
        })
        .collect();
    let categories = state
        .store
        .categories()
        .await?
        .into_iter()
        .filter(|c| c.is_leaf() && c.active)
        .map(|c| (c.id, if lang == crate::i18n::Lang::Zh { c.name_zh } else { c.name_en }))
        .collect();
    Ok(DayPage {
        l: ctx.layout(&d.title, Some(auth)),
        id,
        title: d.title.clone(),
        when: format!("{}–{}", when(d.starts_at), hm(d.ends_at)),
        place: d.place.clone(),
        parties: d
            .parties
            .iter()
            .map(|p| lang.t(&format!("party.{}", p.code())).to_string())
            .collect::<Vec<_>>()
            .join("、"),
        bookings: detail
            .bookings
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|b| (b.id, hm(b.slot_start), b.name, b.address, arrived.contains(&b.id)))
            .collect(),
        visits: rows,
        party_options: wujia_core::reception::Party::ALL
            .iter()
            .map(|p| (p.code().to_string(), lang.t(&format!("party.{}", p.code())).to_string()))
            .collect(),
        categories,
        slots: detail.slots.iter().map(|s| (s.starts_at.to_rfc3339(), hm(s.starts_at))).collect(),
        open: d.open_for_booking,
        can_manage: auth.can(Action::ManageReception, scope),
        error,
    })
}

async fn day_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Path(id): Path<i64>) -> Response {
    let result = day_view(&state, &ctx, &auth, id, None).await;
    super::page_or_error(&ctx, &auth, result)
}

async fn visit_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    if let Err(e) = auth.check_csrf(&get("csrf")) {
        return error_page(&ctx, Some(&auth), e);
    }
    let result = async {
        let household_id = match get("address").as_str() {
            "" => None,
            text => {
                let c = state.store.reception_day(id).await?.community_id;
                let at = household_at_address(&state.app, &auth, c, Action::ManageReception, text).await?;
                Some(at.household("address")?)
            }
        };
        let demands = (0..3)
            .filter(|i| !get(&format!("demand{i}")).is_empty())
            .map(|i| NewDemand { text: get(&format!("demand{i}")), party: get(&format!("party{i}")) })
            .collect();
        let body = NewVisit {
            booking_id: get("booking_id").parse().ok(),
            household_id,
            name: Some(get("name")).filter(|n| !n.is_empty()),
            demands,
        };
        Ok::<_, ApiError>(reception::register(&state.app, &auth, id, &body).await?)
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/reception/{id}#queue")).into_response(),
        Err(e) => {
            let page = day_view(&state, &ctx, &auth, id, Some(e.detail())).await;
            super::page_with_error(&ctx, &auth, e, page)
        }
    }
}

#[derive(Deserialize)]
struct DemandForm {
    csrf: String,
    answer: Option<String>,
    category_id: Option<String>,
    version: i64,
    back: Option<String>,
}

async fn demand_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<DemandForm>,
) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let patch = DemandAnswer {
        answer: f.answer.clone().filter(|a| !a.trim().is_empty()),
        category_id: f.category_id.as_deref().and_then(|c| c.parse().ok()),
        version: f.version,
    };
    match reception::answer(&state.app, &auth, id, &patch).await {
        Ok(_) => Redirect::to(&super::safe_next(f.back.as_deref())).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e.into()),
    }
}

#[derive(Template)]
#[template(path = "reception_figures.html")]
struct FiguresPage {
    l: Layout,
    from: String,
    to: String,
    tiles: Vec<(String, String)>,
    by_party: Vec<(String, String, String, String)>,
    by_theme: Vec<(String, String, String, String)>,
}

#[derive(Deserialize, Default)]
struct FiguresParams {
    from: Option<String>,
    to: Option<String>,
}

fn days(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{x:.1}"))
}

fn share(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{:.1}%", x * 100.0))
}

async fn figures_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<FiguresParams>,
) -> Response {
    let result = async {
        let c = auth.community(None)?;
        auth.require(Action::ViewReception, Scope::community(c))?;
        let q = wujia_app::period::PeriodQuery { from: p.from.clone(), to: p.to.clone(), community_id: Some(c) };
        let s = reception::summary(&state.app, &auth, &q).await?;
        let f = &s.figures;
        let lang = ctx.lang;
        let groups = |groups: &std::collections::BTreeMap<String, wujia_core::reception::figures::Answered>,
                      label: &dyn Fn(&str) -> String| {
            groups
                .iter()
                .map(|(k, g)| {
                    (label(k), format!("{}/{}", g.answered, g.demands), share(g.share), days(g.mean_days_to_answer))
                })
                .collect()
        };
        Ok(FiguresPage {
            l: ctx.layout(lang.t("reception.figures"), Some(&auth)),
            from: s.from.to_string(),
            to: s.to.to_string(),
            tiles: vec![
                (
                    lang.t("reception.sessions").into(),
                    format!("{} ({} / {})", f.sessions, f.regular_sessions, f.themed_sessions),
                ),
                (lang.t("reception.visits").into(), f.visits.to_string()),
                (lang.t("reception.demands").into(), f.demands.demands.to_string()),
                (lang.t("reception.answered_share").into(), share(f.demands.share)),
                (lang.t("reception.visits_answered").into(), f.visits_answered.to_string()),
                (lang.t("reception.days_to_answer").into(), days(f.demands.mean_days_to_answer)),
            ],
            by_party: groups(&f.by_party, &|k| lang.t(&format!("party.{k}")).to_string()),
            by_theme: groups(&f.by_theme, &|k| {
                if k == "-" { lang.t("reception.regular").to_string() } else { k.to_string() }
            }),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

/// One household on the worker's page: id, address, head, members, needs, open requests, last visit.
type HouseholdLine = (i64, String, String, usize, Vec<String>, usize, String);

#[derive(Template)]
#[template(path = "my_households.html")]
struct MyHouseholdsPage {
    l: Layout,
    counts: Vec<(String, usize)>,
    rows: Vec<HouseholdLine>,
    all: bool,
}

#[derive(Deserialize, Default)]
struct MyParams {
    building_id: Option<i64>,
    #[serde(default)]
    all: bool,
}

/// A building social worker's households: who needs attention, open requests, last visit.
async fn my_households_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<MyParams>,
) -> Response {
    let result = async {
        let q = crate::api::households::MyHouseholdsQuery { building_id: p.building_id, all: Some(p.all) };
        let (list, counts) = crate::api::households::my_households(&state, &auth, &q).await?;
        let lang = ctx.lang;
        Ok(MyHouseholdsPage {
            l: ctx.layout(lang.t("my.title"), Some(&auth)),
            counts: crate::api::households::NEEDS
                .iter()
                .map(|n| (lang.t(&format!("need.{n}")).to_string(), counts.get(*n).copied().unwrap_or(0)))
                .collect(),
            rows: list
                .into_iter()
                .map(|h| {
                    (
                        h.household_id,
                        h.address,
                        h.head,
                        h.members,
                        h.needs.iter().map(|n| lang.t(&format!("need.{n}")).to_string()).collect(),
                        h.open_requests,
                        h.last_visit
                            .map(|t| t.with_timezone(&Shanghai).format("%Y-%m-%d").to_string())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            all: p.all,
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

/// The social worker's page route.
pub fn my_routes() -> Router<AppState> {
    Router::new().route("/my/households", get(my_households_page))
}
