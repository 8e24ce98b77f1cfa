//! Beijing dates as callers write them, and the instants where those days begin.

use crate::{AppError, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

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
}
