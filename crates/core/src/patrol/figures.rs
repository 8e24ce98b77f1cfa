//! The order pillar's figures: round completion by zone and shift, findings by type, zone and week, the share
//! fixed on the spot, time to rectify, recurrences, and joint-meeting actions done on time.

use super::meetings::done_on_time;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A round as the figures see it.
#[derive(Debug, Clone)]
pub struct RoundFact {
    /// Zone name.
    pub zone: String,
    /// Shift code.
    pub shift: String,
    /// Finish by.
    pub due_at: DateTime<Utc>,
    /// Finished.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A finding as the figures see it.
#[derive(Debug, Clone)]
pub struct FindingFact {
    /// Type code.
    pub kind: String,
    /// Zone name, when known.
    pub zone: Option<String>,
    /// Beijing date.
    pub date: NaiveDate,
    /// Fixed on the spot.
    pub fixed_on_spot: bool,
    /// Recurrence.
    pub recurrence: bool,
}

/// Completion of rounds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Completion {
    /// Rounds whose deadline has passed or that are done.
    pub due: u64,
    /// Done by their deadline.
    pub done: u64,
    /// Not done by their deadline.
    pub missed: u64,
    /// done / due, or `None` when nothing was due.
    pub rate: Option<f64>,
}

impl Completion {
    fn add(&mut self, r: &RoundFact, now: DateTime<Utc>) {
        match r.completed_at {
            Some(_) => {
                self.due += 1;
                self.done += 1;
            }
            None if r.due_at < now => {
                self.due += 1;
                self.missed += 1;
            }
            None => {}
        }
        self.rate = (self.due > 0).then(|| self.done as f64 / self.due as f64);
    }
}

/// The figures of a period.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PatrolFigures {
    /// All rounds.
    pub rounds: Completion,
    /// By zone, then shift.
    pub rounds_by_zone_shift: BTreeMap<String, BTreeMap<String, Completion>>,
    /// Findings in all.
    pub findings: u64,
    /// By type code.
    pub findings_by_type: BTreeMap<String, u64>,
    /// By zone name (`-` when not in a zone).
    pub findings_by_zone: BTreeMap<String, u64>,
    /// By ISO week (`2024-W23`).
    pub findings_by_week: BTreeMap<String, u64>,
    /// Fixed on the spot.
    pub fixed_on_spot: u64,
    /// Share fixed on the spot.
    pub fixed_on_spot_share: Option<f64>,
    /// Findings at a spot that had the same problem before.
    pub recurrences: u64,
    /// Cases closed in the period.
    pub cases_closed: u64,
    /// Mean days from opening to closing of those.
    pub mean_days_to_rectify: Option<f64>,
    /// Longest, in days.
    pub max_days_to_rectify: Option<f64>,
    /// Joint-meeting actions due in the period.
    pub actions_due: u64,
    /// Of those, done by their due date.
    pub actions_done_on_time: u64,
    /// The share.
    pub actions_on_time_share: Option<f64>,
}

/// Computes the figures from the period's rounds, findings, closed cases (opened, closed) and actions due in the
/// period (due, Beijing date done).
pub fn figures(
    rounds: &[RoundFact],
    findings: &[FindingFact],
    closed_cases: &[(DateTime<Utc>, DateTime<Utc>)],
    actions: &[(NaiveDate, Option<NaiveDate>)],
    now: DateTime<Utc>,
) -> PatrolFigures {
    let mut f = PatrolFigures::default();
    for r in rounds {
        f.rounds.add(r, now);
        f.rounds_by_zone_shift.entry(r.zone.clone()).or_default().entry(r.shift.clone()).or_default().add(r, now);
    }
    for x in findings {
        f.findings += 1;
        *f.findings_by_type.entry(x.kind.clone()).or_default() += 1;
        *f.findings_by_zone.entry(x.zone.clone().unwrap_or_else(|| "-".into())).or_default() += 1;
        let w = x.date.iso_week();
        *f.findings_by_week.entry(format!("{}-W{:02}", w.year(), w.week())).or_default() += 1;
        f.fixed_on_spot += u64::from(x.fixed_on_spot);
        f.recurrences += u64::from(x.recurrence);
    }
    f.fixed_on_spot_share = (f.findings > 0).then(|| f.fixed_on_spot as f64 / f.findings as f64);
    let days: Vec<f64> = closed_cases.iter().map(|(o, c)| (*c - *o).num_minutes() as f64 / 1440.0).collect();
    f.cases_closed = days.len() as u64;
    if !days.is_empty() {
        f.mean_days_to_rectify = Some(days.iter().sum::<f64>() / days.len() as f64);
        f.max_days_to_rectify = days.iter().copied().reduce(f64::max);
    }
    f.actions_due = actions.len() as u64;
    f.actions_done_on_time = actions.iter().filter(|(due, done)| done_on_time(*due, *done)).count() as u64;
    f.actions_on_time_share = (f.actions_due > 0).then(|| f.actions_done_on_time as f64 / f.actions_due as f64);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, d, h, 0, 0).unwrap()
    }

    fn round(zone: &str, shift: &str, due: DateTime<Utc>, done: Option<DateTime<Utc>>) -> RoundFact {
        RoundFact { zone: zone.into(), shift: shift.into(), due_at: due, completed_at: done }
    }

    #[test]
    fn a_week_with_one_missed_evening_round() {
        let now = t(8, 12);
        let mut rounds = Vec::new();
        for d in 1..=7 {
            rounds.push(round("一片区", "morning", t(d, 1), Some(t(d, 0))));
            let evening_done = if d == 4 { None } else { Some(t(d, 12)) };
            rounds.push(round("一片区", "evening", t(d, 13), evening_done));
        }
        // Tonight's round is not due yet and does not count.
        rounds.push(round("一片区", "evening", t(8, 13), None));
        let findings = vec![
            FindingFact {
                kind: "corridor_clutter".into(),
                zone: Some("一片区".into()),
                date: NaiveDate::from_ymd_opt(2024, 6, 3).unwrap(),
                fixed_on_spot: true,
                recurrence: false,
            },
            FindingFact {
                kind: "window_guard".into(),
                zone: Some("一片区".into()),
                date: NaiveDate::from_ymd_opt(2024, 6, 3).unwrap(),
                fixed_on_spot: false,
                recurrence: true,
            },
        ];
        let f = figures(
            &rounds,
            &findings,
            &[(t(1, 0), t(3, 12))],
            &[(NaiveDate::from_ymd_opt(2024, 6, 5).unwrap(), None)],
            now,
        );
        assert_eq!(f.rounds.due, 14);
        assert_eq!(f.rounds.missed, 1);
        let evening = &f.rounds_by_zone_shift["一片区"]["evening"];
        assert_eq!((evening.due, evening.done, evening.missed), (7, 6, 1));
        assert_eq!(f.rounds_by_zone_shift["一片区"]["morning"].rate, Some(1.0));
        assert_eq!(f.fixed_on_spot, 1);
        assert_eq!(f.fixed_on_spot_share, Some(0.5));
        assert_eq!(f.recurrences, 1);
        assert_eq!(f.findings_by_week["2024-W23"], 2);
        assert_eq!(f.mean_days_to_rectify, Some(2.5));
        assert_eq!((f.actions_due, f.actions_done_on_time), (1, 0));
        assert_eq!(f.actions_on_time_share, Some(0.0));
    }

    #[test]
    fn nothing_recorded_gives_no_rates_rather_than_zero() {
        let f = figures(&[], &[], &[], &[], t(1, 0));
        assert_eq!(f.rounds.rate, None);
        assert_eq!(f.fixed_on_spot_share, None);
        assert_eq!(f.mean_days_to_rectify, None);
    }
}
