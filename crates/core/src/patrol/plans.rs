//! Patrol plans and the rounds they generate: "morning 7:30 and evening 19:00, every day, weekends included".

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Serialize;

/// Part of the day a round belongs to, for the completion figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Shift {
    /// Before noon (早巡查).
    Morning,
    /// Noon to 17:59.
    Afternoon,
    /// From 18:00 (晚巡查).
    Evening,
}

impl Shift {
    /// The shift a Beijing start time falls in.
    pub fn of(start: NaiveTime) -> Self {
        match start.hour() {
            0..=11 => Self::Morning,
            12..=17 => Self::Afternoon,
            _ => Self::Evening,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Afternoon => "afternoon",
            Self::Evening => "evening",
        }
    }
}

/// Why a plan's schedule is not acceptable; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// No start times.
    #[error("times: 至少一个巡查时间 / at least one start time")]
    NoTimes,
    /// A time that is not HH:MM.
    #[error("times: {0} 不是 HH:MM 格式的时间 / is not a time like 07:30")]
    BadTime(String),
    /// No weekdays.
    #[error("weekdays: 至少选择一天 / choose at least one day")]
    NoDays,
    /// A weekday outside 1–7.
    #[error("weekdays: {0} 不在 1（周一）到 7（周日）之间 / must be 1 (Monday) to 7 (Sunday)")]
    BadDay(u8),
    /// A window that is too short or too long.
    #[error("window_minutes: 巡查时限应在 15 到 480 分钟之间 / must be 15 to 480 minutes")]
    BadWindow,
}

impl ScheduleError {
    /// The field of the plan at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::NoTimes | Self::BadTime(_) => "times",
            Self::NoDays | Self::BadDay(_) => "weekdays",
            Self::BadWindow => "window_minutes",
        }
    }

    /// What is wrong, without the field's name.
    pub fn message(&self) -> String {
        let text = self.to_string();
        text.split_once(": ").map_or(text.clone(), |(_, m)| m.to_string())
    }
}

/// When a plan's rounds start and how long each has to be finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// Start times, Beijing time, sorted.
    pub times: Vec<NaiveTime>,
    /// ISO weekdays (1 = Monday … 7 = Sunday), sorted.
    pub weekdays: Vec<u8>,
    /// Minutes after the start by which a round must be finished, or it is missed.
    pub window_minutes: u32,
}

/// One round a plan asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// The Beijing date.
    pub date: NaiveDate,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Finish by.
    pub due_at: DateTime<Utc>,
    /// Part of the day.
    pub shift: Shift,
}

impl Schedule {
    /// Reads times like `07:30` and ISO weekdays.
    pub fn parse(times: &[String], weekdays: &[u8], window_minutes: u32) -> Result<Self, ScheduleError> {
        if times.is_empty() {
            return Err(ScheduleError::NoTimes);
        }
        let mut ts = Vec::new();
        for t in times {
            let parsed = NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| ScheduleError::BadTime(t.trim().to_string()))?;
            ts.push(parsed);
        }
        ts.sort();
        ts.dedup();
        if weekdays.is_empty() {
            return Err(ScheduleError::NoDays);
        }
        if let Some(d) = weekdays.iter().find(|d| !(1..=7).contains(*d)) {
            return Err(ScheduleError::BadDay(*d));
        }
        let mut days = weekdays.to_vec();
        days.sort();
        days.dedup();
        if !(15..=480).contains(&window_minutes) {
            return Err(ScheduleError::BadWindow);
        }
        Ok(Self { times: ts, weekdays: days, window_minutes })
    }

    /// Times as `HH:MM` text, as stored.
    pub fn time_texts(&self) -> Vec<String> {
        self.times.iter().map(|t| t.format("%H:%M").to_string()).collect()
    }

    /// Every round from `from` to `to` inclusive (Beijing dates), in start order.
    pub fn occurrences(&self, from: NaiveDate, to: NaiveDate) -> Vec<Occurrence> {
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            let weekday = day.weekday().number_from_monday() as u8;
            if self.weekdays.contains(&weekday) {
                for t in &self.times {
                    // Beijing has had no daylight saving since 1991: every local time exists exactly once.
                    if let Some(start) = Shanghai.from_local_datetime(&day.and_time(*t)).single() {
                        let starts_at = start.with_timezone(&Utc);
                        out.push(Occurrence {
                            date: day,
                            starts_at,
                            due_at: starts_at + chrono::Duration::minutes(i64::from(self.window_minutes)),
                            shift: Shift::of(*t),
                        });
                    }
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        out
    }
}

/// Where a round stands, decided from its record and the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Not started yet, still within its window.
    Planned,
    /// Checked in at some checkpoints, still within its window.
    InProgress,
    /// Finished.
    Done,
    /// Not finished by its deadline.
    Missed,
}

impl RoundStatus {
    /// The status of a round with `checked` check-ins, finished at `completed`, due at `due`, seen at `now`.
    pub fn of(checked: usize, completed: Option<DateTime<Utc>>, due: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        match completed {
            Some(_) => Self::Done,
            None if now > due => Self::Missed,
            None if checked > 0 => Self::InProgress,
            None => Self::Planned,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::Missed => "missed",
        }
    }
}

/// Why a round cannot be finished or checked into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundError {
    /// The round's deadline passed.
    #[error("本轮巡查已超时 / this round is past its deadline")]
    Missed,
    /// The round was finished already.
    #[error("本轮巡查已完成 / this round is already finished")]
    Finished,
    /// Starting before the round's time is allowed only shortly before.
    #[error("本轮巡查尚未开始 / this round has not started yet")]
    NotYet,
    /// Checkpoints left.
    #[error("还有 {0} 个巡查点未打卡 / {0} checkpoints are not checked in yet")]
    CheckpointsLeft(usize),
}

/// Minutes before its start that a round may be begun, for a squad that sets out early.
pub const EARLY_MINUTES: i64 = 30;

/// May a member check in on a round now?
pub fn may_check_in(
    starts_at: DateTime<Utc>,
    due: DateTime<Utc>,
    completed: bool,
    now: DateTime<Utc>,
) -> Result<(), RoundError> {
    if completed {
        Err(RoundError::Finished)
    } else if now > due {
        Err(RoundError::Missed)
    } else if now < starts_at - chrono::Duration::minutes(EARLY_MINUTES) {
        Err(RoundError::NotYet)
    } else {
        Ok(())
    }
}

/// May a round be finished with `checked` of `total` checkpoints visited?
pub fn may_finish(
    starts_at: DateTime<Utc>,
    due: DateTime<Utc>,
    completed: bool,
    checked: usize,
    total: usize,
    now: DateTime<Utc>,
) -> Result<(), RoundError> {
    may_check_in(starts_at, due, completed, now)?;
    if checked < total { Err(RoundError::CheckpointsLeft(total - checked)) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn every_day() -> Schedule {
        Schedule::parse(&["19:00".into(), "07:30".into()], &[1, 2, 3, 4, 5, 6, 7], 120).unwrap()
    }

    #[test]
    fn morning_and_evening_every_day_weekends_included() {
        let rounds = every_day().occurrences(d(2024, 6, 1), d(2024, 6, 7));
        assert_eq!(rounds.len(), 14);
        // 2024-06-01 is a Saturday: weekends are patrolled.
        assert_eq!(rounds[0].date, d(2024, 6, 1));
        assert_eq!(rounds[0].shift, Shift::Morning);
        assert_eq!(rounds[1].shift, Shift::Evening);
        // 07:30 Beijing is 23:30 UTC the day before.
        assert_eq!(rounds[0].starts_at.to_rfc3339(), "2024-05-31T23:30:00+00:00");
        assert_eq!(rounds[0].due_at - rounds[0].starts_at, chrono::Duration::minutes(120));
    }

    #[test]
    fn a_refused_schedule_names_its_field_and_says_what_is_wrong_without_it() {
        let cases = [
            (Schedule::parse(&[], &[1], 120), "times"),
            (Schedule::parse(&["7点半".into()], &[1], 120), "times"),
            (Schedule::parse(&["07:30".into()], &[], 120), "weekdays"),
            (Schedule::parse(&["07:30".into()], &[8], 120), "weekdays"),
            (Schedule::parse(&["07:30".into()], &[1], 5), "window_minutes"),
        ];
        for (result, field) in cases {
            let e = result.unwrap_err();
            assert_eq!(e.field(), field, "{e}");
            assert!(!e.message().starts_with(field) && e.message().contains(" / "), "{}", e.message());
        }
    }

    #[test]
    fn weekdays_only_skip_the_weekend() {
        let s = Schedule::parse(&["08:00".into()], &[1, 2, 3, 4, 5], 60).unwrap();
        assert_eq!(s.occurrences(d(2024, 6, 1), d(2024, 6, 7)).len(), 5);
    }

    #[test]
    fn bad_schedules_name_the_field() {
        assert_eq!(Schedule::parse(&[], &[1], 60), Err(ScheduleError::NoTimes));
        assert_eq!(Schedule::parse(&["7点半".into()], &[1], 60), Err(ScheduleError::BadTime("7点半".into())));
        assert_eq!(Schedule::parse(&["07:30".into()], &[], 60), Err(ScheduleError::NoDays));
        assert_eq!(Schedule::parse(&["07:30".into()], &[8], 60), Err(ScheduleError::BadDay(8)));
        assert_eq!(Schedule::parse(&["07:30".into()], &[1], 5), Err(ScheduleError::BadWindow));
        assert!(ScheduleError::BadDay(8).to_string().starts_with("weekdays"));
    }

    #[test]
    fn a_round_is_missed_only_after_its_deadline() {
        let o = every_day().occurrences(d(2024, 6, 1), d(2024, 6, 1))[1];
        let before = o.due_at - chrono::Duration::minutes(1);
        let after = o.due_at + chrono::Duration::minutes(1);
        assert_eq!(RoundStatus::of(0, None, o.due_at, before), RoundStatus::Planned);
        assert_eq!(RoundStatus::of(2, None, o.due_at, before), RoundStatus::InProgress);
        assert_eq!(RoundStatus::of(0, None, o.due_at, after), RoundStatus::Missed);
        assert_eq!(RoundStatus::of(3, Some(before), o.due_at, after), RoundStatus::Done);
        assert_eq!(may_check_in(o.starts_at, o.due_at, false, after), Err(RoundError::Missed));
        assert_eq!(may_check_in(o.starts_at, o.due_at, true, before), Err(RoundError::Finished));
        assert_eq!(
            may_check_in(o.starts_at, o.due_at, false, o.starts_at - chrono::Duration::hours(2)),
            Err(RoundError::NotYet)
        );
        assert_eq!(may_finish(o.starts_at, o.due_at, false, 2, 3, before), Err(RoundError::CheckpointsLeft(1)));
        assert_eq!(may_finish(o.starts_at, o.due_at, false, 3, 3, before), Ok(()));
    }

    proptest! {
        #[test]
        fn occurrences_are_ordered_inside_the_range_and_on_chosen_days(
            days in proptest::collection::vec(1u8..=7, 1..7),
            hours in proptest::collection::vec(0u32..24, 1..4),
            start in 0i64..3000,
            len in 0i64..60,
        ) {
            let times: Vec<String> = hours.iter().map(|h| format!("{h:02}:15")).collect();
            let s = Schedule::parse(&times, &days, 90).unwrap();
            let from = d(2023, 1, 1) + chrono::Duration::days(start);
            let to = from + chrono::Duration::days(len);
            let rounds = s.occurrences(from, to);
            let mut distinct = hours.clone();
            distinct.sort();
            distinct.dedup();
            let mut wd = days.clone();
            wd.sort();
            wd.dedup();
            let expected_days = (0..=len)
                .filter(|i| wd.contains(&((from + chrono::Duration::days(*i)).weekday().number_from_monday() as u8)))
                .count();
            prop_assert_eq!(rounds.len(), expected_days * distinct.len());
            for w in rounds.windows(2) {
                prop_assert!(w[0].starts_at < w[1].starts_at);
            }
            for r in &rounds {
                prop_assert!(r.date >= from && r.date <= to);
                prop_assert!(wd.contains(&(r.date.weekday().number_from_monday() as u8)));
                prop_assert_eq!(r.starts_at.with_timezone(&Shanghai).date_naive(), r.date);
            }
        }
    }
}
