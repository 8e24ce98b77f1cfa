//! Beijing dates as callers write them, and the instants where those days begin.

use crate::{AppError, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use serde::Deserialize;

/// A Beijing date written `2024-06-03`, refused naming the field otherwise.
pub fn date(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field(field, "日期格式应为 2024-06-03 / a date like 2024-06-03"))
}

/// An optional date: absent or blank reads as none.
pub fn optional_date(field: &str, s: Option<&str>) -> Result<Option<NaiveDate>> {
    s.filter(|s| !s.trim().is_empty()).map(|s| date(field, s)).transpose()
}

/// Reads a Beijing local time like `2024-06-20T14:00` (or `2024-06-20 14:00`).
pub fn beijing_time(field: &str, s: &str) -> Result<DateTime<Utc>> {
    let s = s.trim().replace(' ', "T");
    NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| Shanghai.from_local_datetime(&t).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::field(field, "时间格式应为 2024-06-20T14:00 / a time like 2024-06-20T14:00"))
}

/// Midnight at the start of a Beijing date, in UTC.
pub fn beijing_start(d: NaiveDate) -> DateTime<Utc> {
    Shanghai
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("Beijing has no daylight saving, so every midnight exists once")
        .with_timezone(&Utc)
}

/// `?from=&to=&community_id=`: a period of Beijing dates for the figures, in one community.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First Beijing date (default: the figures' usual span before `to`: 30 days for patrols, a year for reception
    /// days).
    pub from: Option<String>,
    /// Last Beijing date, inclusive (default: today).
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

impl PeriodQuery {
    /// The first and last dates: `to` defaults to `today`, `from` to `days_before` days before `to`; `to` may not
    /// come before `from`.
    pub fn dates(&self, today: NaiveDate, days_before: i64) -> Result<(NaiveDate, NaiveDate)> {
        let to = optional_date("to", self.to.as_deref())?.unwrap_or(today);
        let from = optional_date("from", self.from.as_deref())?.unwrap_or(to - chrono::Duration::days(days_before));
        if to < from {
            return Err(AppError::field("to", "截止日期不能早于起始日期 / not before from"));
        }
        Ok((from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_beijing_day_starts_at_sixteen_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(beijing_start(d).to_rfc3339(), "2026-11-30T16:00:00+00:00");
    }

    #[test]
    fn a_malformed_date_names_its_field() {
        match date("from", "2026/12/01") {
            Err(AppError::Validation(issues)) => assert_eq!(issues[0].field, "from"),
            other => panic!("expected a field error, got {other:?}"),
        }
        assert_eq!(optional_date("to", Some("  ")).unwrap(), None);
    }

    #[test]
    fn a_period_defaults_to_its_span_ending_today_and_never_runs_backwards() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let q = PeriodQuery::default();
        assert_eq!(q.dates(today, 29).unwrap(), (NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), today));
        let backwards =
            PeriodQuery { from: Some("2026-12-02".into()), to: Some("2026-12-01".into()), community_id: None };
        assert!(matches!(backwards.dates(today, 29), Err(AppError::Validation(i)) if i[0].field == "to"));
    }
}
