//! The tri-party joint meeting (联席会) of the community, the property company and the developer: an agenda built
//! from what is open, resolutions as action items that carry over until done.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A party at the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The community (筹备组 / 居委会).
    Community,
    /// The property company (物业).
    Property,
    /// The developer (开发商).
    Developer,
    /// The street office (街道).
    Street,
}

impl Party {
    /// Every party.
    pub const ALL: [Party; 4] = [Self::Community, Self::Property, Self::Developer, Self::Street];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Community => "community",
            Self::Property => "property",
            Self::Developer => "developer",
            Self::Street => "street",
        }
    }

    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// A resolution of a meeting, checked: it always has an owning party, a person and a due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionItem {
    /// What is to be done.
    pub title: String,
    /// The party that owns it.
    pub party: Party,
    /// The person answerable.
    pub owner: String,
    /// When it is due.
    pub due: NaiveDate,
}

/// A problem with an action item, naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ActionError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub message: &'static str,
}

impl ActionItem {
    /// Checks an action as typed in the minutes.
    pub fn parse(title: &str, party: &str, owner: &str, due: Option<NaiveDate>) -> Result<Self, Vec<ActionError>> {
        let mut errors = Vec::new();
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            errors.push(ActionError {
                field: "title",
                message: "请填写事项（最多 200 字）/ describe the action (at most 200 characters)",
            });
        }
        let party = Party::parse(party.trim());
        if party.is_none() {
            errors.push(ActionError {
                field: "party",
                message: "请选择责任方：社区、物业、开发商或街道 / choose the owning party",
            });
        }
        let owner = owner.trim();
        if owner.is_empty() || owner.chars().count() > 40 {
            errors.push(ActionError { field: "owner", message: "请填写责任人 / name the person answerable" });
        }
        if due.is_none() {
            errors.push(ActionError { field: "due", message: "请填写完成期限 / give a due date" });
        }
        match (party, due) {
            (Some(party), Some(due)) if errors.is_empty() => {
                Ok(Self { title: title.to_string(), party, owner: owner.to_string(), due })
            }
            _ => Err(errors),
        }
    }
}

/// Was an action done by its due date (Beijing date of completion)?
pub fn done_on_time(due: NaiveDate, done_on: Option<NaiveDate>) -> bool {
    done_on.is_some_and(|d| d <= due)
}

/// What the agenda is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgendaItem {
    /// An action of an earlier meeting that is not done.
    CarriedAction {
        /// Action id.
        id: i64,
        /// What.
        title: String,
        /// Owning party.
        party: Party,
        /// Due.
        due: NaiveDate,
        /// Past due on the meeting day.
        overdue: bool,
    },
    /// An open rectification case.
    OpenCase {
        /// Case id.
        id: i64,
        /// Its number.
        number: String,
        /// Finding type code.
        finding: String,
        /// Where.
        title: String,
        /// Days since it was opened.
        age_days: i64,
    },
    /// A service request past its resolution deadline.
    OverdueRequest {
        /// Request id.
        id: i64,
        /// Its number.
        number: String,
        /// What.
        title: String,
        /// Days past its deadline.
        days_over: i64,
    },
}

/// An open case as the agenda sees it.
#[derive(Debug, Clone)]
pub struct OpenCase {
    /// Id.
    pub id: i64,
    /// Number.
    pub number: String,
    /// Finding type code.
    pub kind: String,
    /// Where.
    pub title: String,
    /// Opened.
    pub opened_at: DateTime<Utc>,
}

/// An unfinished action as the agenda sees it.
#[derive(Debug, Clone)]
pub struct OpenAction {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Party.
    pub party: Party,
    /// Due.
    pub due: NaiveDate,
}

/// An overdue request as the agenda sees it.
#[derive(Debug, Clone)]
pub struct LateRequest {
    /// Id.
    pub id: i64,
    /// Number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Resolution deadline.
    pub resolve_due: DateTime<Utc>,
}

/// The agenda of a meeting at `at`: unfinished actions first (overdue ones first), then open cases oldest first,
/// then overdue requests most overdue first.
pub fn agenda(
    actions: &[OpenAction],
    cases: &[OpenCase],
    requests: &[LateRequest],
    at: DateTime<Utc>,
    day: NaiveDate,
) -> Vec<AgendaItem> {
    let mut acts: Vec<&OpenAction> = actions.iter().collect();
    acts.sort_by_key(|a| (a.due, a.id));
    let mut cs: Vec<&OpenCase> = cases.iter().collect();
    cs.sort_by_key(|c| (c.opened_at, c.id));
    let mut rs: Vec<&LateRequest> = requests.iter().filter(|r| r.resolve_due < at).collect();
    rs.sort_by_key(|r| (r.resolve_due, r.id));
    let mut out = Vec::with_capacity(acts.len() + cs.len() + rs.len());
    out.extend(acts.into_iter().map(|a| AgendaItem::CarriedAction {
        id: a.id,
        title: a.title.clone(),
        party: a.party,
        due: a.due,
        overdue: a.due < day,
    }));
    out.extend(cs.into_iter().map(|c| AgendaItem::OpenCase {
        id: c.id,
        number: c.number.clone(),
        finding: c.kind.clone(),
        title: c.title.clone(),
        age_days: (at - c.opened_at).num_days(),
    }));
    out.extend(rs.into_iter().map(|r| AgendaItem::OverdueRequest {
        id: r.id,
        number: r.number.clone(),
        title: r.title.clone(),
        days_over: (at - r.resolve_due).num_days(),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, d).unwrap()
    }

    #[test]
    fn an_action_needs_an_owner_a_party_and_a_due_date() {
        let errs = ActionItem::parse("拆除护栏", "landlord", " ", None).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["party", "owner", "due"]);
        let ok = ActionItem::parse(" 拆除护栏 ", "property", "王经理", Some(day(10))).unwrap();
        assert_eq!(ok.party, Party::Property);
        assert_eq!(ok.title, "拆除护栏");
    }

    #[test]
    fn on_time_means_done_no_later_than_due() {
        assert!(done_on_time(day(10), Some(day(10))));
        assert!(!done_on_time(day(10), Some(day(11))));
        assert!(!done_on_time(day(10), None));
    }

    #[test]
    fn the_agenda_puts_carried_actions_first_then_cases_then_late_requests() {
        let at = Utc.with_ymd_and_hms(2024, 6, 20, 2, 0, 0).unwrap();
        let actions = vec![
            OpenAction { id: 2, title: "b".into(), party: Party::Developer, due: day(30) },
            OpenAction { id: 1, title: "a".into(), party: Party::Property, due: day(10) },
        ];
        let cases = vec![OpenCase {
            id: 5,
            number: "ZG-1".into(),
            kind: "window_guard".into(),
            title: "外扩护栏".into(),
            opened_at: Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(),
        }];
        let requests = vec![
            LateRequest { id: 9, number: "R9".into(), title: "x".into(), resolve_due: at + chrono::Duration::days(1) },
            LateRequest { id: 8, number: "R8".into(), title: "y".into(), resolve_due: at - chrono::Duration::days(3) },
        ];
        let a = agenda(&actions, &cases, &requests, at, day(20));
        assert_eq!(a.len(), 4, "the request not yet due is left out");
        assert!(matches!(a[0], AgendaItem::CarriedAction { id: 1, overdue: true, .. }));
        assert!(matches!(a[1], AgendaItem::CarriedAction { id: 2, overdue: false, .. }));
        assert!(matches!(a[2], AgendaItem::OpenCase { id: 5, age_days: 19, .. }));
        assert!(matches!(a[3], AgendaItem::OverdueRequest { id: 8, days_over: 3, .. }));
    }
}
