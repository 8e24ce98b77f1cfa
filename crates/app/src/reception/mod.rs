//! Reception days (吾家有应): sessions, bookings by slot, the desk's queue of visits, demands answered on the spot or
//! turned into service requests, and the figures.
//!
//! Residents see the days of their community to book, and their own household's bookings; who came and what they
//! asked is seen by those who run reception days, and each party sees the demands it must answer.

mod views;

pub use views::{BookingView, DayDetail, DayView, DemandView, MyBooking, ReceptionSummary, SlotView, VisitView};

use crate::period::{PeriodQuery, beijing_time};
use crate::requests::{TakeIn, take_in};
use crate::{App, AppError, Caller, FieldIssue, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::reception::{Party, Schedule, SessionKind, visit_answered};
use wujia_core::requests::Channel;
use wujia_store::{Demand, NewReceptionDay, ReceptionDay, StoreError, Visit};

/// May the caller answer, for its own party, a demand owned by `party`? The property company and the developer
/// answer their own.
fn may_answer_for(caller: &Caller, community: i64, party: Party) -> bool {
    caller.can(Action::ViewReception, Scope::community(community)) && crate::patrol::own_party(caller) == Some(party)
}

/// A day of one of the caller's communities; any other reads as absent.
async fn visible_day(app: &App, caller: &Caller, id: i64) -> Result<ReceptionDay> {
    let d = app.store.reception_day(id).await?;
    if !caller.actor.communities.contains(&d.community_id) && caller.role() != Role::Admin {
        return Err(AppError::NotFound);
    }
    Ok(d)
}

/// A reception day to hold.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewDay {
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

/// Schedules a reception day; every problem with the form is reported at once.
pub async fn hold_day(app: &App, caller: &Caller, b: &NewDay) -> Result<DayView> {
    let c = caller.community(b.community_id)?;
    caller.require(Action::ManageReception, Scope::community(c))?;
    let mut issues = Vec::new();
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        issues.push(FieldIssue::new("title", "请填写名称（最多 100 字）/ give a title"));
    }
    let kind = SessionKind::parse(b.kind.trim());
    if kind.is_none() {
        issues.push(FieldIssue::new("kind", "应为 regular（例行）或 themed（主题）/ regular or themed"));
    }
    if kind == Some(SessionKind::Themed) && b.theme.trim().is_empty() {
        issues.push(FieldIssue::new("theme", "主题接待日须写明主题 / a themed session needs a theme"));
    }
    let parties = b.parties.clone().unwrap_or_else(|| vec!["community".into(), "property".into(), "developer".into()]);
    if parties.is_empty() || parties.iter().any(|p| Party::parse(p).is_none()) {
        issues.push(FieldIssue::new("parties", "参与方应为 community、property、developer 或 street / unknown party"));
    }
    let (Some(kind), true) = (kind, issues.is_empty()) else {
        return Err(AppError::Validation(issues));
    };
    let starts = beijing_time("starts_at", &b.starts_at)?;
    let ends = beijing_time("ends_at", &b.ends_at)?;
    let schedule = Schedule::new(starts, ends, b.slot_minutes.unwrap_or(20), b.slot_capacity.unwrap_or(3))
        .map_err(|e| AppError::refused(e, "starts_at"))?;
    let new = NewReceptionDay {
        community_id: c,
        title: title.into(),
        kind: kind.code().into(),
        theme: b.theme.trim().into(),
        place: b.place.as_deref().map(str::trim).filter(|p| !p.is_empty()).unwrap_or("社区居民接待室").into(),
        parties,
        schedule,
    };
    let change = caller.change(app.clock.now(), "reception.create", Some(c));
    let d = app.store.create_reception_day(&new, change).await?;
    DayView::at(&d, app.clock.now())
}

/// `?community_id=&upcoming=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Only days that have not ended.
    pub upcoming: Option<bool>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Reception days, newest first; residents see them to book.
pub async fn days(app: &App, caller: &Caller, q: &DaysQuery) -> Result<Vec<DayView>> {
    let c = caller.community(q.community_id)?;
    let now = app.clock.now();
    let upcoming = q.upcoming.unwrap_or(false);
    let from = upcoming.then(|| now - Duration::hours(14));
    let days = app.store.reception_days(c, from, None).await?;
    days.iter().filter(|d| !upcoming || d.ends_at > now).map(|d| DayView::at(d, now)).collect()
}

/// The slots of a day with the places each has left.
async fn slots(app: &App, d: &ReceptionDay) -> Result<(Vec<SlotView>, Vec<wujia_store::Booking>)> {
    let bookings = app.store.bookings(d.id).await?;
    let schedule =
        d.schedule().ok_or_else(|| AppError::Internal(format!("reception day {} has an unreadable schedule", d.id)))?;
    let slots = schedule
        .slots()
        .iter()
        .map(|s| {
            let taken =
                i64::try_from(bookings.iter().filter(|b| b.slot_start == s.starts_at).count()).unwrap_or(i64::MAX);
            SlotView { starts_at: s.starts_at, ends_at: s.ends_at, left: (d.slot_capacity - taken).max(0) }
        })
        .collect();
    Ok((slots, bookings))
}

/// A day with its slots, for everyone of its community to book.
pub async fn day_slots(app: &App, caller: &Caller, id: i64) -> Result<(DayView, Vec<SlotView>)> {
    let d = visible_day(app, caller, id).await?;
    let (slots, _) = slots(app, &d).await?;
    Ok((DayView::at(&d, app.clock.now())?, slots))
}

/// A reception day: its slots with places left; for those who run it its bookings and visits, for a resident her
/// household's bookings.
pub async fn day(app: &App, caller: &Caller, id: i64) -> Result<DayDetail> {
    let d = visible_day(app, caller, id).await?;
    let (slots, bookings) = slots(app, &d).await?;
    let day = DayView::at(&d, app.clock.now())?;
    let mut detail = DayDetail { day, slots, bookings: None, visits: None, my_bookings: None };
    if caller.can(Action::ViewReception, Scope::community(d.community_id)) {
        detail.bookings = Some(bookings.into_iter().map(Into::into).collect());
        detail.visits = Some(visits_of(app, caller, app.store.visits(id).await?).await?);
    } else if let Some(h) = caller.actor.household {
        detail.my_bookings = Some(bookings.into_iter().filter(|b| b.household_id == h).map(Into::into).collect());
    }
    Ok(detail)
}

async fn visits_of(app: &App, caller: &Caller, visits: Vec<Visit>) -> Result<Vec<VisitView>> {
    let mut out = Vec::with_capacity(visits.len());
    for v in visits {
        let demands = app.store.demands(v.id).await?;
        let answered = visit_answered(&demands.iter().map(Demand::answered).collect::<Vec<_>>());
        let views = demands.into_iter().map(|d| DemandView::for_caller(caller, d)).collect::<Result<_>>()?;
        out.push(VisitView::new(v, views, answered));
    }
    Ok(out)
}

/// A booking.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewBooking {
    /// The slot's start.
    pub slot: DateTime<Utc>,
    /// What it is about.
    #[serde(default)]
    pub topic: String,
    /// The household (staff booking on a resident's behalf; residents book for their own).
    pub household_id: Option<i64>,
    /// Who comes (defaults to the account's name).
    pub name: Option<String>,
}

/// A household the caller named: unknown ids and households of another community are the caller's mistake.
async fn household_in(app: &App, community: i64, household: i64) -> Result<wujia_store::HouseholdDetail> {
    let h = app.store.household(household, app.clock.today()).await.map_err(|e| match e {
        StoreError::NotFound => AppError::field("household_id", "住户不存在 / unknown household"),
        other => other.into(),
    })?;
    if h.community_id != community {
        return Err(AppError::field("household_id", "住户不在本社区 / the household is in another community"));
    }
    Ok(h)
}

/// Books a slot: a resident for her household from the portal, or staff on a resident's behalf.
pub async fn book(app: &App, caller: &Caller, id: i64, b: &NewBooking) -> Result<BookingView> {
    let d = visible_day(app, caller, id).await?;
    let staff = caller.can(Action::ManageReception, Scope::community(d.community_id));
    let household = match (staff, b.household_id, caller.actor.household) {
        (true, Some(h), _) => h,
        (_, _, Some(own)) => own,
        _ => return Err(AppError::field("household_id", "请指定住户 / choose the household")),
    };
    let h = household_in(app, d.community_id, household).await?;
    if !staff {
        caller.require(Action::TakePart, Scope::household(h.community_id, h.building_id, h.id))?;
    }
    let name = b.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| caller.user.display_name.clone());
    if b.topic.chars().count() > 200 {
        return Err(AppError::field("topic", "事由最多 200 字 / at most 200 characters"));
    }
    let change = caller.change(app.clock.now(), "reception.book", Some(d.community_id));
    Ok(app.store.book(&d, h.id, name.trim(), b.slot, b.topic.trim(), change).await?.into())
}

/// One demand as raised at the desk.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewDemand {
    /// What the resident asks.
    pub text: String,
    /// The party that must answer: `community`, `property`, `developer` or `street`.
    pub party: String,
}

/// A visit registered at the desk.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct NewVisit {
    /// The booking the resident came with.
    pub booking_id: Option<i64>,
    /// The household of a walk-in.
    pub household_id: Option<i64>,
    /// Who came (a walk-in's name).
    pub name: Option<String>,
    /// Their demands.
    #[serde(default)]
    pub demands: Vec<NewDemand>,
}

/// Registers a visit (from a booking or a walk-in) with its demands, and gives the next queue number. Every
/// problem is reported at once, each naming its row (`demands[1].party`).
pub async fn register(app: &App, caller: &Caller, id: i64, b: &NewVisit) -> Result<VisitView> {
    let d = visible_day(app, caller, id).await?;
    caller.require(Action::ManageReception, Scope::community(d.community_id))?;
    let mut issues = Vec::new();
    for (i, dm) in b.demands.iter().enumerate() {
        if dm.text.trim().is_empty() || dm.text.chars().count() > 500 {
            issues.push(FieldIssue::new(&format!("demands[{i}].text"), "请写下诉求（最多 500 字）/ write the demand"));
        }
        if Party::parse(dm.party.trim()).is_none() {
            issues.push(FieldIssue::new(&format!("demands[{i}].party"), "请选择答复方 / choose who answers"));
        }
    }
    let booking = match b.booking_id {
        Some(bid) => Some(
            app.store
                .bookings(id)
                .await?
                .into_iter()
                .find(|x| x.id == bid)
                .ok_or_else(|| AppError::field("booking_id", "不是本次接待日的预约 / not a booking of this day"))?,
        ),
        None => None,
    };
    let household = booking.as_ref().map(|x| x.household_id).or(b.household_id);
    if let Some(h) = household {
        household_in(app, d.community_id, h).await?;
    }
    let name = b.name.clone().filter(|n| !n.trim().is_empty()).or_else(|| booking.as_ref().map(|x| x.name.clone()));
    if name.is_none() {
        issues.push(FieldIssue::new("name", "请填写来访居民姓名 / name the visitor"));
    }
    let (Some(name), true) = (name, issues.is_empty()) else {
        return Err(AppError::Validation(issues));
    };
    let demands: Vec<(String, String)> =
        b.demands.iter().map(|x| (x.text.trim().to_string(), x.party.trim().to_string())).collect();
    let change = caller.change(app.clock.now(), "visit.create", Some(d.community_id));
    let v = app.store.register_visit(&d, household, name.trim(), b.booking_id, &demands, change).await?;
    Ok(visits_of(app, caller, vec![v]).await?.remove(0))
}

/// A demand's answer, or the request it becomes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DemandAnswer {
    /// The answer given back to the resident.
    pub answer: Option<String>,
    /// Turn it into a service request in this category (channel "reception day").
    pub category_id: Option<i64>,
    /// The version last read.
    pub version: i64,
}

/// Answers a demand (on the spot, or later by the party that owns it), or turns it into a service request.
pub async fn answer(app: &App, caller: &Caller, id: i64, b: &DemandAnswer) -> Result<DemandView> {
    let dm = app.store.demand(id).await?;
    let scope = Scope::community(dm.community_id);
    if !caller.can(Action::ViewReception, scope) {
        return Err(AppError::NotFound);
    }
    let manage = caller.can(Action::ManageReception, scope);
    let party = Party::parse(&dm.party)
        .ok_or_else(|| AppError::Internal(format!("demand {id} has unknown party {:?}", dm.party)))?;
    if !manage && !may_answer_for(caller, dm.community_id, party) {
        return Err(AppError::Forbidden);
    }
    if b.version != dm.version {
        return Err(AppError::Conflict("诉求已被他人更新，请刷新 / the demand was changed by someone else".into()));
    }
    let change = caller.change(app.clock.now(), "visit.demand", Some(dm.community_id));
    let saved = match (b.answer.as_deref().map(str::trim).filter(|a| !a.is_empty()), b.category_id) {
        (Some(text), _) => {
            if text.chars().count() > 1000 {
                return Err(AppError::field("answer", "答复最多 1000 字 / at most 1000 characters"));
            }
            app.store.update_demand(&dm, Some(text), None, change).await?
        }
        (None, Some(category)) => {
            if !manage {
                return Err(AppError::Forbidden);
            }
            if dm.request_id.is_some() {
                return Err(AppError::Conflict("已转为诉求工单 / already a service request".into()));
            }
            let visit = app.store.visit(dm.visit_id).await?;
            let body = TakeIn {
                category_id: category,
                description: dm.text.clone(),
                household_id: visit.household_id,
                location: Some("居民接待日".into()),
                contact_name: Some(visit.name.clone()),
                community_id: Some(dm.community_id),
                ..TakeIn::default()
            };
            let r = take_in(app, caller, &body, Some(Channel::ReceptionDay)).await?;
            app.store.update_demand(&dm, None, Some(r.id), change).await?
        }
        (None, None) => {
            return Err(AppError::field(
                "answer",
                "请填写答复，或转为诉求工单 / give the answer, or turn it into a request",
            ));
        }
    };
    DemandView::for_caller(caller, saved)
}

/// `?party=&community_id=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemandsQuery {
    /// One party's; property and developer accounts always see their own.
    pub party: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Demands not yet answered back to the resident, oldest first.
pub async fn open_demands(app: &App, caller: &Caller, q: &DemandsQuery) -> Result<Vec<DemandView>> {
    let c = caller.community(q.community_id)?;
    caller.require(Action::ViewReception, Scope::community(c))?;
    let party = crate::patrol::party_shown(caller, q.party.as_deref())?;
    let list = app.store.open_demands(c, party.map(Party::code)).await?;
    list.into_iter().map(|d| DemandView::for_caller(caller, d)).collect()
}

/// The caller's household's bookings, with their days.
pub async fn my_bookings(app: &App, caller: &Caller) -> Result<Vec<MyBooking>> {
    let Some(h) = caller.actor.household else {
        return Ok(Vec::new());
    };
    Ok(app
        .store
        .household_bookings(h)
        .await?
        .into_iter()
        .map(|(b, d)| MyBooking {
            slot_end: b.slot_start + Duration::minutes(d.slot_minutes),
            title: d.title,
            booking: b.into(),
        })
        .collect())
}

/// Reception-day figures: sessions (regular and themed), visits, demands, the answered share and time to answer, by
/// party and theme. Counts, so those who see reception days or the community's figures see them.
pub async fn summary(app: &App, caller: &Caller, q: &PeriodQuery) -> Result<ReceptionSummary> {
    let c = caller.community(q.community_id)?;
    let scope = Scope::community(c);
    if !caller.can(Action::ViewReception, scope) {
        caller.require(Action::ViewSummary, scope)?;
    }
    let (from, to) = q.dates(app.clock.today(), 364)?;
    let (kinds, visits, demands) = app.store.reception_facts(c, from, to).await?;
    let figures = wujia_core::reception::figures::figures(&kinds, &visits, &demands);
    Ok(ReceptionSummary { figures, from, to, community_id: c })
}

/// The reception days of the caller's communities, for a calendar feed.
pub async fn calendar_days(app: &App, caller: &Caller) -> Result<Vec<ReceptionDay>> {
    let mut out = Vec::new();
    for c in &caller.actor.communities {
        out.extend(app.store.reception_days(*c, None, None).await?);
    }
    Ok(out)
}
