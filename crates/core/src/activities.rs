//! Activities (吾家有乐): targeting by tags and ages, registration with a waiting list that promotes the next
//! person with a time limit to confirm, and the integration measure — how far activities bring residents of the
//! five old communities together.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Who an activity is for: any of the tags (none = everyone), and an age range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Tag codes, any of which qualifies (e.g. `golden_wedding`, `elderly_60`).
    pub tags: Vec<String>,
    /// Youngest age.
    pub min_age: Option<u32>,
    /// Oldest age.
    pub max_age: Option<u32>,
}

/// Why a resident is outside an activity's target group.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// Too young or too old.
    #[error("resident_id: 年龄不在本活动的对象范围（{0}）内 / outside the age range ({0})")]
    Age(String),
    /// None of the tags.
    #[error("resident_id: 不属于本活动的邀请对象（{0}）/ not in the target group ({0})")]
    Tags(String),
}

impl Target {
    /// Checks a resident's tags and age against the target.
    pub fn check(&self, tags: &[String], age: u32) -> Result<(), Mismatch> {
        let range = format!(
            "{}–{}",
            self.min_age.map_or(String::new(), |a| a.to_string()),
            self.max_age.map_or(String::new(), |a| a.to_string())
        );
        if self.min_age.is_some_and(|m| age < m) || self.max_age.is_some_and(|m| age > m) {
            return Err(Mismatch::Age(range));
        }
        if !self.tags.is_empty() && !self.tags.iter().any(|t| tags.contains(t)) {
            return Err(Mismatch::Tags(self.tags.join("/")));
        }
        Ok(())
    }
}

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Has a place.
    Registered,
    /// Waiting for a place.
    Waitlisted,
    /// A place came free and was offered; it must be confirmed in time.
    Offered,
    /// Cancelled (or an offer not confirmed in time).
    Cancelled,
    /// Came and checked in.
    Attended,
}

impl RegistrationStatus {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Waitlisted => "waitlisted",
            Self::Offered => "offered",
            Self::Cancelled => "cancelled",
            Self::Attended => "attended",
        }
    }

    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        [Self::Registered, Self::Waitlisted, Self::Offered, Self::Cancelled, Self::Attended]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// Holds one of the places.
    pub fn holds_place(self) -> bool {
        matches!(self, Self::Registered | Self::Offered | Self::Attended)
    }
}

/// Why a registration step is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// Checked in already.
    #[error("code: 已签到，无需重复签到 / checked in already")]
    AlreadyCheckedIn,
    /// The code belongs to another activity.
    #[error("code: 这是其他活动的签到码 / this code is for another activity")]
    OtherActivity,
    /// Checking in without a place.
    #[error("code: 没有本活动的名额（候补或已取消）/ no place at this activity")]
    NoPlace,
    /// Registered already.
    #[error("resident_id: 已报名本活动 / registered already")]
    AlreadyRegistered,
    /// Nothing to confirm.
    #[error("status: 没有待确认的名额 / no offer to confirm")]
    NothingOffered,
    /// The offer expired.
    #[error("status: 确认时间已过，名额已让给下一位 / the offer expired")]
    OfferExpired,
    /// A rating outside 1–5, or before attending.
    #[error("stars: 参加活动后可评 1 到 5 星 / 1 to 5 stars, after attending")]
    BadRating,
}

/// The status of a new registration: a place while there is one, else the waiting list.
pub fn on_register(places_taken: u32, capacity: u32) -> RegistrationStatus {
    if places_taken < capacity { RegistrationStatus::Registered } else { RegistrationStatus::Waitlisted }
}

/// May this registration check in for `activity`?
pub fn may_check_in(
    status: RegistrationStatus,
    registration_activity: i64,
    activity: i64,
) -> Result<(), RegistrationError> {
    if registration_activity != activity {
        Err(RegistrationError::OtherActivity)
    } else if status == RegistrationStatus::Attended {
        Err(RegistrationError::AlreadyCheckedIn)
    } else if !matches!(status, RegistrationStatus::Registered | RegistrationStatus::Offered) {
        Err(RegistrationError::NoPlace)
    } else {
        Ok(())
    }
}

/// May an offered place be confirmed at `now`?
pub fn may_confirm(
    status: RegistrationStatus,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), RegistrationError> {
    if status != RegistrationStatus::Offered {
        Err(RegistrationError::NothingOffered)
    } else if until.is_some_and(|u| now > u) {
        Err(RegistrationError::OfferExpired)
    } else {
        Ok(())
    }
}

/// The mixing index of a group: the chance that two participants drawn at random came from different origin
/// communities (1 − Σ pᵢ², Gini–Simpson). 0 when all came from one; with five origins in equal shares, 0.8.
pub fn mixing_index(origins: &[String]) -> Option<f64> {
    if origins.len() < 2 {
        return None;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in origins {
        *counts.entry(o).or_default() += 1;
    }
    let n = origins.len() as f64;
    Some(1.0 - counts.values().map(|c| (*c as f64 / n).powi(2)).sum::<f64>())
}

/// One activity's attendance as the integration measure sees it: (household, origin) of everyone who came.
#[derive(Debug, Clone)]
pub struct Attendance {
    /// Activity.
    pub activity: i64,
    /// When.
    pub starts_at: DateTime<Utc>,
    /// (household, origin community) per attendee.
    pub attendees: Vec<(i64, String)>,
}

/// The integration figures of a period.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Integration {
    /// Activities held (with attendance).
    pub activities: u64,
    /// Attendees.
    pub attendees: u64,
    /// Mean mixing index over activities.
    pub mean_mixing_index: Option<f64>,
    /// Activities that brought together three or more origin communities.
    pub three_or_more_origins: u64,
    /// Their share.
    pub three_or_more_share: Option<f64>,
    /// Pairs of households of different origins that took part together for the first time in the period.
    pub new_cross_origin_ties: u64,
    /// Attendees by origin community.
    pub by_origin: BTreeMap<String, u64>,
    /// Mixing index per activity.
    pub per_activity: BTreeMap<i64, f64>,
}

/// Computes the integration figures for `period` activities, given the ties made before the period.
pub fn integration(period: &[Attendance], earlier: &[Attendance]) -> Integration {
    let ties = |list: &[Attendance]| -> BTreeSet<(i64, i64)> {
        let mut set = BTreeSet::new();
        for a in list {
            let mut hs: Vec<&(i64, String)> = a.attendees.iter().collect();
            hs.sort();
            hs.dedup_by_key(|x| x.0);
            for (i, x) in hs.iter().enumerate() {
                for y in &hs[i + 1..] {
                    if x.1 != y.1 {
                        set.insert((x.0.min(y.0), x.0.max(y.0)));
                    }
                }
            }
        }
        set
    };
    let before = ties(earlier);
    let now = ties(period);
    let mut f = Integration::default();
    let mut indices = Vec::new();
    for a in period.iter().filter(|a| !a.attendees.is_empty()) {
        f.activities += 1;
        f.attendees += a.attendees.len() as u64;
        let origins: Vec<String> = a.attendees.iter().map(|x| x.1.clone()).collect();
        for o in &origins {
            *f.by_origin.entry(o.clone()).or_default() += 1;
        }
        if let Some(m) = mixing_index(&origins) {
            indices.push(m);
            f.per_activity.insert(a.activity, m);
        }
        let distinct: BTreeSet<&String> = origins.iter().collect();
        if distinct.len() >= 3 {
            f.three_or_more_origins += 1;
        }
    }
    f.mean_mixing_index = (!indices.is_empty()).then(|| indices.iter().sum::<f64>() / indices.len() as f64);
    f.three_or_more_share = (f.activities > 0).then(|| f.three_or_more_origins as f64 / f.activities as f64);
    f.new_cross_origin_ties = now.difference(&before).count() as u64;
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_target_group_is_checked_with_a_reason() {
        let couples = Target { tags: s(&["golden_wedding"]), min_age: None, max_age: None };
        assert_eq!(couples.check(&s(&["golden_wedding", "elderly_60"]), 78), Ok(()));
        assert!(matches!(couples.check(&s(&["elderly_60"]), 78), Err(Mismatch::Tags(_))));
        let kids = Target { tags: vec![], min_age: Some(6), max_age: Some(12) };
        assert!(matches!(kids.check(&[], 13), Err(Mismatch::Age(_))));
        assert!(Mismatch::Age("6–12".into()).to_string().starts_with("resident_id:"));
    }

    #[test]
    fn registrations_wait_when_full_and_check_in_once() {
        assert_eq!(on_register(9, 10), RegistrationStatus::Registered);
        assert_eq!(on_register(10, 10), RegistrationStatus::Waitlisted);
        assert_eq!(may_check_in(RegistrationStatus::Registered, 1, 1), Ok(()));
        assert_eq!(may_check_in(RegistrationStatus::Attended, 1, 1), Err(RegistrationError::AlreadyCheckedIn));
        assert_eq!(may_check_in(RegistrationStatus::Registered, 1, 2), Err(RegistrationError::OtherActivity));
        assert_eq!(may_check_in(RegistrationStatus::Waitlisted, 1, 1), Err(RegistrationError::NoPlace));
        let now = Utc.with_ymd_and_hms(2023, 10, 20, 2, 0, 0).unwrap();
        assert_eq!(may_confirm(RegistrationStatus::Offered, Some(now), now), Ok(()));
        assert_eq!(
            may_confirm(RegistrationStatus::Offered, Some(now), now + chrono::Duration::seconds(1)),
            Err(RegistrationError::OfferExpired)
        );
        assert_eq!(may_confirm(RegistrationStatus::Registered, None, now), Err(RegistrationError::NothingOffered));
    }

    #[test]
    fn mixing_is_zero_for_one_origin_and_four_fifths_for_five_equal_ones() {
        assert_eq!(mixing_index(&s(&["甲", "甲", "甲"])), Some(0.0));
        let five = s(&["甲", "乙", "丙", "丁", "戊"]);
        assert!((mixing_index(&five).unwrap() - 0.8).abs() < 1e-9);
        assert_eq!(mixing_index(&s(&["甲"])), None);
    }

    #[test]
    fn new_ties_are_cross_origin_pairs_not_seen_before() {
        let t = Utc.with_ymd_and_hms(2023, 10, 20, 2, 0, 0).unwrap();
        let earlier =
            vec![Attendance { activity: 1, starts_at: t, attendees: vec![(1, "甲".into()), (2, "乙".into())] }];
        let period = vec![Attendance {
            activity: 2,
            starts_at: t,
            attendees: vec![(1, "甲".into()), (2, "乙".into()), (3, "丙".into()), (4, "甲".into())],
        }];
        let f = integration(&period, &earlier);
        // Pairs across origins: 1-2 (old), 1-3, 2-3, 2-4, 3-4; 1-4 share an origin.
        assert_eq!(f.new_cross_origin_ties, 4);
        assert_eq!(f.three_or_more_origins, 1);
        assert_eq!(f.by_origin["甲"], 2);
    }

    proptest! {
        #[test]
        fn the_mixing_index_lies_between_zero_and_one_minus_one_over_origins(origins in proptest::collection::vec(0usize..5, 2..80)) {
            let names = ["甲", "乙", "丙", "丁", "戊"];
            let list: Vec<String> = origins.iter().map(|i| names[*i].to_string()).collect();
            let distinct = origins.iter().collect::<BTreeSet<_>>().len() as f64;
            let m = mixing_index(&list).unwrap();
            prop_assert!(m >= 0.0 && m <= 1.0 - 1.0 / distinct + 1e-9);
        }
    }
}
