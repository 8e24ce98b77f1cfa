//! Accounts, roles and the permission rules.

pub mod api_keys;
mod password;
mod permissions;
pub mod throttle;

pub use api_keys::{KeyRefusal, KeyScope, Lifetime, Surface};
pub use password::{
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordError, WeakPassword, Weakness, check_password_strength,
    hash_password, verify_password,
};
pub use permissions::{Action, Actor, Denied, Scope, authorize};
pub use throttle::{Standing, ThrottleRecord, ThrottleScope, Throttled};

use serde::{Deserialize, Serialize};

/// What a person does in the community. Each account has exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the deployment: accounts, audit, all communities.
    Admin,
    /// Community staff / preparatory group member.
    Staff,
    /// Building social worker (包楼社工), owns some buildings.
    SocialWorker,
    /// Patrol squad member.
    Patrol,
    /// Volunteer (吾家有治 and other teams).
    Volunteer,
    /// Property management company (物业).
    Property,
    /// Developer (开发商).
    Developer,
    /// Street office (街道).
    Street,
    /// Resident, linked to one household.
    Resident,
}

impl Role {
    /// Every role, in the order shown in forms.
    pub const ALL: [Role; 9] = [
        Self::Admin,
        Self::Staff,
        Self::SocialWorker,
        Self::Patrol,
        Self::Volunteer,
        Self::Property,
        Self::Developer,
        Self::Street,
        Self::Resident,
    ];

    /// Stable code stored in the database and used in the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Staff => "staff",
            Self::SocialWorker => "social_worker",
            Self::Patrol => "patrol",
            Self::Volunteer => "volunteer",
            Self::Property => "property",
            Self::Developer => "developer",
            Self::Street => "street",
            Self::Resident => "resident",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// True for roles that work in the staff console rather than the resident portal.
    pub fn is_staff_side(self) -> bool {
        !matches!(self, Self::Resident | Self::Volunteer)
    }
}

/// A role code that names no role: read from the database, it is a fault, never a silent default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role code `{0}`")]
pub struct UnknownRole(pub String);

impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(code: String) -> Result<Self, UnknownRole> {
        Self::from_code(&code).ok_or(UnknownRole(code))
    }
}
