//! Resident requests (诉求, 接诉即办): urgency and deadlines, the workflow, and the three rates.

mod alerts;
mod calendar;
mod catalogue;
mod disclosure;
pub mod hotline;
mod public;
mod rates;
mod workflow;

pub use alerts::{DeadlineAlert, DeadlineKind, Deadlines, Stage, due_alerts};
pub use calendar::{
    CalendarEntry, CalendarGap, Counted, DayKind, GapUrgency, MAX_IMPORT_ROWS, MAX_SPAN_DAYS, RowIssue, RowProblem,
    SpanError, WorkCalendar, YearArrangement, calendar_gap, default_entries, holiday_span, parse_entries,
    shipped_arrangements,
};
pub use catalogue::{CategorySeed, HandlerKind, default_catalogue};
pub use disclosure::{Disclosure, RequestParties, contact_disclosure, may_view_request};
pub use public::{CallbackPhone, PublicReads, public_place, without_contacts};
pub use rates::{Rate, RequestFacts, Tally, ThreeRates, three_rates};
pub use workflow::{
    ActionKind, Command, Followup, RequestActor, RequestState, RuleError, Satisfaction, Solved, Status, Transition,
    available, decide,
};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How urgent a category is; it sets the default time limits (12345 practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Threatens life or property (elevator entrapment, burst pipe, gas smell): 30 minutes / 2 hours, clock time.
    Emergency,
    /// Water, power, gas and heating: 2 hours / 24 hours, clock time.
    Utilities,
    /// General requests: 1 / 7 working days.
    General,
    /// Complex requests: 1 / 15 working days.
    Complex,
}

impl Urgency {
    /// Every urgency, most urgent first.
    pub const ALL: [Urgency; 4] = [Self::Emergency, Self::Utilities, Self::General, Self::Complex];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Emergency => "emergency",
            Self::Utilities => "utilities",
            Self::General => "general",
            Self::Complex => "complex",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.code() == code)
    }

    /// The default limits for responding and resolving.
    pub fn default_sla(self) -> Sla {
        match self {
            Self::Emergency => Sla { respond: Limit::Minutes(30), resolve: Limit::Minutes(120) },
            Self::Utilities => Sla { respond: Limit::Minutes(120), resolve: Limit::Minutes(24 * 60) },
            Self::General => Sla { respond: Limit::WorkingDays(1), resolve: Limit::WorkingDays(7) },
            Self::Complex => Sla { respond: Limit::WorkingDays(1), resolve: Limit::WorkingDays(15) },
        }
    }
}

/// A time limit: clock minutes, or working days on the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "unit", content = "value")]
pub enum Limit {
    /// Clock time, nights and holidays included.
    Minutes(u32),
    /// Working days.
    WorkingDays(u32),
}

impl Limit {
    /// The deadline for something that started at `start`.
    pub fn deadline(self, calendar: &WorkCalendar, start: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Minutes(m) => start + Duration::minutes(i64::from(m)),
            Self::WorkingDays(d) => calendar.add_working_days(start, d),
        }
    }

    /// The deadline, and the years it was counted across that the calendar has no arrangement for (always none
    /// for clock time), so that the caller can say the deadline may be wrong.
    pub fn deadline_checked(self, calendar: &WorkCalendar, start: DateTime<Utc>) -> Counted {
        match self {
            Self::Minutes(m) => Counted { at: start + Duration::minutes(i64::from(m)), unarranged_years: vec![] },
            Self::WorkingDays(d) => calendar.count_working_days(start, d),
        }
    }
}

/// Response and resolution limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    /// First contact with the resident.
    pub respond: Limit,
    /// Resolution.
    pub resolve: Limit,
}

/// Where a request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The resident portal.
    Portal,
    /// A phone call to the community.
    Phone,
    /// A walk-in at the office.
    WalkIn,
    /// A WeChat group message.
    Wechat,
    /// A reception day (吾家有应).
    ReceptionDay,
    /// Found on patrol.
    Patrol,
    /// Transferred from the city's 12345 hotline.
    Hotline12345,
    /// Through the Open311 API.
    Open311,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 8] = [
        Self::Portal,
        Self::Phone,
        Self::WalkIn,
        Self::Wechat,
        Self::ReceptionDay,
        Self::Patrol,
        Self::Hotline12345,
        Self::Open311,
    ];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Portal => "portal",
            Self::Phone => "phone",
            Self::WalkIn => "walk_in",
            Self::Wechat => "wechat",
            Self::ReceptionDay => "reception_day",
            Self::Patrol => "patrol",
            Self::Hotline12345 => "hotline_12345",
            Self::Open311 => "open311",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether the phone arrives as free text from another system (GeoReport's `phone`): kept as given when it
    /// is not a number we can read, never a reason to refuse the request.
    pub fn phone_is_free_text(self) -> bool {
        self == Self::Open311
    }
}

/// A short readable request number such as `WT-2024-000123`.
pub fn request_number(community_code: &str, year: i32, seq: i64) -> String {
    format!("{community_code}-{year}-{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    #[test]
    fn emergencies_count_clock_time_and_general_requests_working_days() {
        let cal = WorkCalendar::china_default();
        // 2 a.m. on a Saturday: the burst sprinkler pipe.
        let at = Shanghai.with_ymd_and_hms(2024, 3, 2, 2, 0, 0).unwrap().with_timezone(&Utc);
        let sla = Urgency::Emergency.default_sla();
        assert_eq!(sla.respond.deadline(&cal, at) - at, Duration::minutes(30));
        assert_eq!(sla.resolve.deadline(&cal, at) - at, Duration::hours(2));
        let general = Urgency::General.default_sla().resolve.deadline(&cal, at);
        assert_eq!(general, Shanghai.with_ymd_and_hms(2024, 3, 13, 0, 0, 0).unwrap().with_timezone(&Utc));
    }

    #[test]
    fn numbers_are_short_and_readable() {
        assert_eq!(request_number("WT", 2024, 123), "WT-2024-000123");
        assert_eq!(Channel::from_code("hotline_12345"), Some(Channel::Hotline12345));
        assert_eq!(Urgency::from_code("complex"), Some(Urgency::Complex));
    }
}
