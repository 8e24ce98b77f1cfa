//! Reception-day figures: sessions (regular and themed), visits, demands, the answered share and the time to
//! answer, by party and by theme.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A demand as the figures see it.
#[derive(Debug, Clone)]
pub struct DemandFact {
    /// The visit it was raised at.
    pub visit_id: i64,
    /// Owning party code.
    pub party: String,
    /// The session's theme (`-` for regular sessions).
    pub theme: String,
    /// Raised.
    pub raised_at: DateTime<Utc>,
    /// Answered back to the resident.
    pub answered_at: Option<DateTime<Utc>>,
}

/// Counts for one group of demands.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Answered {
    /// Demands.
    pub demands: u64,
    /// Answered back to the resident.
    pub answered: u64,
    /// answered / demands.
    pub share: Option<f64>,
    /// Mean days from raising to answering, over the answered ones.
    pub mean_days_to_answer: Option<f64>,
}

/// The figures of a period.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ReceptionFigures {
    /// Sessions held.
    pub sessions: u64,
    /// Regular ones.
    pub regular_sessions: u64,
    /// Themed ones.
    pub themed_sessions: u64,
    /// Visits.
    pub visits: u64,
    /// Visits all of whose demands were answered.
    pub visits_answered: u64,
    /// All demands.
    pub demands: Answered,
    /// By owning party.
    pub by_party: BTreeMap<String, Answered>,
    /// By theme.
    pub by_theme: BTreeMap<String, Answered>,
}

fn tally(list: &[&DemandFact]) -> Answered {
    let answered: Vec<f64> =
        list.iter().filter_map(|d| d.answered_at.map(|a| (a - d.raised_at).num_minutes() as f64 / 1440.0)).collect();
    let demands = list.len() as u64;
    Answered {
        demands,
        answered: answered.len() as u64,
        share: (demands > 0).then(|| answered.len() as f64 / demands as f64),
        mean_days_to_answer: (!answered.is_empty()).then(|| answered.iter().sum::<f64>() / answered.len() as f64),
    }
}

/// Computes the figures from the period's sessions (their kind codes), visits (ids) and demands.
pub fn figures(session_kinds: &[String], visits: &[i64], demands: &[DemandFact]) -> ReceptionFigures {
    let all: Vec<&DemandFact> = demands.iter().collect();
    let mut by_party: BTreeMap<String, Vec<&DemandFact>> = BTreeMap::new();
    let mut by_theme: BTreeMap<String, Vec<&DemandFact>> = BTreeMap::new();
    let mut per_visit: BTreeMap<i64, Vec<bool>> = visits.iter().map(|v| (*v, Vec::new())).collect();
    for d in demands {
        by_party.entry(d.party.clone()).or_default().push(d);
        by_theme.entry(d.theme.clone()).or_default().push(d);
        per_visit.entry(d.visit_id).or_default().push(d.answered_at.is_some());
    }
    ReceptionFigures {
        sessions: session_kinds.len() as u64,
        regular_sessions: session_kinds.iter().filter(|k| *k == "regular").count() as u64,
        themed_sessions: session_kinds.iter().filter(|k| *k == "themed").count() as u64,
        visits: visits.len() as u64,
        visits_answered: per_visit.values().filter(|d| !d.is_empty() && d.iter().all(|a| *a)).count() as u64,
        demands: tally(&all),
        by_party: by_party.into_iter().map(|(k, v)| (k, tally(&v))).collect(),
        by_theme: by_theme.into_iter().map(|(k, v)| (k, tally(&v))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(visit: i64, party: &str, answered_days: Option<i64>) -> DemandFact {
        let raised = Utc.with_ymd_and_hms(2023, 6, 18, 2, 0, 0).unwrap();
        DemandFact {
            visit_id: visit,
            party: party.into(),
            theme: "-".into(),
            raised_at: raised,
            answered_at: answered_days.map(|n| raised + chrono::Duration::days(n)),
        }
    }

    #[test]
    fn a_visit_with_one_open_demand_is_not_answered() {
        let f = figures(
            &["regular".into(), "themed".into()],
            &[1, 2, 3],
            &[d(1, "community", Some(0)), d(2, "developer", Some(30)), d(2, "property", None)],
        );
        assert_eq!((f.sessions, f.regular_sessions, f.themed_sessions), (2, 1, 1));
        assert_eq!((f.visits, f.visits_answered), (3, 1), "visit 3 raised nothing; visit 2 has one open demand");
        assert_eq!(f.demands.answered, 2);
        assert_eq!(f.demands.mean_days_to_answer, Some(15.0));
        assert_eq!(f.by_party["developer"].share, Some(1.0));
        assert_eq!(f.by_party["property"].share, Some(0.0));
    }
}
