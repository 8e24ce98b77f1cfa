//! Working time in Beijing: weekends, public holidays and make-up working days (调休), kept as data.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// What kind of day a calendar entry declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (法定节假日), even if it falls on a weekday.
    Holiday,
    /// A make-up working day (调休上班), even if it falls on a weekend.
    Workday,
}

/// The working calendar: weekdays work, weekends rest, unless an entry says otherwise. It knows which years have
/// an arrangement; in the others it can only follow the weekend rule, and says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    years: BTreeSet<i32>,
}

impl DayKind {
    /// Stable code, as stored and in imports: `holiday` or `workday`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Holiday => "holiday",
            Self::Workday => "workday",
        }
    }

    /// Parses a code; imports also take the words of the official lists (休/放假, 班/上班).
    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim() {
            "holiday" | "休" | "假" | "放假" => Some(Self::Holiday),
            "workday" | "班" | "上班" | "调休上班" => Some(Self::Workday),
            _ => None,
        }
    }
}

/// One calendar entry: a date declared a holiday or a make-up working day, with the holiday's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    /// The Beijing date.
    pub date: NaiveDate,
    /// Holiday or make-up working day.
    pub kind: DayKind,
    /// The holiday's name, e.g. 春节; make-up days carry the name of their holiday.
    pub name: String,
}

/// One year's arrangement, as the State Council's notice for that year publishes it. Its dates may start in the
/// year before (元旦 from 30 December).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearArrangement {
    /// The year of the notice.
    pub year: i32,
    /// Its holidays (every day of each span) and make-up working days, in date order.
    pub entries: Vec<CalendarEntry>,
}

fn span(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |x| *x <= to)
}

/// The longest holiday span a notice has set (the 2020 Spring Festival, extended, ran 10 days).
pub const MAX_SPAN_DAYS: i64 = 15;

/// What is wrong with a holiday span entered by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    /// The span ends before it starts.
    #[error("to: the span ends before it starts")]
    Backwards,
    /// The span is longer than any holiday.
    #[error("to: a holiday span is at most {MAX_SPAN_DAYS} days")]
    TooLong,
    /// No name.
    #[error("name: the holiday needs a name")]
    NoName,
    /// A make-up working day inside the span.
    #[error("workdays: {0} is inside the holiday")]
    WorkdayInside(NaiveDate),
}

/// The entries of one holiday span `from..=to` named `name`, with its make-up working days.
pub fn holiday_span(
    name: &str,
    from: NaiveDate,
    to: NaiveDate,
    workdays: &[NaiveDate],
) -> Result<Vec<CalendarEntry>, SpanError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(SpanError::NoName);
    }
    if to < from {
        return Err(SpanError::Backwards);
    }
    if (to - from).num_days() >= MAX_SPAN_DAYS {
        return Err(SpanError::TooLong);
    }
    if let Some(w) = workdays.iter().find(|w| (from..=to).contains(w)) {
        return Err(SpanError::WorkdayInside(*w));
    }
    let mut out: Vec<CalendarEntry> =
        span(from, to).map(|date| CalendarEntry { date, kind: DayKind::Holiday, name: name.to_string() }).collect();
    out.extend(workdays.iter().map(|&date| CalendarEntry { date, kind: DayKind::Workday, name: name.to_string() }));
    out.sort_by_key(|e| e.date);
    out.dedup_by_key(|e| e.date);
    Ok(out)
}

/// Reads the shipped arrangements (`holidays.txt`): `[year]` headers, then one holiday span a line,
/// `名称 起始日[..结束日] [上班 日期 ...]`. The error names the line.
fn parse_arrangements(text: &str) -> Result<Vec<YearArrangement>, String> {
    let mut years: Vec<YearArrangement> = Vec::new();
    let date = |s: &str, n: usize| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("line {n}: {s} is not a YYYY-MM-DD date"))
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(y) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let year = y.parse().map_err(|_| format!("line {n}: {y} is not a year"))?;
            if years.last().is_some_and(|last| last.year >= year) {
                return Err(format!("line {n}: years must increase"));
            }
            years.push(YearArrangement { year, entries: Vec::new() });
            continue;
        }
        let current = years.last_mut().ok_or_else(|| format!("line {n}: a holiday before the first [year]"))?;
        let mut words = line.split_whitespace();
        let (Some(name), Some(range)) = (words.next(), words.next()) else {
            return Err(format!("line {n}: expected a name and a date span"));
        };
        let (from, to) = match range.split_once("..") {
            Some((a, b)) => (date(a, n)?, date(b, n)?),
            None => (date(range, n)?, date(range, n)?),
        };
        let workdays = match words.next() {
            None => Vec::new(),
            Some("上班") => words.map(|w| date(w, n)).collect::<Result<Vec<_>, _>>()?,
            Some(other) => return Err(format!("line {n}: expected 上班 before the make-up days, found {other}")),
        };
        let entries = holiday_span(name, from, to, &workdays).map_err(|e| format!("line {n}: {e}"))?;
        if let Some(e) = entries.iter().find(|e| !(current.year - 1..=current.year).contains(&e.date.year())) {
            return Err(format!("line {n}: {} is outside the notice for {}", e.date, current.year));
        }
        current.entries.extend(entries);
    }
    for y in &mut years {
        y.entries.sort_by_key(|e| e.date);
        if let Some(w) = y.entries.windows(2).find(|w| w[0].date == w[1].date) {
            return Err(format!("{}: {} is declared twice", y.year, w[0].date));
        }
    }
    Ok(years)
}

static SHIPPED: LazyLock<Vec<YearArrangement>> = LazyLock::new(|| {
    // The unit test `the_shipped_arrangements_parse` keeps this from failing at run time.
    parse_arrangements(include_str!("holidays.txt")).unwrap_or_else(|e| panic!("holidays.txt: {e}"))
});

/// The State Council's published arrangements as shipped, one per year (2004 to the newest notice). Admins add
/// later years as data.
pub fn shipped_arrangements() -> &'static [YearArrangement] {
    &SHIPPED
}

/// Every shipped entry, in date order.
pub fn default_entries() -> Vec<CalendarEntry> {
    let mut all: Vec<CalendarEntry> = SHIPPED.iter().flat_map(|y| y.entries.iter().cloned()).collect();
    all.sort_by_key(|e| e.date);
    all
}

/// What is wrong with one row of an imported list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    /// Not three columns (date, kind, name).
    Columns,
    /// The first column is not a `YYYY-MM-DD` date.
    Date,
    /// The date's year is outside what a notice can cover.
    Year,
    /// The second column is neither `holiday` nor `workday`.
    Kind,
    /// No name in the third column.
    Name,
    /// The same date appeared in an earlier row.
    Repeated {
        /// That earlier row.
        first_row: usize,
    },
}

/// A refused row of an import, numbered from 1 as the lines of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// Line number.
    pub row: usize,
    /// What is wrong.
    pub problem: RowProblem,
}

/// The most rows one import takes (a year has about 40).
pub const MAX_IMPORT_ROWS: usize = 2000;

/// Parses an imported list, one entry a line: `2027-01-01,holiday,元旦` (commas, Chinese commas or tabs; a header
/// line, blank lines and `#` comments are skipped). Every bad row is reported; any bad row refuses the whole list.
pub fn parse_entries(text: &str) -> Result<Vec<CalendarEntry>, Vec<RowIssue>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut out: Vec<(usize, CalendarEntry)> = Vec::new();
    let mut issues = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let row = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split([',', '，', '\t']).map(str::trim).collect();
        let first = cells[0].to_lowercase();
        if out.is_empty() && issues.is_empty() && (first == "date" || first == "日期") {
            continue;
        }
        let problem = |problem| RowIssue { row, problem };
        if cells.len() != 3 {
            issues.push(problem(RowProblem::Columns));
            continue;
        }
        let Ok(date) = NaiveDate::parse_from_str(cells[0], "%Y-%m-%d") else {
            issues.push(problem(RowProblem::Date));
            continue;
        };
        if !(2000..=2100).contains(&date.year()) {
            issues.push(problem(RowProblem::Year));
            continue;
        }
        let Some(kind) = DayKind::from_code(cells[1]) else {
            issues.push(problem(RowProblem::Kind));
            continue;
        };
        if cells[2].is_empty() {
            issues.push(problem(RowProblem::Name));
            continue;
        }
        if let Some((first_row, _)) = out.iter().find(|(_, e)| e.date == date) {
            issues.push(problem(RowProblem::Repeated { first_row: *first_row }));
            continue;
        }
        out.push((row, CalendarEntry { date, kind, name: cells[2].chars().take(40).collect() }));
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut entries: Vec<CalendarEntry> = out.into_iter().map(|(_, e)| e).collect();
    entries.sort_by_key(|e| e.date);
    Ok(entries)
}

/// How soon a missing arrangement matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapUrgency {
    /// This year has no arrangement: deadlines are being counted on weekends alone now.
    Urgent,
    /// It is December and next year has none yet.
    Upcoming,
}

/// A year the calendar should cover and does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarGap {
    /// The year without an arrangement.
    pub year: i32,
    /// This year (urgent) or next (upcoming).
    pub urgency: GapUrgency,
}

/// Whether the calendar lacks a year it needs on `today` (a Beijing date): this year at once; next year from
/// 1 December (the State Council publishes in October or November).
pub fn calendar_gap(today: NaiveDate, covered: &BTreeSet<i32>) -> Option<CalendarGap> {
    let year = today.year();
    if !covered.contains(&year) {
        return Some(CalendarGap { year, urgency: GapUrgency::Urgent });
    }
    if today.month() == 12 && !covered.contains(&(year + 1)) {
        return Some(CalendarGap { year: year + 1, urgency: GapUrgency::Upcoming });
    }
    None
}

/// A moment counted in working days, and the years on the way that have no arrangement (counted by the weekend
/// rule alone, so possibly wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The moment.
    pub at: DateTime<Utc>,
    /// Years between the start and the moment the calendar does not cover; empty when it is sure.
    pub unarranged_years: Vec<i32>,
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

    /// The same calendar, stating that `years` have their arrangement recorded.
    pub fn covering(mut self, years: impl IntoIterator<Item = i32>) -> Self {
        self.years.extend(years);
        self
    }

    /// The shipped calendar, covering the shipped years.
    pub fn china_default() -> Self {
        Self::new(default_entries().into_iter().map(|e| (e.date, e.kind)))
            .covering(shipped_arrangements().iter().map(|y| y.year))
    }

    /// The years whose arrangement is recorded.
    pub fn years(&self) -> &BTreeSet<i32> {
        &self.years
    }

    /// True when the date's year has its arrangement recorded, so the date's kind is known rather than assumed.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.years.contains(&date.year())
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
        self.count_working_days(start, days).at
    }

    /// Like [`add_working_days`](Self::add_working_days), and names the years crossed that have no arrangement.
    pub fn count_working_days(&self, start: DateTime<Utc>, days: u32) -> Counted {
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
        let first = local.date_naive().year();
        let unarranged_years = (first..=date.year()).filter(|y| !self.years.contains(y)).collect();
        let at = Shanghai
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .expect("Beijing has no DST gaps")
            .with_timezone(&Utc);
        Counted { at, unarranged_years }
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

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_shipped_arrangements_parse_and_cover_2004_to_2026() {
        let years: Vec<i32> = shipped_arrangements().iter().map(|y| y.year).collect();
        assert_eq!(years, (2004..=2026).collect::<Vec<_>>());
        assert!(shipped_arrangements().iter().all(|y| y.entries.len() >= 10), "every notice sets several holidays");
        let c = WorkCalendar::china_default();
        assert!(c.covers(d(2026, 2, 17)) && c.covers(d(2004, 1, 1)) && !c.covers(d(2027, 1, 1)));
        // 元旦 2008 began on 30 December 2007; the 2006 notice made Saturday 31 December 2005 a working day.
        assert!(!c.is_working_day(d(2007, 12, 31)));
        assert!(c.is_working_day(d(2005, 12, 31)));
    }

    #[test]
    fn the_2026_spring_festival_and_its_makeup_saturdays() {
        let c = WorkCalendar::china_default();
        assert!(c.is_working_day(d(2026, 2, 14))); // Saturday, make-up
        assert!((15..=23).all(|x| !c.is_working_day(d(2026, 2, x))));
        assert!(c.is_working_day(d(2026, 2, 28))); // Saturday, make-up
        assert!(!c.is_working_day(d(2026, 1, 2)) && c.is_working_day(d(2026, 1, 4)));
        // A 1-working-day limit from Friday 13 February, 16:00, falls on the make-up Saturday.
        let counted = c.count_working_days(beijing(2026, 2, 13, 16, 0), 1);
        assert_eq!(counted, Counted { at: beijing(2026, 2, 14, 16, 0), unarranged_years: vec![] });
        // Two working days: the Saturday, then the Tuesday after the holiday.
        assert_eq!(c.add_working_days(beijing(2026, 2, 13, 16, 0), 2), beijing(2026, 2, 24, 16, 0));
    }

    #[test]
    fn a_count_into_a_year_without_arrangement_says_so() {
        let c = WorkCalendar::china_default();
        let counted = c.count_working_days(beijing(2026, 12, 28, 9, 0), 7);
        assert_eq!(counted.unarranged_years, vec![2027]);
        assert_eq!(counted.at, beijing(2027, 1, 6, 9, 0)); // weekends only: 元旦 2027 is not known
        assert!(c.count_working_days(beijing(2026, 12, 1, 9, 0), 7).unarranged_years.is_empty());
        let bare = WorkCalendar::new([]);
        assert_eq!(bare.count_working_days(beijing(2026, 3, 2, 9, 0), 1).unarranged_years, vec![2026]);
    }

    #[test]
    fn gaps_this_year_at_once_and_next_year_from_december() {
        let covered: BTreeSet<i32> = (2004..=2026).collect();
        assert_eq!(calendar_gap(d(2026, 6, 15), &covered), None);
        assert_eq!(calendar_gap(d(2026, 11, 30), &covered), None);
        assert_eq!(
            calendar_gap(d(2026, 12, 1), &covered),
            Some(CalendarGap { year: 2027, urgency: GapUrgency::Upcoming })
        );
        assert_eq!(
            calendar_gap(d(2027, 1, 1), &covered),
            Some(CalendarGap { year: 2027, urgency: GapUrgency::Urgent })
        );
        let with_2027: BTreeSet<i32> = (2004..=2027).collect();
        assert_eq!(calendar_gap(d(2026, 12, 31), &with_2027), None);
        // This year missing wins over next year missing.
        assert_eq!(
            calendar_gap(d(2028, 12, 5), &with_2027),
            Some(CalendarGap { year: 2028, urgency: GapUrgency::Urgent })
        );
    }

    #[test]
    fn imports_refuse_every_bad_row_by_number() {
        let text = "日期,类型,名称\n2027-01-01,holiday,元旦\n\n2027-02-07，班，春节\n2027-13-01,holiday,x\n\
                    2027-01-02,rest,元旦\n2027-01-01,holiday,元旦\n2027-01-03,holiday\n2027-01-04,holiday,\n";
        let issues = parse_entries(text).unwrap_err();
        let problems: Vec<(usize, RowProblem)> = issues.into_iter().map(|i| (i.row, i.problem)).collect();
        assert_eq!(
            problems,
            vec![
                (5, RowProblem::Date),
                (6, RowProblem::Kind),
                (7, RowProblem::Repeated { first_row: 2 }),
                (8, RowProblem::Columns),
                (9, RowProblem::Name),
            ]
        );
        let good = parse_entries("\u{feff}2027-02-07\t上班\t春节\n2027-01-01,holiday,元旦\n").unwrap();
        assert_eq!(good[0], CalendarEntry { date: d(2027, 1, 1), kind: DayKind::Holiday, name: "元旦".into() });
        assert_eq!(good[1].kind, DayKind::Workday);
    }

    #[test]
    fn a_span_by_hand_is_checked() {
        let span = holiday_span("春节", d(2027, 2, 6), d(2027, 2, 12), &[d(2027, 2, 14)]).unwrap();
        assert_eq!(span.len(), 8);
        assert_eq!(span.last().unwrap().kind, DayKind::Workday);
        assert_eq!(holiday_span(" ", d(2027, 2, 6), d(2027, 2, 6), &[]), Err(SpanError::NoName));
        assert_eq!(holiday_span("x", d(2027, 2, 6), d(2027, 2, 5), &[]), Err(SpanError::Backwards));
        assert_eq!(holiday_span("x", d(2027, 2, 1), d(2027, 2, 20), &[]), Err(SpanError::TooLong));
        assert_eq!(
            holiday_span("x", d(2027, 2, 1), d(2027, 2, 3), &[d(2027, 2, 2)]),
            Err(SpanError::WorkdayInside(d(2027, 2, 2)))
        );
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
