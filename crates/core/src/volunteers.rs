//! The volunteer team (吾家有治 and others): applications, shifts with sign-up, hours from check-in and check-out
//! or self-reported and approved, no-shows, and points for the recognition board.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a volunteer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Applied from their account (or registered by staff), not yet approved.
    Applied,
    /// On the team.
    Approved,
    /// Not accepted.
    Rejected,
}

impl Status {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "applied" => Some(Self::Applied),
            "approved" => Some(Self::Approved),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// The kinds of shift volunteers sign up for.
pub const SHIFT_KINDS: [&str; 4] = ["patrol", "reception", "activity", "other"];

/// Why a volunteer action is refused; each names its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolunteerError {
    /// Deciding an application twice.
    #[error("status: 申请已处理 / the application was decided already")]
    Decided,
    /// Not an approved volunteer.
    #[error("volunteer_id: 尚未成为志愿者 / not an approved volunteer")]
    NotApproved,
    /// The shift is full.
    #[error("shift_id: 该班次已满 / this shift is full")]
    Full,
    /// Signed up already.
    #[error("shift_id: 已报名该班次 / signed up already")]
    AlreadySignedUp,
    /// Hours for a shift the volunteer did not sign up for.
    #[error("shift_id: 未报名该班次，不能登记时长 / not signed up for this shift")]
    NotSignedUp,
    /// Hours for a shift that has not ended.
    #[error("shift_id: 班次结束后才能登记时长 / the shift has not ended")]
    NotEnded,
    /// More hours than the shift lasted, or none.
    #[error("minutes: 时长须大于 0 且不超过班次时长 / more than zero and at most the shift's length")]
    BadMinutes,
    /// Check-out before check-in.
    #[error("checked_out_at: 须先签到 / check in first")]
    NotCheckedIn,
    /// A shift that ends before it starts.
    #[error("ends_at: 结束时间须晚于开始时间 / must be after the start")]
    BadTimes,
    /// An unknown shift kind.
    #[error("kind: 班次类型应为巡查、接待日、活动或其他 / patrol, reception, activity or other")]
    BadKind,
}

/// May a volunteer sign up for a shift?
pub fn may_sign_up(status: Status, signed_up: bool, taken: u32, capacity: u32) -> Result<(), VolunteerError> {
    if status != Status::Approved {
        Err(VolunteerError::NotApproved)
    } else if signed_up {
        Err(VolunteerError::AlreadySignedUp)
    } else if taken >= capacity {
        Err(VolunteerError::Full)
    } else {
        Ok(())
    }
}

/// May a volunteer report `minutes` for a shift from `starts` to `ends`, at `now`?
pub fn may_report(
    signed_up: bool,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    minutes: i64,
    now: DateTime<Utc>,
) -> Result<(), VolunteerError> {
    if !signed_up {
        Err(VolunteerError::NotSignedUp)
    } else if now < ends {
        Err(VolunteerError::NotEnded)
    } else if minutes <= 0 || minutes > (ends - starts).num_minutes() {
        Err(VolunteerError::BadMinutes)
    } else {
        Ok(())
    }
}

/// Minutes served from a check-in and check-out, capped at the shift's length plus an hour.
pub fn served_minutes(
    checked_in: DateTime<Utc>,
    checked_out: DateTime<Utc>,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> Result<i64, VolunteerError> {
    if checked_out < checked_in {
        return Err(VolunteerError::NotCheckedIn);
    }
    Ok((checked_out - checked_in).num_minutes().min((ends - starts).num_minutes() + 60))
}

/// Points for the recognition board: ten per hour served, counted in whole quarter hours.
pub fn points(minutes: i64) -> i64 {
    (minutes.max(0) / 15) * 10 / 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 2, 26, h, 0, 0).unwrap()
    }

    #[test]
    fn only_approved_volunteers_sign_up_once_within_capacity() {
        assert_eq!(may_sign_up(Status::Applied, false, 0, 5), Err(VolunteerError::NotApproved));
        assert_eq!(may_sign_up(Status::Approved, true, 0, 5), Err(VolunteerError::AlreadySignedUp));
        assert_eq!(may_sign_up(Status::Approved, false, 5, 5), Err(VolunteerError::Full));
        assert_eq!(may_sign_up(Status::Approved, false, 4, 5), Ok(()));
    }

    #[test]
    fn hours_need_a_sign_up_an_ended_shift_and_a_sensible_length() {
        assert_eq!(may_report(false, t(1), t(3), 60, t(4)), Err(VolunteerError::NotSignedUp));
        assert_eq!(may_report(true, t(1), t(3), 60, t(2)), Err(VolunteerError::NotEnded));
        assert_eq!(may_report(true, t(1), t(3), 121, t(4)), Err(VolunteerError::BadMinutes));
        assert_eq!(may_report(true, t(1), t(3), 120, t(4)), Ok(()));
        assert!(VolunteerError::NotSignedUp.to_string().starts_with("shift_id:"));
    }

    #[test]
    fn served_time_and_points() {
        assert_eq!(served_minutes(t(1), t(3), t(1), t(3)), Ok(120));
        assert_eq!(served_minutes(t(1), t(9), t(1), t(3)), Ok(180), "capped at the shift plus an hour");
        assert_eq!(served_minutes(t(3), t(1), t(1), t(3)), Err(VolunteerError::NotCheckedIn));
        assert_eq!(points(120), 20);
        assert_eq!(points(50), 7);
        assert_eq!(points(-5), 0);
    }
}
