//! What a viewer is shown of a record: personal numbers masked unless the role needs them.

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::i18n::Lang;
use serde::Serialize;
use wujia_core::accounts::{Action, Scope};
use wujia_core::registry::{DERIVED_TAGS, PhoneNumber, Relation};
use wujia_store::{ResidentView, TagInfo};

/// A resident as the API and pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResidentOut {
    /// Id.
    pub id: i64,
    /// Household.
    pub household_id: i64,
    /// Address.
    pub address: String,
    /// Name.
    pub name: String,
    /// `male` or `female`.
    pub gender: String,
    /// Birth date.
    #[schema(value_type = String, format = Date)]
    pub birth_date: chrono::NaiveDate,
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
    pub move_in_date: Option<chrono::NaiveDate>,
    /// Relation code.
    pub relation: String,
    /// Wedding date.
    #[schema(value_type = Option<String>, format = Date)]
    pub wedding_date: Option<chrono::NaiveDate>,
    /// Tag codes, manual and derived.
    pub tags: Vec<String>,
    /// Version for optimistic locking; send it back when updating.
    pub version: i64,
}

/// The scope of a resident for permission checks.
pub fn resident_scope(v: &ResidentView) -> Scope {
    Scope::household(v.community_id, v.building_id, v.household_id)
}

/// Shapes a resident for `auth`, masking what the role may not see.
pub fn resident_out(auth: &Auth, v: &ResidentView) -> ResidentOut {
    let full_phone = auth.can(Action::ViewPhone, resident_scope(v));
    let phone = v.phone.as_deref().map(|p| match (full_phone, PhoneNumber::parse(p)) {
        (true, _) => p.to_string(),
        (false, Ok(n)) => n.masked(),
        (false, Err(_)) => "****".to_string(),
    });
    ResidentOut {
        id: v.id,
        household_id: v.household_id,
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

/// Records that `auth` was shown full phone numbers of these residents.
pub async fn log_phone_reads(
    state: &AppState,
    auth: &Auth,
    shown: &[ResidentOut],
    community: i64,
) -> Result<(), ApiError> {
    let ids: Vec<i64> = shown.iter().filter(|r| !r.phone_masked && r.phone.is_some()).map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut change = auth.change(state, "resident.read_phone", Some(community));
    change.entity = "resident".into();
    change.entity_id = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    change.after = serde_json::json!({"fields": ["phone"], "residents": ids});
    state.store.record(&change).await?;
    Ok(())
}

/// Label of a relation code in a language.
pub fn relation_label(code: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => Relation::ALL.iter().find(|r| r.code() == code).map_or(code, |r| r.zh()).to_string(),
        Lang::En => lang.t(&format!("relation.{code}")).to_string(),
    }
}

/// Label of a tag code in a language, from the community's tag set or the derived tags.
pub fn tag_label(code: &str, tags: &[TagInfo], lang: Lang) -> String {
    if let Some(t) = tags.iter().find(|t| t.code == code) {
        return if lang == Lang::Zh { t.name_zh.clone() } else { t.name_en.clone() };
    }
    DERIVED_TAGS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(code.to_string(), |(_, zh, en)| if lang == Lang::Zh { zh.to_string() } else { en.to_string() })
}
