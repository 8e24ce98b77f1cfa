//! Who may see a request, and how much of the person behind it: decided here once, for the API, the pages,
//! Open311, search, exports and notifications alike (PIPL: minimum necessary by role).

use crate::accounts::{Action, Actor, Role, Scope, authorize};

/// What the rules need to know of a request to decide who sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestParties<'a> {
    /// The request's community.
    pub community: i64,
    /// Its building, when it concerns a household.
    pub building: Option<i64>,
    /// Its household, when it concerns one.
    pub household: Option<i64>,
    /// The lead handler.
    pub lead: Option<i64>,
    /// The co-handlers.
    pub co_handlers: &'a [i64],
}

impl RequestParties<'_> {
    fn handles(&self, actor: &Actor) -> bool {
        self.lead == Some(actor.user_id) || self.co_handlers.contains(&actor.user_id)
    }

    fn own_household(&self, actor: &Actor) -> bool {
        matches!(actor.role, Role::Resident | Role::Volunteer)
            && self.household.is_some()
            && self.household == actor.household
    }

    /// The narrowest scope the request has: its household, else its community.
    fn scope(&self) -> Scope {
        match (self.building, self.household) {
            (Some(b), Some(h)) => Scope::household(self.community, b, h),
            (Some(b), None) => Scope::building(self.community, b),
            _ => Scope::community(self.community),
        }
    }
}

/// Whether `actor` may see the request at all: the community's request viewers, its own household, its handlers.
pub fn may_view_request(actor: &Actor, r: &RequestParties<'_>) -> bool {
    if actor.role != Role::Admin && !actor.communities.contains(&r.community) {
        return false;
    }
    authorize(actor, Action::ViewRequests, Scope::community(r.community)).is_ok()
        || r.own_household(actor)
        || r.handles(actor)
}

/// How much of the resident's contact (the phone to call back) a viewer who may see the request is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// The household's own account reading its own request: shown, nothing to record.
    Own,
    /// Someone who needs it to do their work (the handlers, staff, the building's social worker): shown in full,
    /// and the read is written to the audit log.
    Audited,
    /// Everyone else who may see the request (the street office, other buildings' social workers): masked.
    Masked,
}

impl Disclosure {
    /// True when the full value is shown.
    pub fn is_full(self) -> bool {
        self != Self::Masked
    }
}

/// Decides how much of a request's contact `actor` sees. Call only for an actor who [`may_view_request`].
pub fn contact_disclosure(actor: &Actor, r: &RequestParties<'_>) -> Disclosure {
    if r.own_household(actor) {
        Disclosure::Own
    } else if r.handles(actor) || authorize(actor, Action::ViewPhone, r.scope()).is_ok() {
        Disclosure::Audited
    } else {
        Disclosure::Masked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMUNITY: i64 = 1;
    const BUILDING: i64 = 10;
    const HOUSEHOLD: i64 = 100;

    fn actor(id: i64, role: Role) -> Actor {
        Actor {
            user_id: id,
            role,
            communities: vec![COMMUNITY],
            buildings: if role == Role::SocialWorker { vec![BUILDING] } else { vec![] },
            household: matches!(role, Role::Resident | Role::Volunteer).then_some(HOUSEHOLD),
        }
    }

    fn request(building: i64, household: i64, lead: Option<i64>) -> RequestParties<'static> {
        RequestParties {
            community: COMMUNITY,
            building: Some(building),
            household: Some(household),
            lead,
            co_handlers: &[],
        }
    }

    #[test]
    fn the_contact_is_shown_to_those_who_call_back_and_masked_for_the_rest() {
        use Disclosure::*;
        let own = request(BUILDING, HOUSEHOLD, None);
        let elsewhere = request(11, 101, None);
        let cases = [
            (actor(1, Role::Staff), &own, Audited),
            (actor(1, Role::Admin), &own, Audited),
            (actor(2, Role::SocialWorker), &own, Audited),
            (actor(2, Role::SocialWorker), &elsewhere, Masked),
            (actor(3, Role::Street), &own, Masked),
            (actor(4, Role::Resident), &own, Own),
            (actor(4, Role::Volunteer), &own, Own),
        ];
        for (a, r, expected) in cases {
            assert!(may_view_request(&a, r), "{:?} sees the request", a.role);
            assert_eq!(contact_disclosure(&a, r), expected, "{:?}", a.role);
        }
        let handled = request(11, 101, Some(5));
        let property = actor(5, Role::Property);
        assert!(may_view_request(&property, &handled));
        assert_eq!(contact_disclosure(&property, &handled), Audited);
        let co = RequestParties { co_handlers: &[6], ..handled };
        assert_eq!(contact_disclosure(&actor(6, Role::Developer), &co), Audited);
    }

    #[test]
    fn a_request_is_hidden_from_other_households_other_communities_and_bystanders() {
        let r = request(BUILDING, 101, Some(5));
        assert!(!may_view_request(&actor(4, Role::Resident), &r), "another household");
        assert!(!may_view_request(&actor(9, Role::Property), &r), "a property account not handling it");
        assert!(!may_view_request(&actor(9, Role::Patrol), &r));
        let mut stranger = actor(1, Role::Staff);
        stranger.communities = vec![2];
        assert!(!may_view_request(&stranger, &r), "staff of another community");
        let place =
            RequestParties { community: COMMUNITY, building: None, household: None, lead: None, co_handlers: &[] };
        assert_eq!(contact_disclosure(&actor(2, Role::SocialWorker), &place), Disclosure::Masked);
        assert_eq!(contact_disclosure(&actor(1, Role::Staff), &place), Disclosure::Audited);
    }
}
