//! The three rates of 接诉即办 — response, resolution, satisfaction — computed from request facts.
//!
//! Definitions (shown on the figures page):
//! - **Response rate**: of the requests whose response deadline has passed or that were answered, the share
//!   first answered by the deadline.
//! - **Resolution rate**: of the requests followed up, the share residents called solved; partly solved
//!   counts half.
//! - **Satisfaction rate**: of the requests followed up, the share whose residents were satisfied or basically
//!   satisfied.
//!
//! A rate over fewer than [`SMALL_SAMPLE`] requests is marked so that nobody ranks on noise.

use super::workflow::{Followup, Satisfaction, Solved};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Below this many requests a rate is flagged as a small sample.
pub const SMALL_SAMPLE: u64 = 30;

/// What the rates need to know about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// When it came in.
    pub received_at: DateTime<Utc>,
    /// Response deadline.
    pub respond_due: DateTime<Utc>,
    /// First contact.
    pub responded_at: Option<DateTime<Utc>>,
    /// Resolution deadline.
    pub resolve_due: DateTime<Utc>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The latest follow-up.
    pub followup: Option<Followup>,
}

/// A rate with its sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// Numerator (halves allowed for partly solved).
    pub numerator: f64,
    /// Denominator.
    pub denominator: u64,
    /// The rate in [0, 1]; `None` without any sample.
    pub value: Option<f64>,
    /// Fewer than [`SMALL_SAMPLE`] requests.
    pub small_sample: bool,
}

impl Rate {
    fn of(numerator: f64, denominator: u64) -> Self {
        Self {
            numerator,
            denominator,
            value: (denominator > 0).then(|| numerator / denominator as f64),
            small_sample: denominator < SMALL_SAMPLE,
        }
    }
}

/// The three rates and the times behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreeRates {
    /// Requests counted.
    pub requests: u64,
    /// Response rate.
    pub response: Rate,
    /// Resolution rate.
    pub resolution: Rate,
    /// Satisfaction rate.
    pub satisfaction: Rate,
    /// Mean minutes from receipt to first contact, over answered requests.
    pub mean_minutes_to_respond: Option<f64>,
    /// Mean minutes from receipt to resolution, over resolved requests.
    pub mean_minutes_to_resolve: Option<f64>,
    /// Open requests past their resolution deadline at `now`.
    pub overdue: u64,
}

/// Computes the rates over `facts` as of `now`.
pub fn three_rates<'a>(facts: impl IntoIterator<Item = &'a RequestFacts>, now: DateTime<Utc>) -> ThreeRates {
    let (mut n, mut resp_den, mut resp_num) = (0u64, 0u64, 0u64);
    let (mut followed, mut solved, mut satisfied) = (0u64, 0f64, 0u64);
    let (mut resp_minutes, mut resp_count, mut res_minutes, mut res_count, mut overdue) =
        (0f64, 0u64, 0f64, 0u64, 0u64);
    for f in facts {
        n += 1;
        match f.responded_at {
            Some(at) => {
                resp_den += 1;
                resp_num += u64::from(at <= f.respond_due);
                resp_minutes += (at - f.received_at).num_seconds() as f64 / 60.0;
                resp_count += 1;
            }
            None if now > f.respond_due => resp_den += 1,
            None => {}
        }
        match f.resolved_at {
            Some(at) => {
                res_minutes += (at - f.received_at).num_seconds() as f64 / 60.0;
                res_count += 1;
            }
            None if now > f.resolve_due => overdue += 1,
            None => {}
        }
        if let Some(fu) = f.followup {
            followed += 1;
            solved += match fu.solved {
                Solved::Solved => 1.0,
                Solved::PartlySolved => 0.5,
                Solved::NotSolved => 0.0,
            };
            satisfied += u64::from(fu.satisfaction != Satisfaction::Dissatisfied);
        }
    }
    ThreeRates {
        requests: n,
        response: Rate::of(resp_num as f64, resp_den),
        resolution: Rate::of(solved, followed),
        satisfaction: Rate::of(satisfied as f64, followed),
        mean_minutes_to_respond: (resp_count > 0).then(|| resp_minutes / resp_count as f64),
        mean_minutes_to_resolve: (res_count > 0).then(|| res_minutes / res_count as f64),
        overdue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn fact(responded: Option<i64>, resolved: Option<i64>, followup: Option<(Solved, Satisfaction)>) -> RequestFacts {
        RequestFacts {
            received_at: t(0),
            respond_due: t(2),
            responded_at: responded.map(t),
            resolve_due: t(24),
            resolved_at: resolved.map(t),
            followup: followup.map(|(solved, satisfaction)| Followup { solved, satisfaction }),
        }
    }

    #[test]
    fn rates_follow_their_definitions() {
        let facts = [
            fact(Some(1), Some(5), Some((Solved::Solved, Satisfaction::Satisfied))),
            fact(Some(3), Some(30), Some((Solved::PartlySolved, Satisfaction::BasicallySatisfied))),
            fact(Some(1), Some(10), Some((Solved::NotSolved, Satisfaction::Dissatisfied))),
            fact(None, None, None),
        ];
        let r = three_rates(&facts, t(48));
        assert_eq!(r.requests, 4);
        assert_eq!((r.response.numerator, r.response.denominator), (2.0, 4));
        assert_eq!(r.resolution.value, Some(0.5));
        assert_eq!(r.satisfaction.value, Some(2.0 / 3.0));
        assert_eq!(r.mean_minutes_to_respond, Some(100.0));
        assert_eq!(r.overdue, 1);
        assert!(r.response.small_sample);
    }

    #[test]
    fn an_unanswered_request_counts_only_once_its_deadline_passes() {
        let facts = [fact(None, None, None)];
        assert_eq!(three_rates(&facts, t(1)).response.denominator, 0);
        assert_eq!(three_rates(&facts, t(1)).response.value, None);
        assert_eq!(three_rates(&facts, t(3)).response.value, Some(0.0));
    }

    #[test]
    fn large_samples_are_not_flagged() {
        let facts: Vec<_> =
            (0..40).map(|_| fact(Some(1), Some(2), Some((Solved::Solved, Satisfaction::Satisfied)))).collect();
        let r = three_rates(&facts, t(48));
        assert!(!r.response.small_sample && !r.satisfaction.small_sample);
        assert_eq!(r.satisfaction.value, Some(1.0));
    }
}
