//! The registry: community → compound → building → unit → household → residents.

mod address;
mod id_card;
mod phone;
mod prefix;
mod resident;

pub use address::{AddressQuery, format_address};
pub use id_card::{IdCardError, IdCardNumber, check_char};
pub use phone::{PhoneError, PhoneNumber};
pub use prefix::prefix_end;
pub use resident::{FieldError, Gender, Relation, ResidentDraft, ResidentInput, age_on, derived_tags, parse_date};

/// The tags every community starts with. Staff may add more; derived tags are computed, never stored.
pub const BUILTIN_TAGS: &[(&str, &str, &str)] = &[
    ("living_alone", "独居", "Living alone"),
    ("disability", "残疾", "Disability"),
    ("party_member", "党员", "Party member"),
    ("volunteer", "志愿者", "Volunteer"),
    ("low_income", "低保", "Low income"),
];

/// Tags computed from birth and wedding dates on a given day.
pub const DERIVED_TAGS: &[(&str, &str, &str)] = &[
    ("elderly_60", "60岁以上", "Aged 60+"),
    ("elderly_80", "80岁以上", "Aged 80+"),
    ("school_age", "适龄学童(6–15岁)", "School-age child (6–15)"),
    ("golden_wedding", "结婚50年以上", "Married 50+ years"),
];
