//! Reception days (吾家有应): regular and themed sessions where residents meet the community, the property
//! company and the developer face to face; bookings by slot, walk-ins, and every demand answered.

pub mod figures;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub use crate::patrol::meetings::Party;

/// Regular (monthly) or themed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// The regular monthly session.
    Regular,
    /// A session on one theme (heating, parking, enrolment …).
    Themed,
}

impl SessionKind {
    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "regular" => Some(Self::Regular),
            "themed" => Some(Self::Themed),
            _ => None,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Regular => "regular",
            Self::Themed => "themed",
        }
    }
}

/// Why a session or a booking is refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceptionError {
    /// The session ends before it starts, or runs over a day.
    #[error("ends_at: 结束时间须晚于开始时间且在同一天 / must be after the start, the same day")]
    BadTimes,
    /// Slots shorter than 5 minutes or longer than 2 hours.
    #[error("slot_minutes: 每个时段 5 到 120 分钟 / 5 to 120 minutes")]
    BadSlot,
    /// A capacity below one.
    #[error("slot_capacity: 每个时段至少接待 1 户 / at least one household per slot")]
    BadCapacity,
    /// A themed session without a theme.
    #[error("theme: 主题接待日须写明主题 / a themed session needs a theme")]
    NoTheme,
    /// A slot that is not one of the session's.
    #[error("slot: 不是本次接待日的时段 / not a slot of this session")]
    NotASlot,
    /// The slot is full.
    #[error("slot: 该时段已约满，请选择其他时段 / this slot is fully booked")]
    SlotFull,
    /// The household booked this session already.
    #[error("household_id: 本户已预约本次接待日 / this household has booked this session already")]
    AlreadyBooked,
    /// Booking a session that has begun.
    #[error("slot: 接待日已开始，请现场登记 / the session has begun; register at the desk")]
    Started,
}

/// A bookable time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
}

/// A session's times and slots, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Minutes per slot.
    pub slot_minutes: u32,
    /// Households per slot.
    pub slot_capacity: u32,
}

impl Schedule {
    /// Checks a session's times.
    pub fn new(
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        slot_minutes: u32,
        slot_capacity: u32,
    ) -> Result<Self, ReceptionError> {
        if ends_at <= starts_at || ends_at - starts_at > Duration::hours(14) {
            return Err(ReceptionError::BadTimes);
        }
        if !(5..=120).contains(&slot_minutes) {
            return Err(ReceptionError::BadSlot);
        }
        if slot_capacity == 0 {
            return Err(ReceptionError::BadCapacity);
        }
        Ok(Self { starts_at, ends_at, slot_minutes, slot_capacity })
    }

    /// The slots, back to back from the start; a last slot that would run past the end is left out.
    pub fn slots(&self) -> Vec<Slot> {
        let step = Duration::minutes(i64::from(self.slot_minutes));
        let mut out = Vec::new();
        let mut t = self.starts_at;
        while t + step <= self.ends_at {
            out.push(Slot { starts_at: t, ends_at: t + step });
            t += step;
        }
        out
    }

    /// May a household book `slot` now, given how many bookings the slot has and whether it booked already?
    pub fn may_book(
        &self,
        slot: DateTime<Utc>,
        booked_in_slot: u32,
        household_booked: bool,
        now: DateTime<Utc>,
    ) -> Result<(), ReceptionError> {
        if now >= self.starts_at {
            return Err(ReceptionError::Started);
        }
        if !self.slots().iter().any(|s| s.starts_at == slot) {
            return Err(ReceptionError::NotASlot);
        }
        if household_booked {
            return Err(ReceptionError::AlreadyBooked);
        }
        if booked_in_slot >= self.slot_capacity {
            return Err(ReceptionError::SlotFull);
        }
        Ok(())
    }
}

/// When a demand was answered back to the resident: its own answer given on the spot or later, or the follow-up
/// of the service request it became (the follow-up call is the answer reaching the resident).
pub fn answered_at(
    answer_given: Option<DateTime<Utc>>,
    request_followed_up: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    answer_given.or(request_followed_up)
}

/// A visit counts as answered only when it has demands and every one was answered back to the resident.
pub fn visit_answered(demands: &[Option<DateTime<Utc>>]) -> bool {
    !demands.is_empty() && demands.iter().all(Option::is_some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 6, 18, h, m, 0).unwrap()
    }

    #[test]
    fn slots_run_back_to_back_within_the_session() {
        let s = Schedule::new(t(1, 0), t(3, 10), 30, 2).unwrap();
        let slots = s.slots();
        assert_eq!(slots.len(), 4, "a 10-minute remainder is not a slot");
        assert_eq!(slots[3].ends_at, t(3, 0));
    }

    #[test]
    fn bad_sessions_name_the_field() {
        assert_eq!(Schedule::new(t(3, 0), t(1, 0), 30, 1), Err(ReceptionError::BadTimes));
        assert_eq!(Schedule::new(t(1, 0), t(3, 0), 3, 1), Err(ReceptionError::BadSlot));
        assert_eq!(Schedule::new(t(1, 0), t(3, 0), 30, 0), Err(ReceptionError::BadCapacity));
        assert!(ReceptionError::SlotFull.to_string().starts_with("slot:"));
    }

    #[test]
    fn double_booking_and_full_slots_are_refused() {
        let s = Schedule::new(t(1, 0), t(3, 0), 30, 2).unwrap();
        let before = t(0, 0);
        assert_eq!(s.may_book(t(1, 30), 1, false, before), Ok(()));
        assert_eq!(s.may_book(t(1, 30), 2, false, before), Err(ReceptionError::SlotFull));
        assert_eq!(s.may_book(t(1, 30), 0, true, before), Err(ReceptionError::AlreadyBooked));
        assert_eq!(s.may_book(t(1, 10), 0, false, before), Err(ReceptionError::NotASlot));
        assert_eq!(s.may_book(t(1, 30), 0, false, t(1, 0)), Err(ReceptionError::Started));
    }

    #[test]
    fn a_visit_is_answered_only_when_every_demand_is() {
        assert!(!visit_answered(&[]));
        assert!(!visit_answered(&[Some(t(1, 0)), None]));
        assert!(visit_answered(&[Some(t(1, 0)), answered_at(None, Some(t(2, 0)))]));
        assert_eq!(answered_at(Some(t(1, 0)), Some(t(2, 0))), Some(t(1, 0)));
    }
}
