//! Deadline alerts: the handler is warned once three quarters of a time limit have passed, and supervisors are
//! told once it is missed. Each alert has a code kept in the database, so it is raised once per request.

use chrono::{DateTime, Utc};

/// Which time limit an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    /// To respond (响应).
    Respond,
    /// To resolve (办结).
    Resolve,
}

/// How far along the limit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Three quarters of the time have passed.
    Warning,
    /// The deadline passed.
    Overdue,
}

/// One deadline alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineAlert {
    /// Which deadline.
    pub deadline: DeadlineKind,
    /// How far along.
    pub stage: Stage,
}

impl DeadlineAlert {
    /// The code kept for an alert raised (`respond_warning`, `resolve_overdue`, …).
    pub fn code(self) -> &'static str {
        match (self.deadline, self.stage) {
            (DeadlineKind::Respond, Stage::Warning) => "respond_warning",
            (DeadlineKind::Respond, Stage::Overdue) => "respond_overdue",
            (DeadlineKind::Resolve, Stage::Warning) => "resolve_warning",
            (DeadlineKind::Resolve, Stage::Overdue) => "resolve_overdue",
        }
    }
}

/// A running request's clocks (paused requests raise no alerts and are not asked).
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// When it came in.
    pub received_at: DateTime<Utc>,
    /// When it must be responded to.
    pub respond_due: DateTime<Utc>,
    /// When it was, if it was.
    pub responded_at: Option<DateTime<Utc>>,
    /// When it must be resolved.
    pub resolve_due: DateTime<Utc>,
    /// When it was, if it was.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The alerts due at `now`: for each limit not yet met, its warning in the last quarter of the time, or its
/// overdue notice after the deadline.
pub fn due_alerts(d: &Deadlines, now: DateTime<Utc>) -> Vec<DeadlineAlert> {
    let limits =
        [(DeadlineKind::Respond, d.respond_due, d.responded_at), (DeadlineKind::Resolve, d.resolve_due, d.resolved_at)];
    limits
        .into_iter()
        .filter(|(_, _, met)| met.is_none())
        .filter_map(|(deadline, due, _)| {
            let warn_at = due - (due - d.received_at) / 4;
            let stage = if now > due {
                Stage::Overdue
            } else if now >= warn_at {
                Stage::Warning
            } else {
                return None;
            };
            Some(DeadlineAlert { deadline, stage })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn each_limit_warns_in_its_last_quarter_and_is_overdue_after_it() {
        let t0 = Utc.with_ymd_and_hms(2024, 5, 6, 1, 0, 0).unwrap();
        let d = Deadlines {
            received_at: t0,
            respond_due: t0 + Duration::hours(2),
            responded_at: None,
            resolve_due: t0 + Duration::hours(8),
            resolved_at: None,
        };
        let codes = |now| due_alerts(&d, now).into_iter().map(DeadlineAlert::code).collect::<Vec<_>>();
        assert!(codes(t0 + Duration::minutes(89)).is_empty());
        assert_eq!(codes(t0 + Duration::minutes(90)), ["respond_warning"]);
        assert_eq!(codes(t0 + Duration::minutes(121)), ["respond_overdue"]);
        assert_eq!(codes(t0 + Duration::hours(7)), ["respond_overdue", "resolve_warning"]);
        let responded = Deadlines { responded_at: Some(t0 + Duration::minutes(30)), ..d };
        assert_eq!(
            due_alerts(&responded, t0 + Duration::hours(9)),
            [DeadlineAlert { deadline: DeadlineKind::Resolve, stage: Stage::Overdue }]
        );
    }
}
