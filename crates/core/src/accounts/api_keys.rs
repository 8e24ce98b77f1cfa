//! API keys for scripts and other systems: what a key opens (its scope), how long it lives, and why it is refused.
//!
//! A key acts as the account that owns it, never beyond: its scope only narrows what that account may do.

use super::Action;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// What a key opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// The Open311 GeoReport v2 endpoints only: take in requests and follow them. Nothing under `/api` or pages.
    Open311,
    /// Reading: GET only, never a full phone or ID number, never a registry export.
    Read,
    /// Everything the owning account may do.
    Admin,
}

impl KeyScope {
    /// Every scope, narrowest first (the order shown in forms).
    pub const ALL: [KeyScope; 3] = [Self::Open311, Self::Read, Self::Admin];

    /// Stable code stored in the database and used in the API and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Self::Open311 => "open311",
            Self::Read => "read",
            Self::Admin => "admin",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// True when a key of this scope may attempt `action` (the owning account's rights are checked as well).
    pub fn permits(self, action: Action) -> bool {
        use Action::*;
        match self {
            Self::Admin => true,
            Self::Open311 => matches!(action, SubmitRequest | ViewRequests),
            Self::Read => match action {
                ViewAddresses | ViewResidents | ViewSummary | ViewRequests | ViewPatrol | ViewReception => true,
                // Full contacts and ID numbers, exports and the audit trail are personal data in bulk.
                ViewPhone | ViewIdCard | ExportRegistry | ViewAudit => false,
                EditResident | ImportRegistry | IssueSignupCode | ManageTags | ManageStructure | ManageAccounts
                | SubmitRequest | DispatchRequests | PatrolRounds | ManagePatrol | UpdateMeetingActions | TakePart
                | ManageReception | ManageVolunteers | ManageActivities => false,
            },
        }
    }

    /// Whether a key of this scope is let in at all to `surface` with a request that `writes` or not.
    pub fn admits(self, surface: Surface, writes: bool) -> Result<(), KeyRefusal> {
        match (self, surface) {
            (Self::Open311, Surface::Api) => Err(KeyRefusal::Open311Only),
            (Self::Read, _) if writes => Err(KeyRefusal::ReadOnly),
            _ => Ok(()),
        }
    }
}

/// A scope code that names no scope: from the database a fault, from a person a mistake; never a default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown API key scope `{0}` (expected open311, read or admin)")]
pub struct UnknownKeyScope(pub String);

impl TryFrom<String> for KeyScope {
    type Error = UnknownKeyScope;

    fn try_from(code: String) -> Result<Self, UnknownKeyScope> {
        Self::from_code(&code).ok_or(UnknownKeyScope(code))
    }
}

impl std::str::FromStr for KeyScope {
    type Err = UnknownKeyScope;

    fn from_str(code: &str) -> Result<Self, UnknownKeyScope> {
        Self::from_code(code).ok_or_else(|| UnknownKeyScope(code.to_string()))
    }
}

/// Where a request arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The JSON API and the pages.
    Api,
    /// `/open311/v2`.
    Open311,
}

/// Why a key is turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyRefusal {
    /// An administrator revoked it.
    #[error("the API key has been revoked")]
    Revoked,
    /// Its lifetime is over.
    #[error("the API key has expired")]
    Expired,
    /// An Open311 key used outside `/open311/v2`.
    #[error("the API key is for Open311 only")]
    Open311Only,
    /// A read key used to change something.
    #[error("the API key may only read")]
    ReadOnly,
}

impl KeyRefusal {
    /// True when the key itself no longer works (as opposed to being used where it does not belong).
    pub fn is_dead(self) -> bool {
        matches!(self, Self::Revoked | Self::Expired)
    }
}

/// How long a new key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// A number of days, from 1 to [`Lifetime::MAX_DAYS`].
    Days(u16),
    /// Until revoked; only when asked for explicitly.
    Never,
}

/// A lifetime outside 1 to [`Lifetime::MAX_DAYS`] days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an API key lives from 1 to {max} days, not {0}", max = Lifetime::MAX_DAYS)]
pub struct LifetimeOutOfRange(pub i64);

impl Lifetime {
    /// Days a key lives unless told otherwise.
    pub const DEFAULT_DAYS: u16 = 90;
    /// The longest finite lifetime (ten years); longer is [`Lifetime::Never`], said out loud.
    pub const MAX_DAYS: u16 = 3650;
    /// The default lifetime.
    pub const DEFAULT: Lifetime = Lifetime::Days(Self::DEFAULT_DAYS);

    /// A lifetime of `days` days.
    pub fn days(days: i64) -> Result<Self, LifetimeOutOfRange> {
        u16::try_from(days)
            .ok()
            .filter(|d| (1..=Self::MAX_DAYS).contains(d))
            .map(Self::Days)
            .ok_or(LifetimeOutOfRange(days))
    }

    /// When a key issued at `now` expires; `None` for never.
    pub fn expires_at(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Days(d) => Some(now + Duration::days(i64::from(d))),
            Self::Never => None,
        }
    }
}

/// How often a key's last-used time is written: at most once per this interval, so reads stay reads.
pub const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

/// Whether a key still works at `now`.
pub fn check_alive(
    revoked_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), KeyRefusal> {
    if revoked_at.is_some_and(|r| r <= now) {
        Err(KeyRefusal::Revoked)
    } else if expires_at.is_some_and(|e| e <= now) {
        Err(KeyRefusal::Expired)
    } else {
        Ok(())
    }
}

/// Whether a use at `now` should be written down, given when the key was last recorded as used.
pub fn use_worth_recording(last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap()
    }

    #[test]
    fn scope_codes_read_back_and_unknown_codes_fail() {
        for s in KeyScope::ALL {
            assert_eq!(KeyScope::try_from(s.code().to_string()), Ok(s));
        }
        assert_eq!(KeyScope::try_from("api".to_string()), Err(UnknownKeyScope("api".into())));
        assert!("Admin".parse::<KeyScope>().is_err());
    }

    #[test]
    fn an_open311_key_submits_and_follows_requests_and_nothing_else() {
        let allowed: Vec<Action> = Action::ALL.into_iter().filter(|a| KeyScope::Open311.permits(*a)).collect();
        assert_eq!(allowed, [Action::SubmitRequest, Action::ViewRequests]);
        assert_eq!(KeyScope::Open311.admits(Surface::Api, false), Err(KeyRefusal::Open311Only));
        assert_eq!(KeyScope::Open311.admits(Surface::Open311, true), Ok(()));
    }

    #[test]
    fn a_read_key_never_writes_reveals_or_exports() {
        for a in [Action::ViewIdCard, Action::ViewPhone, Action::ExportRegistry, Action::EditResident] {
            assert!(!KeyScope::Read.permits(a), "{a:?}");
        }
        assert!(KeyScope::Read.permits(Action::ViewResidents));
        assert_eq!(KeyScope::Read.admits(Surface::Api, true), Err(KeyRefusal::ReadOnly));
        assert_eq!(KeyScope::Read.admits(Surface::Open311, true), Err(KeyRefusal::ReadOnly));
        assert_eq!(KeyScope::Read.admits(Surface::Api, false), Ok(()));
    }

    #[test]
    fn an_admin_key_is_as_good_as_its_account() {
        assert!(Action::ALL.into_iter().all(|a| KeyScope::Admin.permits(a)));
        assert_eq!(KeyScope::Admin.admits(Surface::Api, true), Ok(()));
    }

    #[test]
    fn a_key_dies_when_revoked_or_at_its_expiry() {
        assert_eq!(check_alive(None, None, at(9, 0)), Ok(()));
        assert_eq!(check_alive(None, Some(at(9, 1)), at(9, 0)), Ok(()));
        assert_eq!(check_alive(None, Some(at(9, 0)), at(9, 0)), Err(KeyRefusal::Expired));
        assert_eq!(check_alive(Some(at(8, 0)), Some(at(7, 0)), at(9, 0)), Err(KeyRefusal::Revoked));
    }

    #[test]
    fn lifetimes_are_bounded_and_never_is_explicit() {
        assert_eq!(Lifetime::days(90), Ok(Lifetime::DEFAULT));
        assert_eq!(Lifetime::days(0), Err(LifetimeOutOfRange(0)));
        assert_eq!(Lifetime::days(3651), Err(LifetimeOutOfRange(3651)));
        assert_eq!(Lifetime::days(-1), Err(LifetimeOutOfRange(-1)));
        assert_eq!(Lifetime::Days(2).expires_at(at(9, 0)), Some(at(9, 0) + Duration::days(2)));
        assert_eq!(Lifetime::Never.expires_at(at(9, 0)), None);
    }

    #[test]
    fn use_is_recorded_at_most_once_a_minute() {
        assert!(use_worth_recording(None, at(9, 0)));
        assert!(!use_worth_recording(Some(at(9, 0)), at(9, 0) + Duration::seconds(59)));
        assert!(use_worth_recording(Some(at(9, 0)), at(9, 1)));
    }
}
