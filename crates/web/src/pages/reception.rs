//! Reception-day pages: the list with booking for residents, the desk on a tablet (bookings, walk-ins, the queue,
//! demands answered or turned into requests), open demands for each party, and the figures.

use super::{Layout, PageContext, error_page};
use crate::AppState;
use crate::api::reception::{
    BookingBody, DemandBody, DemandPatch, ReceptionDayBody, VisitBody, answer, book, hold_day, register, summary,
};
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

fn demand_rows(auth: &Auth, lang: crate::i18n::Lang, list: &[wujia_store::Demand]) -> Vec<DemandRow> {
    list.iter()
        .map(|d| {
            let scope = Scope::community(d.community_id);
            let manage = auth.can(Action::ManageReception, scope);
            DemandRow {
                id: d.id,
                text: d.text.clone(),
                party: lang.t(&format!("party.{}", d.party)).to_string(),
                answer: d.answer.clone(),
                request: d.request_number.clone(),
                answered: d.answered().is_some(),
                version: d.version,
                editable: d.answered().is_none()
                    && d.request_id.is_none()
                    && (manage || crate::api::meetings::own_party(auth) == Some(d.party.as_str())),
                can_request: manage && d.request_id.is_none() && d.answered().is_none(),
            }
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
    let days = state.store.reception_days(c, None, None).await?;
    let mut rows = Vec::new();
    for d in days.iter().filter(|d| can_view || d.ends_at > now) {
        let bookings = if now < d.starts_at { state.store.bookings(d.id).await? } else { Vec::new() };
        let slots = d
            .schedule()
            .map(|s| s.slots())
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let left = d.slot_capacity - bookings.iter().filter(|b| b.slot_start == s.starts_at).count() as i64;
                (s.starts_at.to_rfc3339(), format!("{}–{}", hm(s.starts_at), hm(s.ends_at)), left.max(0))
            })
            .collect();
        rows.push(DayRow {
            id: d.id,
            title: d.title.clone(),
            when: format!("{}–{}", when(d.starts_at), hm(d.ends_at)),
            kind: if d.kind == "themed" {
                format!("{} · {}", lang.t("reception.themed"), d.theme)
            } else {
                lang.t("reception.regular").to_string()
            },
            booked: d.bookings,
            visits: d.visits,
            open: now < d.starts_at,
            slots,
        });
    }
    let mine = match auth.actor.household {
        Some(h) => state
            .store
            .household_bookings(h)
            .await?
            .into_iter()
            .map(|(b, d)| {
                (
                    d.title,
                    format!("{}–{}", when(b.slot_start), hm(b.slot_start + chrono::Duration::minutes(d.slot_minutes))),
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let demands = if can_view {
        let party = crate::api::meetings::own_party(auth);
        state.store.open_demands(c, party).await?
    } else {
        Vec::new()
    };
    Ok(ListPage {
        l: ctx.layout(lang.t("reception.title"), Some(auth)),
        days: rows,
        mine,
        demands: demand_rows(auth, lang, &demands),
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
    let body = ReceptionDayBody {
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
    match hold_day(&state, &auth, &body).await {
        Ok(d) => Redirect::to(&format!("/reception/{}", d.id)).into_response(),
        Err(e) => list_with_error(&state, &ctx, &auth, e).await,
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
                    let c = auth.community(None)?;
                    let hits = state.store.search(c, text, 2).await?;
                    Some(hits.first().map(|h| h.household_id).ok_or_else(|| {
                        ApiError::field("household_id", "找不到这个住户地址 / no household at this address")
                    })?)
                }
            },
            None => None,
        };
        let body = BookingBody { slot, topic: f.topic.clone().unwrap_or_default(), household_id, name: f.name.clone() };
        book(&state, &auth, id, &body).await
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
    let d = state.store.reception_day(id).await?;
    let scope = Scope::community(d.community_id);
    auth.require(Action::ViewReception, scope)?;
    let lang = ctx.lang;
    let visits = state.store.visits(id).await?;
    let arrived: Vec<i64> = visits.iter().filter_map(|v| v.booking_id).collect();
    let mut rows = Vec::new();
    for v in &visits {
        let demands = state.store.demands(v.id).await?;
        let answered: Vec<_> = demands.iter().map(wujia_store::Demand::answered).collect();
        rows.push(VisitRow {
            queue_no: v.queue_no,
            name: v.name.clone(),
            arrived: hm(v.arrived_at),
            answered: wujia_core::reception::visit_answered(&answered),
            demands: demand_rows(auth, lang, &demands),
        });
    }
    let parties: Vec<String> = serde_json::from_str(&d.parties).unwrap_or_default();
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
        parties: parties.iter().map(|p| lang.t(&format!("party.{p}")).to_string()).collect::<Vec<_>>().join("、"),
        bookings: state
            .store
            .bookings(id)
            .await?
            .into_iter()
            .map(|b| (b.id, hm(b.slot_start), b.name, b.address, arrived.contains(&b.id)))
            .collect(),
        visits: rows,
        party_options: wujia_core::reception::Party::ALL
            .iter()
            .map(|p| (p.code().to_string(), lang.t(&format!("party.{}", p.code())).to_string()))
            .collect(),
        categories,
        slots: d
            .schedule()
            .map(|s| s.slots())
            .unwrap_or_default()
            .iter()
            .map(|s| (s.starts_at.to_rfc3339(), hm(s.starts_at)))
            .collect(),
        open: state.clock.now() < d.starts_at,
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
        let household_id =
            match get("address").as_str() {
                "" => None,
                text => {
                    let d = state.store.reception_day(id).await?;
                    let hits = state.store.search(d.community_id, text, 2).await?;
                    Some(hits.first().map(|h| h.household_id).ok_or_else(|| {
                        ApiError::field("address", "找不到这个住户地址 / no household at this address")
                    })?)
                }
            };
        let demands = (0..3)
            .filter(|i| !get(&format!("demand{i}")).is_empty())
            .map(|i| DemandBody { text: get(&format!("demand{i}")), party: get(&format!("party{i}")) })
            .collect();
        let body = VisitBody {
            booking_id: get("booking_id").parse().ok(),
            household_id,
            name: Some(get("name")).filter(|n| !n.is_empty()),
            demands,
        };
        register(&state, &auth, id, &body).await
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
    let patch = DemandPatch {
        answer: f.answer.clone().filter(|a| !a.trim().is_empty()),
        category_id: f.category_id.as_deref().and_then(|c| c.parse().ok()),
        version: f.version,
    };
    match answer(&state, &auth, id, &patch).await {
        Ok(_) => Redirect::to(&super::safe_next(f.back.as_deref())).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
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

fn days(v: &serde_json::Value) -> String {
    v.as_f64().map_or("—".into(), |x| format!("{x:.1}"))
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
        let s = summary(&state, c, p.from.as_deref(), p.to.as_deref()).await?;
        let lang = ctx.lang;
        let groups = |v: &serde_json::Value, label: &dyn Fn(&str) -> String| -> Vec<(String, String, String, String)> {
            v.as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, g)| {
                            (
                                label(k),
                                format!("{}/{}", g["answered"], g["demands"]),
                                crate::charts::percent(&g["share"]),
                                days(&g["mean_days_to_answer"]),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(FiguresPage {
            l: ctx.layout(lang.t("reception.figures"), Some(&auth)),
            from: s["from"].as_str().unwrap_or_default().into(),
            to: s["to"].as_str().unwrap_or_default().into(),
            tiles: vec![
                (
                    lang.t("reception.sessions").into(),
                    format!("{} ({} / {})", s["sessions"], s["regular_sessions"], s["themed_sessions"]),
                ),
                (lang.t("reception.visits").into(), s["visits"].to_string()),
                (lang.t("reception.demands").into(), s["demands"]["demands"].to_string()),
                (lang.t("reception.answered_share").into(), crate::charts::percent(&s["demands"]["share"])),
                (lang.t("reception.visits_answered").into(), s["visits_answered"].to_string()),
                (lang.t("reception.days_to_answer").into(), days(&s["demands"]["mean_days_to_answer"])),
            ],
            by_party: groups(&s["by_party"], &|k| lang.t(&format!("party.{k}")).to_string()),
            by_theme: groups(&s["by_theme"], &|k| {
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
