//! Who may do what, where. Every check in the product goes through [`authorize`].

use super::Role;
use serde::Serialize;

/// Something an account may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Browse compounds, buildings, units and household addresses.
    ViewAddresses,
    /// See residents (names, masked contacts).
    ViewResidents,
    /// Create or change a resident or a household.
    EditResident,
    /// See a full phone number (the read is logged).
    ViewPhone,
    /// See a full ID-card number (the read is logged).
    ViewIdCard,
    /// Import residents and households from a file.
    ImportRegistry,
    /// Export residents and households to a file.
    ExportRegistry,
    /// Issue a one-time sign-up code for a household.
    IssueSignupCode,
    /// Edit the community's tag set.
    ManageTags,
    /// Add compounds, buildings and units.
    ManageStructure,
    /// See the registry's figures.
    ViewSummary,
    /// Create, change and disable accounts; issue API tokens.
    ManageAccounts,
    /// Read the audit log.
    ViewAudit,
    /// Take in a request (residents for their own household, staff on a resident's behalf).
    SubmitRequest,
    /// See every request of the community (handlers see the ones they hold).
    ViewRequests,
    /// Respond, dispatch, follow up, close, reassign, escalate: the dispatcher's part of the workflow.
    DispatchRequests,
    /// Walk patrol rounds: check in at checkpoints and record findings.
    PatrolRounds,
    /// See patrol rounds, findings, cases, the zero board and joint meetings.
    ViewPatrol,
    /// Plan patrols, work rectification cases, and run joint meetings.
    ManagePatrol,
    /// Update the joint-meeting actions their party owns (property company, developer).
    UpdateMeetingActions,
    /// Take part for one's own household: book a reception slot, apply to the volunteer team, sign up for shifts.
    TakePart,
    /// See reception days, visits and demands (the property company and developer answer their party's).
    ViewReception,
    /// Run reception days: sessions, bookings on a resident's behalf, the desk, demands and answers.
    ManageReception,
    /// Approve volunteers, plan shifts, confirm hours.
    ManageVolunteers,
    /// Plan activities, register residents on their behalf, check them in, add photos and summaries.
    ManageActivities,
}

impl Action {
    /// Every action, for the permission matrix.
    pub const ALL: [Action; 25] = [
        Self::ViewAddresses,
        Self::ViewResidents,
        Self::EditResident,
        Self::ViewPhone,
        Self::ViewIdCard,
        Self::ImportRegistry,
        Self::ExportRegistry,
        Self::IssueSignupCode,
        Self::ManageTags,
        Self::ManageStructure,
        Self::ViewSummary,
        Self::ManageAccounts,
        Self::ViewAudit,
        Self::SubmitRequest,
        Self::ViewRequests,
        Self::DispatchRequests,
        Self::PatrolRounds,
        Self::ViewPatrol,
        Self::ManagePatrol,
        Self::UpdateMeetingActions,
        Self::TakePart,
        Self::ViewReception,
        Self::ManageReception,
        Self::ManageVolunteers,
        Self::ManageActivities,
    ];
}

/// The account acting, with what it is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// Account id.
    pub user_id: i64,
    /// The account's role.
    pub role: Role,
    /// Communities the account works in (a resident's is their household's).
    pub communities: Vec<i64>,
    /// Buildings a building social worker owns.
    pub buildings: Vec<i64>,
    /// A resident's household.
    pub household: Option<i64>,
}

/// Where an action applies. `None` parts mean "the whole of the part above".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope {
    /// The community; `None` means the deployment as a whole (admin-only matters).
    pub community: Option<i64>,
    /// A building within the community.
    pub building: Option<i64>,
    /// A household within the building.
    pub household: Option<i64>,
}

impl Scope {
    /// The whole deployment.
    pub const DEPLOYMENT: Scope = Scope { community: None, building: None, household: None };

    /// A whole community.
    pub fn community(id: i64) -> Self {
        Self { community: Some(id), ..Self::default() }
    }

    /// A household, with the building and community it is in.
    pub fn household(community: i64, building: i64, household: i64) -> Self {
        Self { community: Some(community), building: Some(building), household: Some(household) }
    }

    /// A building in a community.
    pub fn building(community: i64, building: i64) -> Self {
        Self { community: Some(community), building: Some(building), household: None }
    }
}

/// The refusal, with a reason fit to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not permitted: {role:?} may not {action:?} here")]
pub struct Denied {
    /// The actor's role.
    pub role: Role,
    /// What was attempted.
    pub action: Action,
}

/// Decides whether `actor` may do `action` within `scope`.
pub fn authorize(actor: &Actor, action: Action, scope: Scope) -> Result<(), Denied> {
    if allowed(actor, action, scope) { Ok(()) } else { Err(Denied { role: actor.role, action }) }
}

fn allowed(actor: &Actor, action: Action, scope: Scope) -> bool {
    use Action::*;
    if actor.role == Role::Admin {
        return true;
    }
    // Everything below needs a community the actor is assigned to.
    let Some(community) = scope.community else {
        return false;
    };
    if !actor.communities.contains(&community) {
        return false;
    }
    let own_building = scope.building.is_some_and(|b| actor.buildings.contains(&b));
    match actor.role {
        Role::Admin => true,
        Role::Staff => !matches!(action, ManageAccounts | ViewAudit),
        Role::SocialWorker => match action {
            ViewAddresses | ViewResidents | ViewSummary | SubmitRequest | ViewRequests | PatrolRounds | ViewPatrol
            | ViewReception | ManageReception | ManageActivities => true,
            EditResident | ViewPhone | IssueSignupCode | ExportRegistry => own_building,
            _ => false,
        },
        Role::Street => {
            matches!(
                action,
                ViewAddresses
                    | ViewResidents
                    | ViewSummary
                    | ExportRegistry
                    | ViewRequests
                    | ViewPatrol
                    | ViewReception
            )
        }
        Role::Patrol => matches!(action, ViewAddresses | SubmitRequest | PatrolRounds | ViewPatrol),
        Role::Property | Role::Developer => {
            matches!(action, ViewAddresses | ViewPatrol | UpdateMeetingActions | ViewReception)
        }
        // 吾家有治 volunteers walk rounds with the squads; which zone is checked against their squad membership.
        Role::Volunteer if action == PatrolRounds => true,
        Role::Volunteer | Role::Resident => {
            let own_household = scope.household.is_some() && scope.household == actor.household;
            // A volunteer is a resident first: their own household stays theirs to see and keep up to date.
            let resident_only = matches!(action, ViewAddresses | ViewResidents | ViewPhone | ViewIdCard | EditResident);
            (resident_only || matches!(action, SubmitRequest | TakePart)) && own_household
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    const COMMUNITY: i64 = 1;
    const OTHER_COMMUNITY: i64 = 2;
    const BUILDING: i64 = 10;
    const OTHER_BUILDING: i64 = 11;
    const HOUSEHOLD: i64 = 100;
    const OTHER_HOUSEHOLD: i64 = 101;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: 1,
            role,
            communities: vec![COMMUNITY],
            buildings: if role == Role::SocialWorker { vec![BUILDING] } else { vec![] },
            household: matches!(role, Role::Resident | Role::Volunteer).then_some(HOUSEHOLD),
        }
    }

    /// The expected answer for each role at its own household (in its own building), in `Action::ALL` order.
    fn expected(role: Role) -> [bool; 25] {
        const F: bool = false;
        const T: bool = true;
        //   addr resid edit phone idcrd imprt exprt code tags struc summ accts audit submit viewreq dispatch
        //   rounds viewpatrol managepatrol actions takepart viewreception managereception managevolunteers manageactivities
        match role {
            Role::Admin => [T; 25],
            Role::Staff => [T, T, T, T, T, T, T, T, T, T, T, F, F, T, T, T, T, T, T, T, T, T, T, T, T],
            Role::SocialWorker => [T, T, T, T, F, F, T, T, F, F, T, F, F, T, T, F, T, T, F, F, F, T, T, F, T],
            Role::Street => [T, T, F, F, F, F, T, F, F, F, T, F, F, F, T, F, F, T, F, F, F, T, F, F, F],
            Role::Patrol => [T, F, F, F, F, F, F, F, F, F, F, F, F, T, F, F, T, T, F, F, F, F, F, F, F],
            Role::Property | Role::Developer => {
                [T, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, T, F, T, F, T, F, F, F]
            }
            Role::Volunteer => [T, T, T, T, T, F, F, F, F, F, F, F, F, T, F, F, T, F, F, F, T, F, F, F, F],
            Role::Resident => [T, T, T, T, T, F, F, F, F, F, F, F, F, T, F, F, F, F, F, F, T, F, F, F, F],
        }
    }

    #[test]
    fn matrix_of_role_by_action_at_the_actors_own_household() {
        for role in Role::ALL {
            let a = actor(role);
            let got: Vec<bool> = Action::ALL
                .iter()
                .map(|&act| authorize(&a, act, Scope::household(COMMUNITY, BUILDING, HOUSEHOLD)).is_ok())
                .collect();
            assert_eq!(got, expected(role), "{role:?}");
        }
    }

    #[test]
    fn nobody_but_admin_acts_in_a_community_they_are_not_assigned_to() {
        for role in Role::ALL {
            for act in Action::ALL {
                let ok = authorize(&actor(role), act, Scope::household(OTHER_COMMUNITY, BUILDING, HOUSEHOLD)).is_ok();
                assert_eq!(ok, role == Role::Admin, "{role:?} {act:?}");
            }
        }
    }

    #[test]
    fn resident_sees_only_their_own_household() {
        let r = actor(Role::Resident);
        let other = Scope::household(COMMUNITY, BUILDING, OTHER_HOUSEHOLD);
        for act in Action::ALL {
            assert!(authorize(&r, act, other).is_err(), "{act:?}");
        }
        assert!(authorize(&r, ViewResidents, Scope::community(COMMUNITY)).is_err());
    }

    #[test]
    fn social_worker_edits_only_their_buildings() {
        let w = actor(Role::SocialWorker);
        assert!(authorize(&w, EditResident, Scope::household(COMMUNITY, BUILDING, HOUSEHOLD)).is_ok());
        assert!(authorize(&w, EditResident, Scope::household(COMMUNITY, OTHER_BUILDING, OTHER_HOUSEHOLD)).is_err());
        assert!(authorize(&w, ViewPhone, Scope::building(COMMUNITY, OTHER_BUILDING)).is_err());
        assert!(authorize(&w, ViewResidents, Scope::building(COMMUNITY, OTHER_BUILDING)).is_ok());
    }

    #[test]
    fn deployment_wide_matters_are_for_admins_only() {
        for role in Role::ALL {
            for act in [ManageAccounts, ViewAudit] {
                assert_eq!(authorize(&actor(role), act, Scope::DEPLOYMENT).is_ok(), role == Role::Admin);
            }
        }
    }
}
