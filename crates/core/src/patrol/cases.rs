//! Rectification cases (整改): a finding not fixed on the spot is followed from the notice to the household,
//! through visits and an agreed deadline, to joint handling, a re-inspection with a photo, and closing (销号).

use crate::accounts::{Action, Actor, Role, Scope, authorize};
use chrono::NaiveDate;
use serde::Serialize;

/// Whether `actor` may see a rectification case of `community` handed to `handled_by`: the community's patrol
/// viewers see every case; the property company only the cases handed to it; the developer none (no case is
/// handed to it). What is not theirs reads as absent.
pub fn may_view_case(actor: &Actor, community: i64, handled_by: Option<HandledBy>) -> bool {
    match actor.role {
        Role::Property => actor.communities.contains(&community) && handled_by == Some(HandledBy::Property),
        Role::Developer => false,
        _ => authorize(actor, Action::ViewPatrol, Scope::community(community)).is_ok(),
    }
}

/// Whether `actor` may record a step on a case it may see: those who manage patrols record any step; the party a
/// case is handed to records its re-inspection (the removal done, with its photo), and the community closes it.
pub fn may_record_case_step(actor: &Actor, community: i64, handled_by: Option<HandledBy>, reinspection: bool) -> bool {
    authorize(actor, Action::ManagePatrol, Scope::community(community)).is_ok()
        || (reinspection && actor.role == Role::Property && may_view_case(actor, community, handled_by))
}

/// A kind of step on a case, as offered to the one who may record it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStep {
    /// Visit the household.
    Visit,
    /// Start joint handling.
    Handle,
    /// Re-inspect on site, with a photo.
    Reinspect,
    /// Link the service request the case belongs with.
    Link,
    /// Close the case.
    Close,
}

impl CaseStep {
    /// Every kind of step, in the order a case goes through them.
    pub const ALL: [CaseStep; 5] = [Self::Visit, Self::Handle, Self::Reinspect, Self::Link, Self::Close];
}

/// The steps `actor` may record now on a case of `community` at `status` handed to `handled_by`: those the rules of
/// [`decide`] accept in some form at this status, and that the actor's part allows ([`may_record_case_step`]).
/// Pages offer exactly these, so an action that would be refused is never shown.
pub fn available_steps(
    actor: &Actor,
    community: i64,
    handled_by: Option<HandledBy>,
    status: CaseStatus,
) -> Vec<CaseStep> {
    use CaseStatus::*;
    if status == Closed || !may_view_case(actor, community, handled_by) {
        return Vec::new();
    }
    CaseStep::ALL
        .into_iter()
        .filter(|step| match step {
            CaseStep::Visit | CaseStep::Handle | CaseStep::Link => true,
            CaseStep::Reinspect => matches!(status, Agreed | Handling | Reinspected),
            CaseStep::Close => status == Reinspected,
        })
        .filter(|step| may_record_case_step(actor, community, handled_by, *step == CaseStep::Reinspect))
        .collect()
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Opened; the household has been given notice (告知).
    Noticed,
    /// Visited at least once without agreement yet.
    Visiting,
    /// The household agreed, with a deadline.
    Agreed,
    /// Being removed: by the property company, the household itself, or the street's law enforcement.
    Handling,
    /// Re-inspected and found rectified, with a photo.
    Reinspected,
    /// Closed (销号).
    Closed,
}

impl CaseStatus {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Noticed => "noticed",
            Self::Visiting => "visiting",
            Self::Agreed => "agreed",
            Self::Handling => "handling",
            Self::Reinspected => "reinspected",
            Self::Closed => "closed",
        }
    }

    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        [Self::Noticed, Self::Visiting, Self::Agreed, Self::Handling, Self::Reinspected, Self::Closed]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// Still open.
    pub fn is_open(self) -> bool {
        self != Self::Closed
    }
}

/// What a visit to the household came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    /// The door stayed shut (闭门羹).
    Refused,
    /// The rules were explained; no decision yet.
    Explained,
    /// The household agreed to rectify.
    Agreed,
}

impl VisitOutcome {
    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "refused" => Some(Self::Refused),
            "explained" => Some(Self::Explained),
            "agreed" => Some(Self::Agreed),
            _ => None,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Explained => "explained",
            Self::Agreed => "agreed",
        }
    }
}

/// Who removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandledBy {
    /// The household itself.
    Household,
    /// The property company (物业).
    Property,
    /// The street's law enforcement (街道综合执法).
    LawEnforcement,
}

impl HandledBy {
    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "household" => Some(Self::Household),
            "property" => Some(Self::Property),
            "law_enforcement" => Some(Self::LawEnforcement),
            _ => None,
        }
    }

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Household => "household",
            Self::Property => "property",
            Self::LawEnforcement => "law_enforcement",
        }
    }
}

/// A step on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseCommand {
    /// A visit to the household; an agreement carries the deadline the household accepted.
    Visit {
        /// What the visit came to.
        outcome: VisitOutcome,
        /// The agreed deadline (required when the outcome is `Agreed`).
        deadline: Option<NaiveDate>,
    },
    /// Joint handling starts.
    Handle {
        /// Who removes it.
        by: HandledBy,
    },
    /// A re-inspection on site; a photo is always required.
    Reinspect {
        /// Rectified?
        passed: bool,
        /// A photo was attached.
        photo: bool,
    },
    /// Close the case (销号).
    Close,
}

/// Why a step is refused. Messages name the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// The case is closed.
    #[error("status: 案件已销号 / the case is closed")]
    Closed,
    /// Agreement without a deadline.
    #[error("deadline: 同意整改时须约定期限 / an agreement needs a deadline")]
    NoDeadline,
    /// A deadline before the visit.
    #[error("deadline: 整改期限不能早于今天 / the deadline cannot be in the past")]
    PastDeadline,
    /// Handling before anything was agreed, other than by law enforcement.
    #[error(
        "action: 住户同意后才能安排拆除；拒不整改的请移交执法 / agree with the household first, or hand over to law enforcement"
    )]
    NotAgreed,
    /// Re-inspection before any handling or agreement.
    #[error("action: 整改完成后才能复查 / re-inspect after the rectification")]
    NothingToReinspect,
    /// Re-inspection without a photo.
    #[error("photo: 复查须附照片 / a re-inspection needs a photo")]
    NoPhoto,
    /// Closing without a passed re-inspection.
    #[error("action: 复查合格后才能销号 / a case closes only after a passed re-inspection")]
    NotReinspected,
}

/// Decides the status after `command` on a case in `status`, on `today`.
pub fn decide(status: CaseStatus, command: &CaseCommand, today: NaiveDate) -> Result<CaseStatus, CaseError> {
    use CaseStatus::*;
    if status == Closed {
        return Err(CaseError::Closed);
    }
    match command {
        CaseCommand::Visit { outcome, deadline } => match outcome {
            VisitOutcome::Agreed => {
                let d = deadline.ok_or(CaseError::NoDeadline)?;
                if d < today {
                    return Err(CaseError::PastDeadline);
                }
                // A later visit can agree again (a new deadline) without going back in the process.
                Ok(if matches!(status, Noticed | Visiting | Agreed) { Agreed } else { status })
            }
            _ => Ok(if matches!(status, Noticed | Visiting) { Visiting } else { status }),
        },
        CaseCommand::Handle { by } => match (status, by) {
            (Agreed | Handling, _) => Ok(Handling),
            // Refusal to the end goes to the street's law enforcement without an agreement.
            (Noticed | Visiting, HandledBy::LawEnforcement) => Ok(Handling),
            (Reinspected, _) => Ok(Handling),
            _ => Err(CaseError::NotAgreed),
        },
        CaseCommand::Reinspect { passed, photo } => {
            if !photo {
                return Err(CaseError::NoPhoto);
            }
            match status {
                Agreed | Handling | Reinspected => Ok(if *passed { Reinspected } else { Handling }),
                _ => Err(CaseError::NothingToReinspect),
            }
        }
        CaseCommand::Close => {
            if status == Reinspected {
                Ok(Closed)
            } else {
                Err(CaseError::NotReinspected)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, 3).unwrap()
    }

    fn visit(outcome: VisitOutcome) -> CaseCommand {
        CaseCommand::Visit { outcome, deadline: Some(today() + chrono::Duration::days(7)) }
    }

    #[test]
    fn aunt_hu_three_refusals_then_agreement_removal_and_reinspection() {
        let mut s = Noticed;
        for _ in 0..3 {
            s = decide(s, &visit(VisitOutcome::Refused), today()).unwrap();
            assert_eq!(s, Visiting);
        }
        s = decide(s, &visit(VisitOutcome::Agreed), today()).unwrap();
        assert_eq!(s, Agreed);
        s = decide(s, &CaseCommand::Handle { by: HandledBy::Property }, today()).unwrap();
        assert_eq!(s, Handling);
        assert_eq!(decide(s, &CaseCommand::Close, today()), Err(CaseError::NotReinspected));
        s = decide(s, &CaseCommand::Reinspect { passed: true, photo: true }, today()).unwrap();
        s = decide(s, &CaseCommand::Close, today()).unwrap();
        assert_eq!(s, Closed);
        assert!(!s.is_open());
        assert_eq!(decide(s, &visit(VisitOutcome::Explained), today()), Err(CaseError::Closed));
    }

    #[test]
    fn refusal_to_the_end_goes_to_law_enforcement() {
        assert_eq!(
            decide(Visiting, &CaseCommand::Handle { by: HandledBy::Property }, today()),
            Err(CaseError::NotAgreed)
        );
        assert_eq!(decide(Visiting, &CaseCommand::Handle { by: HandledBy::LawEnforcement }, today()), Ok(Handling));
    }

    #[test]
    fn a_reinspection_needs_a_photo_and_a_failed_one_keeps_the_case_in_handling() {
        let no_photo = CaseCommand::Reinspect { passed: true, photo: false };
        assert_eq!(decide(Handling, &no_photo, today()), Err(CaseError::NoPhoto));
        let failed = CaseCommand::Reinspect { passed: false, photo: true };
        assert_eq!(decide(Handling, &failed, today()), Ok(Handling));
        assert_eq!(
            decide(Noticed, &CaseCommand::Reinspect { passed: true, photo: true }, today()),
            Err(CaseError::NothingToReinspect)
        );
    }

    #[test]
    fn an_agreement_needs_a_deadline_not_in_the_past() {
        let none = CaseCommand::Visit { outcome: VisitOutcome::Agreed, deadline: None };
        assert_eq!(decide(Visiting, &none, today()), Err(CaseError::NoDeadline));
        let past = CaseCommand::Visit { outcome: VisitOutcome::Agreed, deadline: today().pred_opt() };
        assert_eq!(decide(Visiting, &past, today()), Err(CaseError::PastDeadline));
        assert!(CaseError::NoDeadline.to_string().starts_with("deadline"));
    }

    #[test]
    fn closing_is_possible_from_no_status_but_reinspected() {
        for s in [Noticed, Visiting, Agreed, Handling] {
            assert_eq!(decide(s, &CaseCommand::Close, today()), Err(CaseError::NotReinspected), "{s:?}");
        }
        for s in [Noticed, Visiting, Agreed, Handling, Reinspected, Closed] {
            assert_eq!(CaseStatus::parse(s.code()), Some(s));
        }
    }

    fn actor(role: Role) -> Actor {
        Actor { user_id: 1, role, communities: vec![1], buildings: vec![], household: None }
    }

    #[test]
    fn the_property_company_sees_and_reinspects_only_the_cases_handed_to_it() {
        let property = actor(Role::Property);
        assert!(may_view_case(&property, 1, Some(HandledBy::Property)));
        assert!(!may_view_case(&property, 1, None), "not handed to anyone yet");
        assert!(!may_view_case(&property, 1, Some(HandledBy::Household)));
        assert!(!may_view_case(&property, 2, Some(HandledBy::Property)), "another community");
        assert!(may_record_case_step(&property, 1, Some(HandledBy::Property), true));
        assert!(!may_record_case_step(&property, 1, Some(HandledBy::Property), false), "closing stays with staff");
        assert!(!may_record_case_step(&property, 1, Some(HandledBy::Household), true));
        assert!(!may_view_case(&actor(Role::Developer), 1, Some(HandledBy::Property)));
        for role in [Role::Staff, Role::Street, Role::SocialWorker, Role::Patrol] {
            assert!(may_view_case(&actor(role), 1, None), "{role:?}");
        }
        assert!(may_record_case_step(&actor(Role::Staff), 1, None, false));
        assert!(!may_record_case_step(&actor(Role::Street), 1, None, false));
    }

    /// Every command of a kind of step, in every form the rules distinguish.
    fn commands(step: CaseStep) -> Vec<CaseCommand> {
        let visit = |outcome, deadline| CaseCommand::Visit { outcome, deadline };
        match step {
            CaseStep::Visit => vec![
                visit(VisitOutcome::Refused, None),
                visit(VisitOutcome::Explained, None),
                visit(VisitOutcome::Agreed, Some(today())),
            ],
            CaseStep::Handle => [HandledBy::Household, HandledBy::Property, HandledBy::LawEnforcement]
                .into_iter()
                .map(|by| CaseCommand::Handle { by })
                .collect(),
            CaseStep::Reinspect => vec![
                CaseCommand::Reinspect { passed: true, photo: true },
                CaseCommand::Reinspect { passed: false, photo: true },
            ],
            CaseStep::Close => vec![CaseCommand::Close],
            // Linking a request changes no status: allowed on every open case.
            CaseStep::Link => vec![],
        }
    }

    #[test]
    fn the_steps_offered_are_exactly_those_the_rules_and_the_role_allow() {
        let statuses = [Noticed, Visiting, Agreed, Handling, Reinspected, Closed];
        let handed = [None, Some(HandledBy::Household), Some(HandledBy::Property), Some(HandledBy::LawEnforcement)];
        for role in [Role::Staff, Role::Property, Role::Street, Role::Patrol, Role::Developer, Role::Resident] {
            let a = actor(role);
            for status in statuses {
                for by in handed {
                    let offered = available_steps(&a, 1, by, status);
                    for step in CaseStep::ALL {
                        let rules_allow = if step == CaseStep::Link {
                            status != Closed
                        } else {
                            commands(step).iter().any(|c| decide(status, c, today()).is_ok())
                        };
                        let role_allows =
                            may_view_case(&a, 1, by) && may_record_case_step(&a, 1, by, step == CaseStep::Reinspect);
                        assert_eq!(
                            offered.contains(&step),
                            rules_allow && role_allows,
                            "{role:?} {status:?} {by:?} {step:?}"
                        );
                    }
                }
            }
        }
        let property = actor(Role::Property);
        assert_eq!(available_steps(&property, 1, Some(HandledBy::Property), Handling), vec![CaseStep::Reinspect]);
        assert!(available_steps(&property, 1, Some(HandledBy::Property), Noticed).is_empty());
        assert!(available_steps(&property, 2, Some(HandledBy::Property), Handling).is_empty(), "another community");
    }
}
