//! What a caller is shown of reception days: the day with its slots and places left, and, for those who run it,
//! the bookings and the desk's visits with their demands.

use crate::{AppError, Caller, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use wujia_core::accounts::{Action, Scope};
use wujia_core::reception::figures::ReceptionFigures;
use wujia_core::reception::{Party, SessionKind};
use wujia_store::{Booking, Demand, ReceptionDay, Visit};

/// A reception day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Title, e.g. 第三次居民接待日.
    pub title: String,
    /// `regular` or `themed`.
    #[schema(value_type = String, example = "themed")]
    pub kind: SessionKind,
    /// The theme of a themed session.
    pub theme: String,
    /// Place.
    pub place: String,
    /// Parties receiving residents.
    #[schema(value_type = Vec<String>)]
    pub parties: Vec<Party>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Minutes per slot.
    pub slot_minutes: i64,
    /// Households per slot.
    pub slot_capacity: i64,
    /// Bookings made.
    pub bookings: i64,
    /// Visits registered.
    pub visits: i64,
    /// Slots can still be booked.
    pub open_for_booking: bool,
}

impl DayView {
    /// A day as it stands at `now`. A code the product does not know, read from the database, is a fault.
    pub fn at(d: &ReceptionDay, now: DateTime<Utc>) -> Result<Self> {
        let broken = |what: &str| AppError::Internal(format!("reception day {} has unreadable {what}", d.id));
        let kind = SessionKind::parse(&d.kind).ok_or_else(|| broken("kind"))?;
        let codes: Vec<String> = serde_json::from_str(&d.parties).map_err(|_| broken("parties"))?;
        let parties = codes.iter().map(|c| Party::parse(c).ok_or_else(|| broken("parties"))).collect::<Result<_>>()?;
        Ok(Self {
            id: d.id,
            community_id: d.community_id,
            title: d.title.clone(),
            kind,
            theme: d.theme.clone(),
            place: d.place.clone(),
            parties,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            slot_minutes: d.slot_minutes,
            slot_capacity: d.slot_capacity,
            bookings: d.bookings,
            visits: d.visits,
            open_for_booking: now < d.starts_at,
        })
    }
}

/// A slot with the places it has left.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlotView {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Households that can still book it.
    pub left: i64,
}

/// A booking.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookingView {
    /// Id.
    pub id: i64,
    /// Reception day.
    pub session_id: i64,
    /// Household.
    pub household_id: i64,
    /// Who comes.
    pub name: String,
    /// The slot's start.
    pub slot_start: DateTime<Utc>,
    /// What it is about.
    pub topic: String,
    /// The household's address.
    pub address: String,
}

impl From<Booking> for BookingView {
    fn from(b: Booking) -> Self {
        Self {
            id: b.id,
            session_id: b.session_id,
            household_id: b.household_id,
            name: b.name,
            slot_start: b.slot_start,
            topic: b.topic,
            address: b.address,
        }
    }
}

/// A demand raised at the desk, with what the caller may do about it now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DemandView {
    /// Id.
    pub id: i64,
    /// The visit it was raised at.
    pub visit_id: i64,
    /// Community.
    pub community_id: i64,
    /// What the resident asks.
    pub text: String,
    /// The party that must answer.
    #[schema(value_type = String, example = "property")]
    pub party: Party,
    /// The answer given back.
    pub answer: Option<String>,
    /// When it was answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// The service request it became.
    pub request_id: Option<i64>,
    /// That request's number.
    pub request_number: Option<String>,
    /// When that request was followed up with the resident.
    pub request_followed_up_at: Option<DateTime<Utc>>,
    /// Raised.
    pub raised_at: DateTime<Utc>,
    /// Version, to send back with an answer.
    pub version: i64,
    /// Answered back to the resident, by its own answer or its request's follow-up.
    pub answered: bool,
    /// The caller may answer it now.
    pub editable: bool,
    /// The caller may turn it into a service request now.
    pub can_request: bool,
}

impl DemandView {
    /// A demand as `caller` sees it.
    pub fn for_caller(caller: &Caller, d: Demand) -> Result<Self> {
        let party = Party::parse(&d.party)
            .ok_or_else(|| AppError::Internal(format!("demand {} has unknown party {:?}", d.id, d.party)))?;
        let answered = d.answered().is_some();
        let manage = caller.can(Action::ManageReception, Scope::community(d.community_id));
        let open = !answered && d.request_id.is_none();
        let editable = open && (manage || super::may_answer_for(caller, d.community_id, party));
        Ok(Self {
            id: d.id,
            visit_id: d.visit_id,
            community_id: d.community_id,
            text: d.text,
            party,
            answer: d.answer,
            answered_at: d.answered_at,
            request_id: d.request_id,
            request_number: d.request_number,
            request_followed_up_at: d.request_followed_up_at,
            raised_at: d.raised_at,
            version: d.version,
            answered,
            editable,
            can_request: open && manage,
        })
    }
}

/// A visit at the desk with its demands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    /// Id.
    pub id: i64,
    /// Reception day.
    pub session_id: i64,
    /// Community.
    pub community_id: i64,
    /// Household, when known.
    pub household_id: Option<i64>,
    /// Who came.
    pub name: String,
    /// The booking they came with.
    pub booking_id: Option<i64>,
    /// Queue number.
    pub queue_no: i64,
    /// Arrived.
    pub arrived_at: DateTime<Utc>,
    /// Every demand answered back.
    pub answered: bool,
    /// Demands.
    pub demands: Vec<DemandView>,
}

impl VisitView {
    /// A visit with its demands; `answered` as [`wujia_core::reception::visit_answered`] decides.
    pub fn new(v: Visit, demands: Vec<DemandView>, answered: bool) -> Self {
        Self {
            id: v.id,
            session_id: v.session_id,
            community_id: v.community_id,
            household_id: v.household_id,
            name: v.name,
            booking_id: v.booking_id,
            queue_no: v.queue_no,
            arrived_at: v.arrived_at,
            answered,
            demands,
        }
    }
}

/// A reception day with its slots; its bookings and visits for those who run it, a resident's own bookings for her.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayDetail {
    /// The day.
    #[serde(flatten)]
    pub day: DayView,
    /// Slots with places left.
    pub slots: Vec<SlotView>,
    /// Every booking, for those who run reception days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bookings: Option<Vec<BookingView>>,
    /// The desk's visits, for those who run reception days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visits: Option<Vec<VisitView>>,
    /// The caller's household's bookings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_bookings: Option<Vec<BookingView>>,
}

/// A household's booking with its day.
#[derive(Debug, Clone)]
pub struct MyBooking {
    /// The booking.
    pub booking: BookingView,
    /// The day's title.
    pub title: String,
    /// When the slot ends.
    pub slot_end: DateTime<Utc>,
}

/// Reception-day figures for a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceptionSummary {
    /// Sessions, visits, demands, the answered share and time to answer, by party and theme.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub figures: ReceptionFigures,
    /// First Beijing date.
    pub from: chrono::NaiveDate,
    /// Last Beijing date, inclusive.
    pub to: chrono::NaiveDate,
    /// Community.
    pub community_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(parties: &str) -> ReceptionDay {
        let starts = Utc.with_ymd_and_hms(2023, 6, 18, 1, 0, 0).unwrap();
        ReceptionDay {
            id: 5,
            community_id: 1,
            title: "第三次居民接待日".into(),
            kind: "themed".into(),
            theme: "供暖".into(),
            place: "社区居民接待室".into(),
            parties: parties.into(),
            starts_at: starts,
            ends_at: starts + chrono::Duration::hours(3),
            slot_minutes: 20,
            slot_capacity: 3,
            bookings: 0,
            visits: 0,
        }
    }

    #[test]
    fn a_day_takes_bookings_until_it_begins() {
        let d = day(r#"["community","property"]"#);
        let v = DayView::at(&d, d.starts_at - chrono::Duration::minutes(1)).unwrap();
        assert!(v.open_for_booking);
        assert_eq!((v.kind, v.parties), (SessionKind::Themed, vec![Party::Community, Party::Property]));
        assert!(!DayView::at(&d, d.starts_at).unwrap().open_for_booking);
    }

    #[test]
    fn a_party_the_product_does_not_know_is_a_fault_not_dropped() {
        let d = day(r#"["community","neighbours"]"#);
        match DayView::at(&d, d.starts_at) {
            Err(AppError::Internal(m)) => assert!(m.contains("reception day 5"), "{m}"),
            other => panic!("expected a fault, got {other:?}"),
        }
    }
}
