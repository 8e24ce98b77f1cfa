//! Reception days (吾家有应): sessions, bookings by slot, the desk's queue of visits, demands answered on the spot
//! or turned into service requests, the figures, and the iCalendar feed.

use super::meetings::{beijing_time, own_party};
use super::patrol::parse_date;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, FieldIssue};
use crate::form::field_error;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_app::requests::{TakeIn, take_in};
use wujia_core::accounts::{Action, Scope};
use wujia_core::reception::{Party, Schedule, SessionKind};
use wujia_core::requests::Channel;
use wujia_store::{Demand, NewReceptionDay, ReceptionDay, Visit};

/// A reception day to hold.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReceptionDayBody {
    /// Title, e.g. 第三次居民接待日.
    pub title: String,
    /// `regular` or `themed`.
    pub kind: String,
    /// The theme of a themed session.
    #[serde(default)]
    pub theme: String,
    /// Place.
    pub place: Option<String>,
    /// Parties receiving residents (default community, property, developer).
    pub parties: Option<Vec<String>>,
    /// Start, Beijing time `2023-06-18T09:00`.
    pub starts_at: String,
    /// End, Beijing time.
    pub ends_at: String,
    /// Minutes per slot (default 20).
    pub slot_minutes: Option<u32>,
    /// Households per slot (default 3: one per table).
    pub slot_capacity: Option<u32>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Schedules a reception day.
#[utoipa::path(post, path = "/api/v1/reception_days", operation_id = "create_reception_day", tag = "reception",
    request_body = ReceptionDayBody, responses((status = 201, description = "Scheduled"), (status = 422, description = "Invalid")),
    security(("bearer" = [])))]
pub async fn create_reception_day(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ReceptionDayBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let day = hold_day(&state, &auth, &b).await?;
    Ok((StatusCode::CREATED, Json(day_json(&day, state.clock.now()))))
}

/// Checks and schedules a reception day.
pub(crate) async fn hold_day(state: &AppState, auth: &Auth, b: &ReceptionDayBody) -> Result<ReceptionDay, ApiError> {
    let c = auth.community(b.community_id)?;
    auth.require(Action::ManageReception, Scope::community(c))?;
    let mut issues = Vec::new();
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        issues.push(FieldIssue {
            field: "title".into(),
            message: "请填写名称（最多 100 字）/ give a title".into(),
            row: None,
        });
    }
    let kind = SessionKind::parse(b.kind.trim());
    if kind.is_none() {
        issues.push(FieldIssue {
            field: "kind".into(),
            message: "应为 regular（例行）或 themed（主题）/ regular or themed".into(),
            row: None,
        });
    }
    if kind == Some(SessionKind::Themed) && b.theme.trim().is_empty() {
        issues.push(FieldIssue {
            field: "theme".into(),
            message: "主题接待日须写明主题 / a themed session needs a theme".into(),
            row: None,
        });
    }
    let parties = b.parties.clone().unwrap_or_else(|| vec!["community".into(), "property".into(), "developer".into()]);
    if parties.is_empty() || parties.iter().any(|p| Party::parse(p).is_none()) {
        issues.push(FieldIssue {
            field: "parties".into(),
            message: "参与方应为 community、property、developer 或 street / unknown party".into(),
            row: None,
        });
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let starts = beijing_time("starts_at", &b.starts_at)?;
    let ends = beijing_time("ends_at", &b.ends_at)?;
    let schedule =
        Schedule::new(starts, ends, b.slot_minutes.unwrap_or(20), b.slot_capacity.unwrap_or(3)).map_err(field_error)?;
    let new = NewReceptionDay {
        community_id: c,
        title: title.into(),
        kind: kind.map(SessionKind::code).unwrap_or("regular").into(),
        theme: b.theme.trim().into(),
        place: b.place.as_deref().map(str::trim).filter(|p| !p.is_empty()).unwrap_or("社区居民接待室").into(),
        parties,
        schedule,
    };
    Ok(state.store.create_reception_day(&new, auth.change(state, "reception.create", Some(c))).await?)
}

/// A day with its slots and how many places each has left.
pub(crate) fn day_json(d: &ReceptionDay, now: chrono::DateTime<chrono::Utc>) -> Value {
    let mut v = json!(d);
    v["parties"] = serde_json::from_str(&d.parties).unwrap_or(json!([]));
    v["open_for_booking"] = json!(now < d.starts_at);
    v
}

/// `?community_id=&upcoming=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Only days that have not ended.
    pub upcoming: Option<bool>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Reception days, newest first; residents see them to book.
#[utoipa::path(get, path = "/api/v1/reception_days", operation_id = "list_reception_days", tag = "reception", params(DaysQuery),
    responses((status = 200, description = "Reception days")), security(("bearer" = [])))]
pub async fn list_reception_days(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    let now = state.clock.now();
    let from = q.upcoming.unwrap_or(false).then(|| now - Duration::hours(14));
    let days = state.store.reception_days(c, from, None).await?;
    Ok(Json(json!(
        days.iter()
            .filter(|d| !q.upcoming.unwrap_or(false) || d.ends_at > now)
            .map(|d| day_json(d, now))
            .collect::<Vec<_>>()
    )))
}

/// A reception day: its slots with places left, and, for those who run it, its bookings and visits.
#[utoipa::path(get, path = "/api/v1/reception_days/{id}", operation_id = "get_reception_day", tag = "reception",
    params(("id" = i64, Path, description = "Reception day")), responses((status = 200, description = "The day")), security(("bearer" = [])))]
pub async fn get_reception_day(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let d = day_for(&state, &auth, id).await?;
    let bookings = state.store.bookings(id).await?;
    let mut v = day_json(&d, state.clock.now());
    let slots: Vec<Value> = d
        .schedule()
        .map(|s| s.slots())
        .unwrap_or_default()
        .iter()
        .map(|s| {
            let taken = bookings.iter().filter(|b| b.slot_start == s.starts_at).count() as i64;
            json!({"starts_at": s.starts_at, "ends_at": s.ends_at, "left": (d.slot_capacity - taken).max(0)})
        })
        .collect();
    v["slots"] = json!(slots);
    if auth.can(Action::ViewReception, Scope::community(d.community_id)) {
        v["bookings"] = json!(bookings);
        v["visits"] = visits_json(&state, &state.store.visits(id).await?).await?;
    } else if let Some(h) = auth.actor.household {
        v["my_bookings"] = json!(bookings.into_iter().filter(|b| b.household_id == h).collect::<Vec<_>>());
    }
    Ok(Json(v))
}

async fn day_for(state: &AppState, auth: &Auth, id: i64) -> Result<ReceptionDay, ApiError> {
    let d = state.store.reception_day(id).await?;
    if !auth.actor.communities.contains(&d.community_id) && auth.role() != wujia_core::accounts::Role::Admin {
        return Err(ApiError::NotFound);
    }
    Ok(d)
}

pub(crate) async fn visits_json(state: &AppState, visits: &[Visit]) -> Result<Value, ApiError> {
    let mut out = Vec::with_capacity(visits.len());
    for v in visits {
        let demands = state.store.demands(v.id).await?;
        let answered: Vec<_> = demands.iter().map(Demand::answered).collect();
        let mut j = json!(v);
        j["answered"] = json!(wujia_core::reception::visit_answered(&answered));
        j["demands"] = json!(demands.iter().map(demand_json).collect::<Vec<_>>());
        out.push(j);
    }
    Ok(json!(out))
}

pub(crate) fn demand_json(d: &Demand) -> Value {
    let mut j = json!(d);
    j["answered"] = json!(d.answered().is_some());
    j
}

/// A booking.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BookingBody {
    /// The slot's start.
    pub slot: chrono::DateTime<chrono::Utc>,
    /// What it is about.
    #[serde(default)]
    pub topic: String,
    /// The household (staff booking on a resident's behalf; residents book for their own).
    pub household_id: Option<i64>,
    /// Who comes (defaults to the account's name).
    pub name: Option<String>,
}

/// Books a slot: a resident for their household from the portal, or staff on a resident's behalf.
#[utoipa::path(post, path = "/api/v1/reception_days/{id}/bookings", operation_id = "create_reception_booking", tag = "reception",
    params(("id" = i64, Path, description = "Reception day")), request_body = BookingBody,
    responses((status = 201, description = "Booked"), (status = 422, description = "Slot full, already booked, or not a slot")),
    security(("bearer" = [])))]
pub async fn create_reception_booking(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<BookingBody>,
) -> Result<(StatusCode, Json<wujia_store::Booking>), ApiError> {
    Ok((StatusCode::CREATED, Json(book(&state, &auth, id, &b).await?)))
}

/// Checks and records a booking.
pub(crate) async fn book(
    state: &AppState,
    auth: &Auth,
    id: i64,
    b: &BookingBody,
) -> Result<wujia_store::Booking, ApiError> {
    let d = day_for(state, auth, id).await?;
    let staff = auth.can(Action::ManageReception, Scope::community(d.community_id));
    let household = match (staff, b.household_id, auth.actor.household) {
        (true, Some(h), _) => h,
        (_, _, Some(own)) => own,
        _ => return Err(ApiError::field("household_id", "请指定住户 / choose the household")),
    };
    let h = state
        .store
        .household(household, state.clock.today())
        .await
        .map_err(|_| ApiError::field("household_id", "住户不存在 / unknown household"))?;
    if h.community_id != d.community_id {
        return Err(ApiError::field("household_id", "住户不在本社区 / the household is in another community"));
    }
    if !staff {
        auth.require(Action::TakePart, Scope::household(h.community_id, h.building_id, h.id))?;
    }
    let name = b.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| auth.user.display_name.clone());
    if b.topic.chars().count() > 200 {
        return Err(ApiError::field("topic", "事由最多 200 字 / at most 200 characters"));
    }
    Ok(state
        .store
        .book(&d, h.id, name.trim(), b.slot, b.topic.trim(), auth.change(state, "reception.book", Some(d.community_id)))
        .await?)
}

/// One demand as raised at the desk.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DemandBody {
    /// What the resident asks.
    pub text: String,
    /// The party that must answer: `community`, `property`, `developer` or `street`.
    pub party: String,
}

/// A visit registered at the desk.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VisitBody {
    /// The booking the resident came with.
    pub booking_id: Option<i64>,
    /// The household of a walk-in.
    pub household_id: Option<i64>,
    /// Who came (a walk-in's name).
    pub name: Option<String>,
    /// Their demands.
    #[serde(default)]
    pub demands: Vec<DemandBody>,
}

/// Registers a visit (from a booking or a walk-in) with its demands, and gives the next queue number.
#[utoipa::path(post, path = "/api/v1/reception_days/{id}/visits", operation_id = "create_reception_visit", tag = "reception",
    params(("id" = i64, Path, description = "Reception day")), request_body = VisitBody,
    responses((status = 201, description = "Registered")), security(("bearer" = [])))]
pub async fn create_reception_visit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<VisitBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let v = register(&state, &auth, id, &b).await?;
    Ok((StatusCode::CREATED, Json(visits_json(&state, &[v]).await?[0].clone())))
}

/// Checks and registers a visit.
pub(crate) async fn register(state: &AppState, auth: &Auth, id: i64, b: &VisitBody) -> Result<Visit, ApiError> {
    let d = day_for(state, auth, id).await?;
    auth.require(Action::ManageReception, Scope::community(d.community_id))?;
    let mut issues = Vec::new();
    for (i, dm) in b.demands.iter().enumerate() {
        if dm.text.trim().is_empty() || dm.text.chars().count() > 500 {
            issues.push(FieldIssue {
                field: format!("demands[{i}].text"),
                message: "请写下诉求（最多 500 字）/ write the demand".into(),
                row: None,
            });
        }
        if Party::parse(dm.party.trim()).is_none() {
            issues.push(FieldIssue {
                field: format!("demands[{i}].party"),
                message: "请选择答复方 / choose who answers".into(),
                row: None,
            });
        }
    }
    let booking =
        match b.booking_id {
            Some(bid) => {
                Some(
                    state.store.bookings(id).await?.into_iter().find(|x| x.id == bid).ok_or_else(|| {
                        ApiError::field("booking_id", "不是本次接待日的预约 / not a booking of this day")
                    })?,
                )
            }
            None => None,
        };
    let household = booking.as_ref().map(|x| x.household_id).or(b.household_id);
    if let Some(h) = household {
        let hh = state
            .store
            .household(h, state.clock.today())
            .await
            .map_err(|_| ApiError::field("household_id", "住户不存在 / unknown household"))?;
        if hh.community_id != d.community_id {
            return Err(ApiError::field("household_id", "住户不在本社区 / the household is in another community"));
        }
    }
    let name = b.name.clone().filter(|n| !n.trim().is_empty()).or_else(|| booking.as_ref().map(|x| x.name.clone()));
    let Some(name) = name else {
        issues.push(FieldIssue {
            field: "name".into(),
            message: "请填写来访居民姓名 / name the visitor".into(),
            row: None,
        });
        return Err(ApiError::Validation(issues));
    };
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let demands: Vec<(String, String)> =
        b.demands.iter().map(|x| (x.text.trim().to_string(), x.party.trim().to_string())).collect();
    Ok(state
        .store
        .register_visit(
            &d,
            household,
            name.trim(),
            b.booking_id,
            &demands,
            auth.change(state, "visit.create", Some(d.community_id)),
        )
        .await?)
}

/// A demand's answer, or the request it becomes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DemandPatch {
    /// The answer given back to the resident.
    pub answer: Option<String>,
    /// Turn it into a service request in this category (channel "reception day").
    pub category_id: Option<i64>,
    /// The version last read.
    pub version: i64,
}

/// Answers a demand (on the spot, or later by the party that owns it), or turns it into a service request.
#[utoipa::path(patch, path = "/api/v1/reception_demands/{id}", operation_id = "update_reception_demand", tag = "reception",
    params(("id" = i64, Path, description = "Demand")), request_body = DemandPatch,
    responses((status = 200, description = "Saved"), (status = 409, description = "Changed meanwhile")), security(("bearer" = [])))]
pub async fn update_reception_demand(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DemandPatch>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(demand_json(&answer(&state, &auth, id, &b).await?)))
}

/// Checks and records an answer or a request.
pub(crate) async fn answer(state: &AppState, auth: &Auth, id: i64, b: &DemandPatch) -> Result<Demand, ApiError> {
    let dm = state.store.demand(id).await?;
    let scope = Scope::community(dm.community_id);
    if !auth.can(Action::ViewReception, scope) {
        return Err(ApiError::NotFound);
    }
    let manage = auth.can(Action::ManageReception, scope);
    if !manage && own_party(auth) != Some(dm.party.as_str()) {
        return Err(ApiError::Forbidden);
    }
    if b.version != dm.version {
        return Err(ApiError::Conflict("诉求已被他人更新，请刷新 / the demand was changed by someone else".into()));
    }
    let change = auth.change(state, "visit.demand", Some(dm.community_id));
    match (b.answer.as_deref().map(str::trim).filter(|a| !a.is_empty()), b.category_id) {
        (Some(text), _) => {
            if text.chars().count() > 1000 {
                return Err(ApiError::field("answer", "答复最多 1000 字 / at most 1000 characters"));
            }
            Ok(state.store.update_demand(&dm, Some(text), None, change).await?)
        }
        (None, Some(category)) => {
            if !manage {
                return Err(ApiError::Forbidden);
            }
            if dm.request_id.is_some() {
                return Err(ApiError::Conflict("已转为诉求工单 / already a service request".into()));
            }
            let visit = state.store.visit(dm.visit_id).await?;
            let body = TakeIn {
                category_id: category,
                description: dm.text.clone(),
                channel: None,
                household_id: visit.household_id,
                location: Some("居民接待日".into()),
                contact_name: Some(visit.name.clone()),
                contact_phone: None,
                answers: serde_json::Map::new(),
                external_no: None,
                community_id: Some(dm.community_id),
            };
            let r = take_in(&state.app, auth, &body, Some(Channel::ReceptionDay)).await?;
            Ok(state.store.update_demand(&dm, None, Some(r.id), change).await?)
        }
        (None, None) => {
            Err(ApiError::field("answer", "请填写答复，或转为诉求工单 / give the answer, or turn it into a request"))
        }
    }
}

/// `?party=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemandsQuery {
    /// One party's; property and developer accounts always see their own.
    pub party: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Demands not yet answered back to the resident, oldest first.
#[utoipa::path(get, path = "/api/v1/reception_demands", operation_id = "list_reception_demands", tag = "reception", params(DemandsQuery),
    responses((status = 200, description = "Open demands")), security(("bearer" = [])))]
pub async fn list_reception_demands(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<DemandsQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewReception, Scope::community(c))?;
    let party = own_party(&auth).map(str::to_string).or(q.party.clone()).filter(|p| !p.is_empty());
    let list = state.store.open_demands(c, party.as_deref()).await?;
    Ok(Json(json!(list.iter().map(demand_json).collect::<Vec<_>>())))
}

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First Beijing date (default: a year ago).
    pub from: Option<String>,
    /// Last Beijing date, inclusive (default: today).
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Reception-day figures: sessions (regular and themed), visits, demands, the answered share and time to answer,
/// by party and theme.
#[utoipa::path(get, path = "/api/v1/reception/summary", operation_id = "get_reception_summary", tag = "reception", params(SummaryQuery),
    responses((status = 200, description = "Figures")), security(("bearer" = [])))]
pub async fn get_reception_summary(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    auth.require(Action::ViewReception, Scope::community(c))?;
    Ok(Json(summary(&state, c, q.from.as_deref(), q.to.as_deref()).await?))
}

/// The figures as JSON, shared with the figures page.
pub(crate) async fn summary(state: &AppState, c: i64, from: Option<&str>, to: Option<&str>) -> Result<Value, ApiError> {
    let today = state.clock.today();
    let to = to.filter(|s| !s.is_empty()).map(|s| parse_date("to", s)).transpose()?.unwrap_or(today);
    let from =
        from.filter(|s| !s.is_empty()).map(|s| parse_date("from", s)).transpose()?.unwrap_or(to - Duration::days(364));
    if to < from {
        return Err(ApiError::field("to", "截止日期不能早于起始日期 / not before from"));
    }
    let (kinds, visits, demands) = state.store.reception_facts(c, from, to).await?;
    let f = wujia_core::reception::figures::figures(&kinds, &visits, &demands);
    let mut v = json!(f);
    v["from"] = json!(from);
    v["to"] = json!(to);
    v["community_id"] = json!(c);
    Ok(v)
}

/// Reception days and deliberation meetings of the caller's communities as iCalendar; a resident's own bookings
/// are marked with their slot.
#[utoipa::path(get, path = "/api/v1/reception_days.ics", operation_id = "get_reception_calendar", tag = "reception",
    params(super::meetings::FeedQuery), responses((status = 200, description = "text/calendar")), security(("bearer" = [])))]
pub async fn get_reception_calendar(
    State(state): State<AppState>,
    crate::pages::MaybeAuth(auth): crate::pages::MaybeAuth,
    ApiQuery(q): ApiQuery<super::meetings::FeedQuery>,
) -> Result<axum::response::Response, ApiError> {
    use icalendar::{Calendar, Component, Event, EventLike};
    let auth = super::meetings::feed_auth(&state, auth, &q).await?;
    let mut cal = Calendar::new();
    cal.name("吾家 · 居民接待日");
    let mine: Vec<wujia_store::Booking> = match auth.actor.household {
        Some(h) => state.store.household_bookings(h).await?.into_iter().map(|(b, _)| b).collect(),
        None => Vec::new(),
    };
    for c in auth.actor.communities.clone() {
        for d in state.store.reception_days(c, None, None).await? {
            let booked = mine.iter().find(|b| b.session_id == d.id);
            let (start, end, summary) = match booked {
                Some(b) => {
                    (b.slot_start, b.slot_start + Duration::minutes(d.slot_minutes), format!("{}（我的预约）", d.title))
                }
                None => (d.starts_at, d.ends_at, d.title.clone()),
            };
            cal.push(
                Event::new()
                    .uid(&format!("reception-{}@wujia", d.id))
                    .summary(&summary)
                    .starts(start)
                    .ends(end)
                    .location(&d.place)
                    .done(),
            );
        }
        // Deliberation meetings belong to the same calendar of self-governance.
        for t in state.store.topics(c).await? {
            if let Some(at) = t.meeting_at {
                cal.push(
                    Event::new()
                        .uid(&format!("topic-{}@wujia", t.id))
                        .summary(&format!("议事会：{}", t.title))
                        .starts(at)
                        .ends(at + Duration::hours(2))
                        .done(),
                );
            }
        }
    }
    Ok(super::meetings::ics(cal.done()))
}
