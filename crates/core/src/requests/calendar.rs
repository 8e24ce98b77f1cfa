//! Working time in Beijing: weekends, public holidays and make-up working days (调休), kept as data.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What kind of day a calendar entry declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (法定节假日), even if it falls on a weekday.
    Holiday,
    /// A make-up working day (调休上班), even if it falls on a weekend.
    Workday,
}

/// The working calendar: weekdays work, weekends rest, unless an entry says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid calendar date")
}

fn span(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |x| *x <= to)
}

/// The State Council's published holiday arrangements, as shipped. Admins add later years as data.
pub fn default_entries() -> Vec<(NaiveDate, DayKind, &'static str)> {
    use DayKind::{Holiday as H, Workday as W};
    let mut out = Vec::new();
    let mut holiday = |from: NaiveDate, to: NaiveDate, name: &'static str| {
        out.extend(span(from, to).map(|x| (x, H, name)));
    };
    // 2024
    holiday(d(2024, 1, 1), d(2024, 1, 1), "元旦");
    holiday(d(2024, 2, 10), d(2024, 2, 17), "春节");
    holiday(d(2024, 4, 4), d(2024, 4, 6), "清明节");
    holiday(d(2024, 5, 1), d(2024, 5, 5), "劳动节");
    holiday(d(2024, 6, 10), d(2024, 6, 10), "端午节");
    holiday(d(2024, 9, 15), d(2024, 9, 17), "中秋节");
    holiday(d(2024, 10, 1), d(2024, 10, 7), "国庆节");
    // 2025
    holiday(d(2025, 1, 1), d(2025, 1, 1), "元旦");
    holiday(d(2025, 1, 28), d(2025, 2, 4), "春节");
    holiday(d(2025, 4, 4), d(2025, 4, 6), "清明节");
    holiday(d(2025, 5, 1), d(2025, 5, 5), "劳动节");
    holiday(d(2025, 5, 31), d(2025, 6, 2), "端午节");
    holiday(d(2025, 10, 1), d(2025, 10, 8), "国庆节、中秋节");
    let workdays = [
        (d(2024, 2, 4), "春节调休"),
        (d(2024, 2, 18), "春节调休"),
        (d(2024, 4, 7), "清明节调休"),
        (d(2024, 4, 28), "劳动节调休"),
        (d(2024, 5, 11), "劳动节调休"),
        (d(2024, 9, 14), "中秋节调休"),
        (d(2024, 9, 29), "国庆节调休"),
        (d(2024, 10, 12), "国庆节调休"),
        (d(2025, 1, 26), "春节调休"),
        (d(2025, 2, 8), "春节调休"),
        (d(2025, 4, 27), "劳动节调休"),
        (d(2025, 9, 28), "国庆节调休"),
        (d(2025, 10, 11), "国庆节调休"),
    ];
    out.extend(workdays.into_iter().map(|(x, name)| (x, W, name)));
    out
}

impl WorkCalendar {
    /// A calendar from entries (date, kind); a later entry for the same date wins.
    pub fn new(entries: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        let mut c = Self::default();
        for (date, kind) in entries {
            c.holidays.remove(&date);
            c.workdays.remove(&date);
            match kind {
                DayKind::Holiday => c.holidays.insert(date),
                DayKind::Workday => c.workdays.insert(date),
            };
        }
        c
    }

    /// The shipped calendar.
    pub fn china_default() -> Self {
        Self::new(default_entries().into_iter().map(|(date, kind, _)| (date, kind)))
    }

    /// True on a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The moment `days` working days after `start`, at the same Beijing time of day. A start on a rest day
    /// counts from the first working day after it, as if received at its beginning.
    pub fn add_working_days(&self, start: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let local = start.with_timezone(&Shanghai);
        let mut date = local.date_naive();
        let mut time = local.time();
        if !self.is_working_day(date) {
            while !self.is_working_day(date) {
                date += Duration::days(1);
            }
            time = chrono::NaiveTime::MIN;
        }
        let mut counted = 0;
        while counted < days {
            date += Duration::days(1);
            if self.is_working_day(date) {
                counted += 1;
            }
        }
        Shanghai
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .expect("Beijing has no DST gaps")
            .with_timezone(&Utc)
    }

    /// Working days elapsed between two moments (whole days, Beijing dates), for reports.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let (a, b) = (from.with_timezone(&Shanghai).date_naive(), to.with_timezone(&Shanghai).date_naive());
        if b <= a {
            return 0;
        }
        span(a + Duration::days(1), b).filter(|x| self.is_working_day(*x)).count() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn beijing(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Shanghai.with_ymd_and_hms(y, m, day, h, min, 0).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekends_holidays_and_makeup_days() {
        let c = WorkCalendar::china_default();
        assert!(c.is_working_day(d(2024, 2, 26))); // Monday
        assert!(!c.is_working_day(d(2024, 3, 2))); // Saturday
        assert!(!c.is_working_day(d(2024, 2, 12))); // Spring Festival, a Monday
        assert!(c.is_working_day(d(2024, 2, 18))); // make-up Sunday
        assert!(!c.is_working_day(d(2025, 10, 8)));
    }

    #[test]
    fn seven_working_days_skip_the_spring_festival() {
        let c = WorkCalendar::china_default();
        // Received Thursday 8 Feb 2024 at 10:00: Fri 9th, Sun 18th (make-up), then Mon 19th to Fri 23rd.
        let due = c.add_working_days(beijing(2024, 2, 8, 10, 0), 7);
        assert_eq!(due, beijing(2024, 2, 23, 10, 0));
    }

    #[test]
    fn a_request_on_a_rest_day_counts_from_the_next_working_day() {
        let c = WorkCalendar::china_default();
        // Saturday 2 March 2024, 15:00 counts as Monday 00:00; one working day later is Tuesday 00:00.
        assert_eq!(c.add_working_days(beijing(2024, 3, 2, 15, 0), 1), beijing(2024, 3, 5, 0, 0));
        assert_eq!(c.add_working_days(beijing(2024, 3, 2, 15, 0), 0), beijing(2024, 3, 4, 0, 0));
    }

    #[test]
    fn later_entries_override_earlier_ones() {
        let c = WorkCalendar::new([(d(2024, 3, 4), DayKind::Holiday), (d(2024, 3, 4), DayKind::Workday)]);
        assert!(c.is_working_day(d(2024, 3, 4)));
    }

    proptest! {
        #[test]
        fn deadlines_land_on_working_days_and_grow_with_the_limit(day in 0i64..700, hour in 0u32..24, n in 1u32..30) {
            let c = WorkCalendar::china_default();
            let start = beijing(2024, 1, 1, hour, 0) + Duration::days(day);
            prop_assume!(c.is_working_day(start.with_timezone(&Shanghai).date_naive()));
            let due = c.add_working_days(start, n);
            prop_assert!(c.is_working_day(due.with_timezone(&Shanghai).date_naive()));
            prop_assert!(due > start);
            prop_assert!(c.add_working_days(start, n + 1) > due);
            prop_assert_eq!(c.working_days_between(start, due), i64::from(n));
        }
    }
}
