//! The register as a caller is shown it: personal numbers already masked for that caller.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Serialize, Serializer};
use wujia_core::registry::PhoneNumber;
use wujia_store::{Community, CompoundSummary, ResidentView, TagInfo};

/// A resident as the API and pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ResidentOut)]
pub struct Resident {
    /// Id.
    pub id: i64,
    /// Household.
    pub household_id: i64,
    /// Community.
    pub community_id: i64,
    /// Address.
    pub address: String,
    /// Name.
    pub name: String,
    /// `male` or `female`.
    pub gender: String,
    /// Birth date.
    #[schema(value_type = String, format = Date)]
    pub birth_date: NaiveDate,
    /// Age in years.
    pub age: u32,
    /// Masked ID number; the full number is revealed by a logged request.
    pub id_card: Option<String>,
    /// Phone, masked unless the viewer's role needs it.
    pub phone: Option<String>,
    /// True when `phone` is masked.
    pub phone_masked: bool,
    /// Origin community.
    pub origin: Option<String>,
    /// Move-in date.
    #[schema(value_type = Option<String>, format = Date)]
    pub move_in_date: Option<NaiveDate>,
    /// Relation code.
    pub relation: String,
    /// Wedding date.
    #[schema(value_type = Option<String>, format = Date)]
    pub wedding_date: Option<NaiveDate>,
    /// Tag codes, manual and derived.
    pub tags: Vec<String>,
    /// Version for optimistic locking; send it back when updating.
    pub version: i64,
}

impl Resident {
    /// The resident with the phone in full or masked.
    pub(super) fn shown(v: &ResidentView, full_phone: bool) -> Self {
        let phone = v.phone.as_deref().map(|p| match (full_phone, PhoneNumber::parse(p)) {
            (true, _) => p.to_string(),
            (false, Ok(n)) => n.masked(),
            (false, Err(_)) => "****".to_string(),
        });
        Self {
            id: v.id,
            household_id: v.household_id,
            community_id: v.community_id,
            address: v.address.clone(),
            name: v.name.clone(),
            gender: v.gender.clone(),
            birth_date: v.birth_date,
            age: v.age,
            id_card: v.id_card_masked.clone(),
            phone_masked: !full_phone,
            phone,
            origin: v.origin.clone(),
            move_in_date: v.move_in_date,
            relation: v.relation.clone(),
            wedding_date: v.wedding_date,
            tags: v.tags.clone(),
            version: v.version,
        }
    }

    /// True when the full phone number is shown (a read to be audited).
    pub(super) fn full_phone_shown(&self) -> bool {
        !self.phone_masked && self.phone.is_some()
    }
}

/// What the caller may do with a household and its residents.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct HouseholdActions {
    /// Add residents and change them.
    pub edit_residents: bool,
    /// Read residents' full ID numbers (each read audited).
    pub reveal_id_cards: bool,
    /// Give the household a sign-up code.
    pub issue_signup_code: bool,
    /// See the household's requests and reception-day visits.
    pub view_history: bool,
}

/// A household and everyone in it, as the caller may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Building.
    pub building_id: i64,
    /// Full address.
    pub address: String,
    /// Room.
    pub room: String,
    /// Residents, head first.
    pub residents: Vec<Resident>,
    /// What the caller may do here.
    pub actions: HouseholdActions,
}

/// A reception-day visit of a household and what was raised.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdVisit {
    /// When the visitor arrived.
    pub arrived_at: DateTime<Utc>,
    /// What was raised, one entry per demand.
    pub raised: Vec<String>,
}

/// A household's history with the community.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdHistory {
    /// Its requests, newest first (at most 50).
    pub requests: Vec<crate::requests::RequestView>,
    /// Its reception-day visits, newest first.
    pub visits: Vec<HouseholdVisit>,
}

/// The registry's figures for one community.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegistryFigures {
    /// Community.
    pub community_id: i64,
    /// Compounds.
    pub compounds: i64,
    /// Buildings.
    pub buildings: i64,
    /// Households.
    pub households: i64,
    /// Residents.
    pub residents: i64,
    /// Residents by origin community: name → count, every origin listed.
    #[serde(serialize_with = "as_map")]
    #[schema(value_type = std::collections::BTreeMap<String, i64>)]
    pub residents_by_origin: Vec<(String, i64)>,
    /// Residents by tag code (manual and derived): code → count, every tag listed.
    #[serde(serialize_with = "as_map")]
    #[schema(value_type = std::collections::BTreeMap<String, i64>)]
    pub residents_by_tag: Vec<(String, i64)>,
}

impl RegistryFigures {
    /// Residents carrying a tag.
    pub fn with_tag(&self, code: &str) -> i64 {
        self.residents_by_tag.iter().find(|(c, _)| c == code).map_or(0, |(_, n)| *n)
    }
}

/// Pairs in the order the store gives them, as a JSON object (clients look figures up by name).
fn as_map<S: Serializer>(pairs: &[(String, i64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, n)| (k, n)))
}

/// A tag computed from the register (age, living alone), never set by hand.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DerivedTag {
    /// Stable code.
    pub code: &'static str,
    /// Chinese name.
    pub name_zh: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Always true.
    pub derived: bool,
}

/// A tag of the community's own set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tag {
    /// Id.
    pub id: i64,
    /// Stable code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

impl From<TagInfo> for Tag {
    fn from(t: TagInfo) -> Self {
        Self { id: t.id, code: t.code, name_zh: t.name_zh, name_en: t.name_en }
    }
}

/// The community's tags: its own and the computed ones.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TagSet {
    /// Tags the community defined.
    pub tags: Vec<Tag>,
    /// Tags computed from the register.
    pub derived: Vec<DerivedTag>,
}

impl TagSet {
    /// The tag's name in Chinese or English, from the community's set or the derived tags; the code if unknown.
    pub fn label(&self, code: &str, zh: bool) -> String {
        if let Some(t) = self.tags.iter().find(|t| t.code == code) {
            return if zh { t.name_zh.clone() } else { t.name_en.clone() };
        }
        self.derived
            .iter()
            .find(|t| t.code == code)
            .map_or_else(|| code.to_string(), |t| if zh { t.name_zh } else { t.name_en }.to_string())
    }
}

/// What a resident form offers to choose from for one household.
#[derive(Debug, Clone)]
pub struct ResidentFormChoices {
    /// The household's address.
    pub address: String,
    /// The community's origin communities.
    pub origins: Vec<String>,
    /// The community's own tags.
    pub tags: Vec<Tag>,
}

/// A full ID number read, with whose it is.
#[derive(Debug, Clone)]
pub struct IdCardRead {
    /// The resident's name.
    pub name: String,
    /// The resident's household.
    pub household_id: i64,
    /// The full number, if one is registered.
    pub id_card: Option<String>,
}

/// A community as its console shows it.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The community shown.
    pub community_id: i64,
    /// Every community the caller works in.
    pub communities: Vec<Community>,
    /// Its compounds.
    pub compounds: Vec<CompoundSummary>,
    /// Its figures, for those who may see them.
    pub figures: Option<RegistryFigures>,
    /// Its tags (to name the figures by tag), with the figures.
    pub tags: Option<TagSet>,
}
