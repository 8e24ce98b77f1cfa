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

/// The additive parts of the rates: tallies of single requests add up over days, buildings or months, and the sum
/// gives the same rates as the requests themselves. The store keeps them per day so that a year's figures read a
/// few thousand tallies rather than every request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Requests.
    pub requests: u64,
    /// Answered (first contact made).
    pub responded: u64,
    /// Answered by the response deadline.
    pub responded_on_time: u64,
    /// Seconds from receipt to first contact, summed over answered requests.
    pub resp_seconds: i64,
    /// Resolved.
    pub resolved: u64,
    /// Seconds from receipt to resolution, summed over resolved requests.
    pub res_seconds: i64,
    /// Followed up.
    pub followed: u64,
    /// Followed up as solved, in halves (partly solved counts one half).
    pub solved_halves: u64,
    /// Followed up as satisfied or basically satisfied.
    pub satisfied: u64,
    /// Not answered and past the response deadline at the moment of reading.
    pub unanswered_past_due: u64,
    /// Not resolved and past the resolution deadline at the moment of reading.
    pub overdue: u64,
}

impl Tally {
    /// Adds one request as of `now`.
    pub fn add(&mut self, f: &RequestFacts, now: DateTime<Utc>) {
        self.requests += 1;
        match f.responded_at {
            Some(at) => {
                self.responded += 1;
                self.responded_on_time += u64::from(at <= f.respond_due);
                self.resp_seconds += (at - f.received_at).num_seconds();
            }
            None => self.unanswered_past_due += u64::from(now > f.respond_due),
        }
        match f.resolved_at {
            Some(at) => {
                self.resolved += 1;
                self.res_seconds += (at - f.received_at).num_seconds();
            }
            None => self.overdue += u64::from(now > f.resolve_due),
        }
        if let Some(fu) = f.followup {
            self.followed += 1;
            self.solved_halves += match fu.solved {
                Solved::Solved => 2,
                Solved::PartlySolved => 1,
                Solved::NotSolved => 0,
            };
            self.satisfied += u64::from(fu.satisfaction != Satisfaction::Dissatisfied);
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, o: &Tally) {
        self.requests += o.requests;
        self.responded += o.responded;
        self.responded_on_time += o.responded_on_time;
        self.resp_seconds += o.resp_seconds;
        self.resolved += o.resolved;
        self.res_seconds += o.res_seconds;
        self.followed += o.followed;
        self.solved_halves += o.solved_halves;
        self.satisfied += o.satisfied;
        self.unanswered_past_due += o.unanswered_past_due;
        self.overdue += o.overdue;
    }

    /// The rates these requests make.
    pub fn rates(&self) -> ThreeRates {
        let mean = |seconds: i64, n: u64| (n > 0).then(|| seconds as f64 / 60.0 / n as f64);
        ThreeRates {
            requests: self.requests,
            response: Rate::of(self.responded_on_time as f64, self.responded + self.unanswered_past_due),
            resolution: Rate::of(self.solved_halves as f64 / 2.0, self.followed),
            satisfaction: Rate::of(self.satisfied as f64, self.followed),
            mean_minutes_to_respond: mean(self.resp_seconds, self.responded),
            mean_minutes_to_resolve: mean(self.res_seconds, self.resolved),
            overdue: self.overdue,
        }
    }
}

/// Computes the rates over `facts` as of `now`.
pub fn three_rates<'a>(facts: impl IntoIterator<Item = &'a RequestFacts>, now: DateTime<Utc>) -> ThreeRates {
    let mut t = Tally::default();
    for f in facts {
        t.add(f, now);
    }
    t.rates()
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

    proptest::proptest! {
        /// Tallies summed in any grouping give the rates of all the requests together.
        #[test]
        fn tallies_add_up_to_the_rates_of_the_whole(
            spec in proptest::collection::vec((proptest::option::of(0i64..6), proptest::option::of(0i64..40), 0u8..10, 0usize..4), 0..60),
            now in 0i64..50,
        ) {
            let facts: Vec<RequestFacts> = spec
                .iter()
                .map(|(resp, res, fu, _)| {
                    let followup = match fu {
                        0 => Some((Solved::Solved, Satisfaction::Satisfied)),
                        1 => Some((Solved::PartlySolved, Satisfaction::BasicallySatisfied)),
                        2 => Some((Solved::NotSolved, Satisfaction::Dissatisfied)),
                        _ => None,
                    };
                    fact(*resp, *res, followup)
                })
                .collect();
            let whole = three_rates(&facts, t(now));
            let mut groups = [Tally::default(); 4];
            for (f, (_, _, _, g)) in facts.iter().zip(&spec) {
                groups[*g].add(f, t(now));
            }
            let mut sum = Tally::default();
            for g in &groups {
                sum.merge(g);
            }
            proptest::prop_assert_eq!(sum.rates(), whole);
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
