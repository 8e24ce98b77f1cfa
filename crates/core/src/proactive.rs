//! Acting before the complaint (未诉先办): detecting, from the requests on record, what is about to become a
//! complaint — the same problem recurring in one building, a category rising above its usual level, a seasonal
//! pattern coming round again, a household calling again and again — and a synthetic history with planted patterns
//! to measure the detector by.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// A request as the detector sees it.
#[derive(Debug, Clone)]
pub struct Signal {
    /// Received.
    pub at: DateTime<Utc>,
    /// Category code; its first two levels name the kind of problem.
    pub category: String,
    /// Building, when known.
    pub building: Option<i64>,
    /// Household, when known.
    pub household: Option<i64>,
}

/// What kind of pattern a detection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// The same problem (leaf category) in one building more often in 21 days than chance explains.
    Recurring,
    /// A kind of problem this week far above its usual weekly level (beyond chance).
    Rising,
    /// A kind of problem that rose in this month last year: act before it comes round.
    Seasonal,
    /// One household calling three times in 30 days.
    RepeatCaller,
}

/// A detection: what, where, when first seen, and the evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// The pattern.
    pub pattern: Pattern,
    /// The kind of problem (two-level category) or the household, as text.
    pub key: String,
    /// The building, for recurrences.
    pub building: Option<i64>,
    /// When the detector first saw it.
    pub at: DateTime<Utc>,
    /// Numbers behind it, for the person who decides.
    pub evidence: String,
}

/// How unlikely a count at least this high is by chance, for a Poisson count with mean `lambda`.
pub fn poisson_tail(n: u32, lambda: f64) -> f64 {
    let mut term = (-lambda).exp();
    let mut below = 0.0;
    for k in 0..n {
        below += term;
        term *= lambda / f64::from(k + 1);
    }
    (1.0 - below).max(0.0)
}

/// Chance below which a count is taken as a pattern rather than noise.
pub const SIGNIFICANCE: f64 = 1e-4;

fn kind_of(category: &str) -> String {
    category.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Runs the detector over signals in time order, as if day by day; each pattern and key is reported once, when
/// first seen.
pub fn detect(signals: &[Signal]) -> Vec<Detection> {
    let mut sorted: Vec<&Signal> = signals.iter().collect();
    sorted.sort_by_key(|s| s.at);
    let mut seen: BTreeSet<(Pattern, String, Option<i64>)> = BTreeSet::new();
    let mut out = Vec::new();
    let mut report = |d: Detection, out: &mut Vec<Detection>| {
        if seen.insert((d.pattern, d.key.clone(), d.building)) {
            out.push(d);
        }
    };
    // Weekly counts per kind, for the rising and seasonal rules.
    let week =
        |t: DateTime<Utc>| (t - Utc.with_ymd_and_hms(2000, 1, 3, 0, 0, 0).single().unwrap_or_default()).num_weeks();
    let mut weekly: BTreeMap<(String, i64), u32> = BTreeMap::new();
    let mut monthly: BTreeMap<(String, i32, u32), u32> = BTreeMap::new();
    // Sliding windows kept as queues so the detector stays linear in the number of requests: per building and
    // problem (21 days), per problem (90 days), per household (30 days).
    let mut per_building: HashMap<(i64, &str), VecDeque<DateTime<Utc>>> = HashMap::new();
    let mut per_category: HashMap<&str, VecDeque<DateTime<Utc>>> = HashMap::new();
    let mut per_household: HashMap<i64, VecDeque<DateTime<Utc>>> = HashMap::new();
    let mut buildings: BTreeSet<i64> = BTreeSet::new();
    let slide = |q: &mut VecDeque<DateTime<Utc>>, now: DateTime<Utc>, days: i64| {
        q.push_back(now);
        while q.front().is_some_and(|t| now - *t > Duration::days(days)) {
            q.pop_front();
        }
        q.len()
    };
    for s in &sorted {
        let kind = kind_of(&s.category);
        let recent = slide(per_category.entry(s.category.as_str()).or_default(), s.at, 90);
        if let Some(b) = s.building {
            buildings.insert(b);
            let n = slide(per_building.entry((b, s.category.as_str())).or_default(), s.at, 21);
            if n >= 3 {
                // What one building would see in 21 days if this problem were spread evenly, from the last 90 days.
                let lambda = (recent as f64 * 21.0 / 90.0 / buildings.len().max(1) as f64).max(0.05);
                let p = poisson_tail(n as u32, lambda);
                if p < SIGNIFICANCE {
                    report(
                        Detection {
                            pattern: Pattern::Recurring,
                            key: s.category.clone(),
                            building: Some(b),
                            at: s.at,
                            evidence: format!("{n} 次/21 天，按常态约 {lambda:.2} 次"),
                        },
                        &mut out,
                    );
                }
            }
        }
        if let Some(h) = s.household {
            let n = slide(per_household.entry(h).or_default(), s.at, 30);
            if n >= 3 {
                report(
                    Detection {
                        pattern: Pattern::RepeatCaller,
                        key: format!("household:{h}"),
                        building: s.building,
                        at: s.at,
                        evidence: format!("{n} 次/30 天"),
                    },
                    &mut out,
                );
            }
        }
        let w = week(s.at);
        let count = {
            let c = weekly.entry((kind.clone(), w)).or_default();
            *c += 1;
            *c
        };
        let history: Vec<f64> =
            (1..=8).map(|k| f64::from(weekly.get(&(kind.clone(), w - k)).copied().unwrap_or(0))).collect();
        let mean = history.iter().sum::<f64>() / 8.0;
        let sd = (history.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 8.0).sqrt();
        // Only with eight weeks of history behind it can a week be called unusual.
        let settled = sorted.first().is_some_and(|first| s.at - first.at >= Duration::weeks(8));
        if settled
            && count >= 6
            && poisson_tail(count, mean.max(1.0)) < SIGNIFICANCE
            && f64::from(count) > mean + 3.0 * sd.max(1.0)
        {
            report(
                Detection {
                    pattern: Pattern::Rising,
                    key: format!("{kind}@{w}"),
                    building: None,
                    at: s.at,
                    evidence: format!("本周 {count} 件，前 8 周平均 {mean:.1}"),
                },
                &mut out,
            );
        }
        let local = s.at.with_timezone(&chrono_tz::Asia::Shanghai);
        *monthly.entry((kind.clone(), local.year(), local.month())).or_default() += 1;
    }
    // Seasonal: a month last year that stood far above that kind's monthly mean is announced on the first of the
    // same month this year.
    let kinds: BTreeSet<String> = monthly.keys().map(|k| k.0.clone()).collect();
    let last = sorted.last().map(|s| s.at);
    // Months with no request of a kind count as zero: the mean is over the whole span.
    let span = match (sorted.first(), sorted.last()) {
        (Some(a), Some(b)) => ((b.at - a.at).num_days() as f64 / 30.4).max(1.0),
        _ => 1.0,
    };
    for kind in kinds {
        let months: Vec<((i32, u32), u32)> =
            monthly.iter().filter(|(k, _)| k.0 == kind).map(|(k, v)| ((k.1, k.2), *v)).collect();
        let mean = months.iter().map(|m| f64::from(m.1)).sum::<f64>() / span;
        for ((y, m), n) in &months {
            if f64::from(*n) >= (mean * 2.5).max(8.0) {
                let Some(day) = NaiveDate::from_ymd_opt(y + 1, *m, 1) else { continue };
                let Some(at) = chrono_tz::Asia::Shanghai
                    .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
                    .single()
                else {
                    continue;
                };
                let at = at.with_timezone(&Utc);
                if last.is_some_and(|l| at <= l) {
                    report(
                        Detection {
                            pattern: Pattern::Seasonal,
                            key: format!("{kind}@{m}"),
                            building: None,
                            at,
                            evidence: format!("去年{m}月 {n} 件，月均 {mean:.1}"),
                        },
                        &mut out,
                    );
                }
            }
        }
    }
    out.sort_by_key(|d| d.at);
    out
}

/// What a detection asks staff to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// A proactive task: go and look before the next call (a building's recurring problem, a household that keeps
    /// calling).
    Task,
    /// A "topic of the month" (每月一题): a community-wide problem worth a month's concerted work.
    TopicOfMonth,
}

impl ProposalKind {
    /// Stored code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::TopicOfMonth => "topic_of_month",
        }
    }
}

/// The proposal made of a detection: its kind and its title, given the subject in words (a category's name, a
/// building's name or a household's address) that the caller looked up.
pub fn propose(d: &Detection, subject: &str, place: Option<&str>) -> (ProposalKind, String) {
    match d.pattern {
        Pattern::Recurring => (
            ProposalKind::Task,
            format!("{}「{subject}」反复出现：上门排查根源，一次解决", place.unwrap_or("同一楼栋")),
        ),
        Pattern::RepeatCaller => {
            (ProposalKind::Task, format!("{}一月内多次来电：包楼社工上门走访，问清所需", place.unwrap_or(subject)))
        }
        Pattern::Rising => (ProposalKind::TopicOfMonth, format!("每月一题：「{subject}」诉求明显上升")),
        Pattern::Seasonal => {
            let month = d.key.rsplit('@').next().unwrap_or("");
            (ProposalKind::TopicOfMonth, format!("每月一题：「{subject}」去年{month}月高发，提前准备"))
        }
    }
}

/// Where a proposal stands. Accepting names who does it and by when; dismissing needs a reason; a proposal is done
/// only with its outcome written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalStatus {
    /// Waiting for a decision.
    Open,
    /// Taken on.
    Accepted,
    /// Not worth acting on, with the reason.
    Dismissed,
    /// Carried out, with the outcome.
    Done,
}

impl ProposalStatus {
    /// Stored code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Dismissed => "dismissed",
            Self::Done => "done",
        }
    }

    /// Parses a stored code.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => Self::Open,
            "accepted" => Self::Accepted,
            "dismissed" => Self::Dismissed,
            "done" => Self::Done,
            _ => return None,
        })
    }
}

/// A decision on a proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposalDecision {
    /// Take it on, with a note of what will be done.
    Accept {
        /// What will be done.
        note: String,
    },
    /// Let it go, with the reason.
    Dismiss {
        /// Why.
        reason: String,
    },
    /// Record it done, with what came of it.
    Complete {
        /// What came of it.
        outcome: String,
    },
}

/// Why a decision on a proposal was refused: the field at fault and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProposalRefused {
    /// The field at fault.
    pub field: &'static str,
    /// Bilingual message.
    pub message: &'static str,
}

/// Decides a proposal's next status, or refuses.
pub fn decide_proposal(
    status: &ProposalStatus,
    decision: &ProposalDecision,
) -> Result<ProposalStatus, ProposalRefused> {
    let refuse = |field, message| Err(ProposalRefused { field, message });
    match (status, decision) {
        (ProposalStatus::Open, ProposalDecision::Accept { note }) => {
            if note.trim().is_empty() {
                refuse("note", "请写明打算怎么做 / say what will be done")
            } else {
                Ok(ProposalStatus::Accepted)
            }
        }
        (ProposalStatus::Open, ProposalDecision::Dismiss { reason }) => {
            if reason.trim().is_empty() {
                refuse("reason", "不采纳须写明理由 / a dismissal needs its reason")
            } else {
                Ok(ProposalStatus::Dismissed)
            }
        }
        (ProposalStatus::Accepted, ProposalDecision::Complete { outcome }) => {
            if outcome.trim().is_empty() {
                refuse("outcome", "请写明结果 / write down the outcome")
            } else {
                Ok(ProposalStatus::Done)
            }
        }
        (ProposalStatus::Open, ProposalDecision::Complete { .. }) => {
            refuse("status", "先采纳，再办结 / accept the proposal before recording it done")
        }
        _ => refuse("status", "该建议已处理 / this proposal has been decided already"),
    }
}

/// A pattern planted in the synthetic history, with when it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Planted {
    /// The pattern.
    pub pattern: Pattern,
    /// Kind of problem or household key, as the detector names it (a rising week as `kind@week` is matched by kind).
    pub key: String,
    /// The building, for recurrences.
    pub building: Option<i64>,
    /// When it starts.
    pub starts: DateTime<Utc>,
}

/// Two years of ordinary requests over 36 buildings with planted patterns, seeded.
pub fn synthetic_history(seed: u64) -> (Vec<Signal>, Vec<Planted>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let kinds = [
        "property.repair",
        "property.cleaning",
        "utilities.power",
        "utilities.water",
        "neighbours.noise",
        "elderly.daily",
        "other.general",
        "education.enrolment",
    ];
    let leaves = ["a", "b", "c"];
    let start = Utc.with_ymd_and_hms(2022, 3, 1, 0, 0, 0).single().unwrap_or_default();
    let mut signals = Vec::new();
    // Background: about 4 requests a day, spread over buildings and households.
    for day in 0..730 {
        for _ in 0..rng.random_range(2..7) {
            let b = rng.random_range(1..=36);
            signals.push(Signal {
                at: start + Duration::days(day) + Duration::minutes(rng.random_range(420..1320)),
                category: format!(
                    "{}.{}",
                    kinds[rng.random_range(0..kinds.len())],
                    leaves[rng.random_range(0..leaves.len())]
                ),
                building: Some(b),
                household: Some(b * 1000 + rng.random_range(1..=63)),
            });
        }
    }
    let mut planted = Vec::new();
    // Recurring problems in one building.
    for (k, (b, day)) in [(7, 120), (19, 300), (28, 500), (3, 640)].into_iter().enumerate() {
        let kind = ["property.repair", "utilities.water", "property.cleaning", "utilities.power"][k];
        let t0 = start + Duration::days(day);
        for j in 0..4 {
            signals.push(Signal {
                at: t0 + Duration::days(j * 5) + Duration::hours(10),
                category: format!("{kind}.planted"),
                building: Some(b),
                household: Some(b * 1000 + 60 + j),
            });
        }
        planted.push(Planted {
            pattern: Pattern::Recurring,
            key: format!("{kind}.planted"),
            building: Some(b),
            starts: t0,
        });
    }
    // Repeat callers.
    for (h, day) in [(12_005, 200), (30_017, 450), (5_031, 600)] {
        let t0 = start + Duration::days(day);
        for j in 0..3 {
            signals.push(Signal {
                at: t0 + Duration::days(j * 6) + Duration::hours(9),
                category: "other.general.a".into(),
                building: Some(h / 1000),
                household: Some(h),
            });
        }
        planted.push(Planted {
            pattern: Pattern::RepeatCaller,
            key: format!("household:{h}"),
            building: None,
            starts: t0,
        });
    }
    // A surge: a burst of one kind in one week (the enrolment day).
    for (kind, day) in [("education.enrolment", 170), ("utilities.power", 410)] {
        let t0 = start + Duration::days(day);
        for j in 0..14 {
            let b = rng.random_range(1..=36);
            signals.push(Signal {
                at: t0 + Duration::hours(8 + j),
                category: format!("{kind}.surge"),
                building: Some(b),
                household: Some(b * 1000 + rng.random_range(1..=63)),
            });
        }
        planted.push(Planted { pattern: Pattern::Rising, key: kind.into(), building: None, starts: t0 });
    }
    // Heating season: many heating complaints in November of the first year, to be announced in the second.
    let nov = Utc.with_ymd_and_hms(2022, 11, 1, 0, 0, 0).single().unwrap_or_default();
    for j in 0..30 {
        let b = rng.random_range(1..=36);
        signals.push(Signal {
            at: nov + Duration::hours(j * 20),
            category: "utilities.heating.cold".into(),
            building: Some(b),
            household: Some(b * 1000 + rng.random_range(1..=63)),
        });
    }
    planted.push(Planted {
        pattern: Pattern::Seasonal,
        key: "utilities.heating@11".into(),
        building: None,
        starts: Utc.with_ymd_and_hms(2023, 10, 31, 16, 0, 0).single().unwrap_or_default(),
    });
    signals.sort_by_key(|s| s.at);
    (signals, planted)
}

/// How the detector did on a planted history.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Score {
    /// Detections.
    pub detections: usize,
    /// Detections that match a planted pattern.
    pub true_positives: usize,
    /// true positives / detections.
    pub precision: f64,
    /// Planted patterns found / planted.
    pub recall: f64,
    /// Mean days from the start of a planted pattern to its detection.
    pub mean_days_to_detection: f64,
}

/// Scores detections against the planted patterns.
pub fn score(detections: &[Detection], planted: &[Planted]) -> Score {
    let matches = |d: &Detection, p: &Planted| {
        d.pattern == p.pattern
            && match p.pattern {
                Pattern::Rising => {
                    d.key.split('@').next() == Some(p.key.as_str()) && (d.at - p.starts).num_days().abs() <= 7
                }
                Pattern::Recurring => d.key == p.key && d.building == p.building,
                _ => d.key == p.key,
            }
    };
    let tp = detections.iter().filter(|d| planted.iter().any(|p| matches(d, p))).count();
    let found: Vec<f64> = planted
        .iter()
        .filter_map(|p| {
            detections
                .iter()
                .filter(|d| matches(d, p))
                .map(|d| (d.at - p.starts).num_hours() as f64 / 24.0)
                .reduce(f64::min)
        })
        .collect();
    Score {
        detections: detections.len(),
        true_positives: tp,
        precision: if detections.is_empty() { 0.0 } else { tp as f64 / detections.len() as f64 },
        recall: if planted.is_empty() { 0.0 } else { found.len() as f64 / planted.len() as f64 },
        mean_days_to_detection: if found.is_empty() { 0.0 } else { found.iter().sum::<f64>() / found.len() as f64 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 2, 0, 0).unwrap() + Duration::days(d)
    }

    #[test]
    fn three_of_a_kind_in_a_building_within_a_month_is_a_recurrence() {
        let s =
            |d, b| Signal { at: at(d), category: "property.repair.lift".into(), building: Some(b), household: None };
        // A community of thirty buildings with other problems around.
        let mut all: Vec<Signal> = (0..30)
            .map(|b| Signal {
                at: at(b % 20),
                category: "other.general.a".into(),
                building: Some(b + 100),
                household: None,
            })
            .collect();
        all.extend([s(0, 7), s(10, 7), s(12, 8), s(18, 7)]);
        let found: Vec<Detection> = detect(&all).into_iter().filter(|d| d.pattern == Pattern::Recurring).collect();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].pattern, found[0].building, found[0].at), (Pattern::Recurring, Some(7), at(18)));
        assert!(detect(&[s(0, 7), s(10, 7), s(25, 7)]).is_empty(), "spread over more than 21 days");
    }

    #[test]
    fn a_household_calling_three_times_in_a_month_is_reported_once() {
        let s =
            |d| Signal { at: at(d), category: format!("other.general.{d}"), building: Some(1), household: Some(42) };
        let found = detect(&[s(0), s(3), s(9), s(12)]);
        assert_eq!(found.iter().filter(|d| d.pattern == Pattern::RepeatCaller).count(), 1);
    }

    #[test]
    fn a_proposal_is_accepted_with_a_plan_dismissed_with_a_reason_and_done_with_an_outcome() {
        use ProposalDecision::*;
        use ProposalStatus::*;
        let accept = Accept { note: "周三上门排查".into() };
        let dismiss = Dismiss { reason: "已列入维修计划".into() };
        let complete = Complete { outcome: "更换水泵，此后无新诉求".into() };
        assert_eq!(decide_proposal(&Open, &accept), Ok(Accepted));
        assert_eq!(decide_proposal(&Open, &dismiss), Ok(Dismissed));
        assert_eq!(decide_proposal(&Accepted, &complete), Ok(Done));
        assert_eq!(decide_proposal(&Open, &Accept { note: " ".into() }).unwrap_err().field, "note");
        assert_eq!(decide_proposal(&Open, &Dismiss { reason: String::new() }).unwrap_err().field, "reason");
        assert_eq!(decide_proposal(&Accepted, &Complete { outcome: String::new() }).unwrap_err().field, "outcome");
        assert_eq!(decide_proposal(&Open, &complete).unwrap_err().field, "status");
        for done in [Dismissed, Done] {
            for d in [&accept, &dismiss, &complete] {
                assert!(decide_proposal(&done, d).is_err(), "{done:?} is final");
            }
        }
        assert!(decide_proposal(&Accepted, &accept).is_err());
        for s in [Open, Accepted, Dismissed, Done] {
            assert_eq!(ProposalStatus::parse(s.code()), Some(s));
        }
    }

    #[test]
    fn recurrences_and_callers_become_tasks_and_surges_a_topic_of_the_month() {
        let d = |pattern, key: &str| Detection {
            pattern,
            key: key.into(),
            building: Some(7),
            at: at(0),
            evidence: String::new(),
        };
        let (kind, title) = propose(&d(Pattern::Recurring, "property.repair.lift"), "电梯故障", Some("3号院7号楼"));
        assert_eq!(kind, ProposalKind::Task);
        assert!(title.contains("3号院7号楼") && title.contains("电梯故障"), "{title}");
        assert_eq!(propose(&d(Pattern::RepeatCaller, "household:5"), "户", Some("3-7-1-102")).0, ProposalKind::Task);
        assert_eq!(
            propose(&d(Pattern::Rising, "education.enrolment@1200"), "入学", None).0,
            ProposalKind::TopicOfMonth
        );
        let (kind, title) = propose(&d(Pattern::Seasonal, "utilities.heating@11"), "供暖", None);
        assert_eq!(kind, ProposalKind::TopicOfMonth);
        assert!(title.contains("11月"), "{title}");
    }

    #[test]
    fn the_poisson_tail_is_a_probability() {
        assert!((poisson_tail(0, 2.0) - 1.0).abs() < 1e-12);
        assert!((poisson_tail(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
        assert!(poisson_tail(12, 3.5) < poisson_tail(8, 3.5));
    }

    #[test]
    fn the_detector_finds_the_planted_patterns_of_the_synthetic_history() {
        let (signals, planted) = synthetic_history(7);
        let s = score(&detect(&signals), &planted);
        assert!(s.recall >= 0.99, "{s:?}");
        assert!(s.precision >= 0.5, "{s:?}");
        assert!(s.mean_days_to_detection < 15.0, "{s:?}");
    }
}
