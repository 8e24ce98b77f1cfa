//! The register of households: what a caller may see of buildings, units and the people in them, and who may
//! change it. Every read of a full phone or ID number is audited here, where it is decided.

mod export;
mod views;

pub use export::export;
pub use views::{
    DerivedTag, HouseholdActions, HouseholdHistory, HouseholdView, HouseholdVisit, IdCardRead, Overview,
    RegistryFigures, Resident, ResidentFormChoices, Tag, TagSet,
};

use crate::{App, AppError, Caller, Result, requests};
use wujia_core::accounts::{Action, Scope};
use wujia_core::registry::{DERIVED_TAGS, ResidentInput};
use wujia_store::{
    BuildingSummary, Community, CompoundSummary, RequestFilter, ResidentView, SearchHit, UnitWithHouseholds,
};

/// Outside the caller's communities a record is absent; inside but not permitted it is refused.
pub fn visible(caller: &Caller, action: Action, scope: Scope) -> Result<()> {
    if scope.community.is_some_and(|c| !caller.actor.communities.contains(&c)) {
        return Err(AppError::NotFound);
    }
    caller.require(action, scope)
}

fn resident_scope(v: &ResidentView) -> Scope {
    Scope::household(v.community_id, v.building_id, v.household_id)
}

/// A resident shaped for the caller: the phone in full only for those whose role needs it.
fn shown(caller: &Caller, v: &ResidentView) -> Resident {
    Resident::shown(v, caller.can(Action::ViewPhone, resident_scope(v)))
}

/// Records that the caller was shown these residents' full phone numbers (nothing when none was).
async fn audit_phone_reads(app: &App, caller: &Caller, shown: &[Resident], community: i64) -> Result<()> {
    let ids: Vec<i64> = shown.iter().filter(|r| r.full_phone_shown()).map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let mut change = caller.change(app.clock.now(), "resident.read_phone", Some(community));
    change.entity = "resident".into();
    change.entity_id = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    change.after = serde_json::json!({"fields": ["phone"], "residents": ids});
    app.store.record(&change).await?;
    Ok(())
}

/// What an address a caller typed (`3-7-1-102`, `3号院7号楼1单元102`) comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressMatch {
    /// Exactly one household.
    One(i64),
    /// No household there.
    Nobody,
    /// Several: the address stops short of the room.
    Several,
}

impl AddressMatch {
    /// The household, or an error on `field` telling the caller how to write the address.
    pub fn household(self, field: &str) -> Result<i64> {
        match self {
            Self::One(h) => Ok(h),
            Self::Nobody => Err(AppError::field(
                field,
                "找不到这个住户地址，请写成 1-2-1-101 或 1号院2号楼1单元101 / no household at this address: write it as \
                 1-2-1-101 or 1号院2号楼1单元101",
            )),
            Self::Several => {
                Err(AppError::field(field, "地址不完整，请写到门牌号 / give the full address down to the room"))
            }
        }
    }
}

/// The households at an address a caller typed, for a caller who may do `action` in that community. The right is
/// checked before the lookup, and the lookup is by address only: a phone number, an ID number or a name never
/// becomes a home, so the answer reveals nothing about who lives where.
pub async fn household_at_address(
    app: &App,
    caller: &Caller,
    community: i64,
    action: Action,
    text: &str,
) -> Result<AddressMatch> {
    caller.require(action, Scope::community(community))?;
    let hits = app.store.households_at_address(community, text.trim(), 5).await?;
    let mut ids: Vec<i64> = hits.iter().map(|h| h.household_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(match ids.as_slice() {
        [one] => AddressMatch::One(*one),
        [] => AddressMatch::Nobody,
        _ => AddressMatch::Several,
    })
}

/// The communities the caller works in.
pub async fn communities(app: &App, caller: &Caller) -> Result<Vec<Community>> {
    let all = app.store.communities().await?;
    Ok(all.into_iter().filter(|c| caller.actor.communities.contains(&c.id)).collect())
}

/// The registry's figures of a community (the caller's first when none is named).
pub async fn figures(app: &App, caller: &Caller, community: Option<i64>) -> Result<RegistryFigures> {
    let community = caller.community(community)?;
    caller.require(Action::ViewSummary, Scope::community(community))?;
    let s = app.store.registry_summary(community, app.clock.today()).await?;
    Ok(RegistryFigures {
        community_id: s.community_id,
        compounds: s.compounds,
        buildings: s.buildings,
        households: s.households,
        residents: s.residents,
        residents_by_origin: s.residents_by_origin,
        residents_by_tag: s.residents_by_tag,
    })
}

/// A community as its console shows it: its compounds, and its figures and tag names for those who may see them
/// (the property company sees the compounds only).
pub async fn overview(app: &App, caller: &Caller, community: Option<i64>) -> Result<Overview> {
    let compounds = compounds(app, caller, community).await?;
    let community = caller.community(community)?;
    let communities = communities(app, caller).await?;
    let (figures, tags) = if caller.can(Action::ViewSummary, Scope::community(community)) {
        (Some(figures(app, caller, Some(community)).await?), Some(tags(app, caller, Some(community)).await?))
    } else {
        (None, None)
    };
    Ok(Overview { community_id: community, communities, compounds, figures, tags })
}

/// The compounds of a community.
pub async fn compounds(app: &App, caller: &Caller, community: Option<i64>) -> Result<Vec<CompoundSummary>> {
    let community = caller.community(community)?;
    caller.require(Action::ViewAddresses, Scope::community(community))?;
    Ok(app.store.compounds(community).await?)
}

/// A compound and its buildings.
pub async fn compound_buildings(
    app: &App,
    caller: &Caller,
    compound_id: i64,
) -> Result<(CompoundSummary, Vec<BuildingSummary>)> {
    let compound = app.store.compound(compound_id).await?;
    visible(caller, Action::ViewAddresses, Scope::community(compound.community_id))?;
    let buildings = app.store.buildings(compound_id).await?;
    Ok((compound, buildings))
}

/// A building with its units and households. The names of heads of household are personal data: shown only to
/// those who may see the building's residents (the property company sees addresses, not names).
pub async fn building_units(
    app: &App,
    caller: &Caller,
    building_id: i64,
) -> Result<(BuildingSummary, Vec<UnitWithHouseholds>)> {
    let building = app.store.building(building_id).await?;
    let scope = Scope::building(building.community_id, building.id);
    visible(caller, Action::ViewAddresses, scope)?;
    let mut units = app.store.units(building_id).await?;
    if !caller.can(Action::ViewResidents, scope) {
        for h in units.iter_mut().flat_map(|u| u.households.iter_mut()) {
            h.head_name = None;
        }
    }
    Ok((building, units))
}

/// The longest query a search takes, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// Households by address, or residents by name, phone tail, phone or ID number, as the caller may see them:
/// a person is found only by those who may see the residents of her building, and names are left out otherwise.
pub async fn search(app: &App, caller: &Caller, community: Option<i64>, q: &str, limit: i64) -> Result<Vec<SearchHit>> {
    let community = caller.community(community)?;
    caller.require(Action::ViewAddresses, Scope::community(community))?;
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::field("q", "搜索内容过长 / the query is too long"));
    }
    let mut hits = app.store.search(community, q, limit.clamp(1, 200)).await?;
    hits.retain_mut(|h| {
        let scope = Scope::household(community, h.building_id, h.household_id);
        if caller.can(Action::ViewResidents, scope) {
            true
        } else {
            h.name = None;
            h.resident_id.is_none()
        }
    });
    Ok(hits)
}

/// A household and its residents as the caller may see them; full phone reads are audited.
pub async fn household(app: &App, caller: &Caller, id: i64) -> Result<HouseholdView> {
    let h = app.store.household(id, app.clock.today()).await?;
    let scope = Scope::household(h.community_id, h.building_id, h.id);
    visible(caller, Action::ViewResidents, scope)?;
    let residents: Vec<Resident> = h.residents.iter().map(|r| shown(caller, r)).collect();
    audit_phone_reads(app, caller, &residents, h.community_id).await?;
    Ok(HouseholdView {
        id: h.id,
        community_id: h.community_id,
        building_id: h.building_id,
        address: h.address,
        room: h.room,
        residents,
        actions: HouseholdActions {
            edit_residents: caller.can(Action::EditResident, scope),
            reveal_id_cards: caller.can(Action::ViewIdCard, scope),
            issue_signup_code: caller.can(Action::IssueSignupCode, scope),
            view_history: caller.can(Action::ViewRequests, scope) && caller.role().is_staff_side(),
        },
    })
}

/// A household's requests and reception-day visits, for staff-side callers who may see its requests.
pub async fn household_history(app: &App, caller: &Caller, household: &HouseholdView) -> Result<HouseholdHistory> {
    if !household.actions.view_history {
        return Err(AppError::Forbidden);
    }
    let filter = RequestFilter { household_id: Some(household.id), limit: 50, ..Default::default() };
    let rows = app.store.requests(household.community_id, &filter).await?;
    let requests = requests::listed(caller, rows)?;
    let mut visits = Vec::new();
    for v in app.store.household_visits(household.id).await? {
        let raised = app.store.demands(v.id).await?.into_iter().map(|d| d.text).collect();
        visits.push(HouseholdVisit { arrived_at: v.arrived_at, raised });
    }
    Ok(HouseholdHistory { requests, visits })
}

/// One resident, as the caller may see her; a full phone read is audited.
pub async fn resident(app: &App, caller: &Caller, id: i64) -> Result<Resident> {
    let v = app.store.resident(id, app.clock.today()).await?;
    visible(caller, Action::ViewResidents, resident_scope(&v))?;
    let out = shown(caller, &v);
    audit_phone_reads(app, caller, std::slice::from_ref(&out), v.community_id).await?;
    Ok(out)
}

/// A resident as the edit form shows her, for those who may change her; a full phone read is audited.
pub async fn resident_to_edit(app: &App, caller: &Caller, id: i64) -> Result<Resident> {
    let v = app.store.resident(id, app.clock.today()).await?;
    visible(caller, Action::EditResident, resident_scope(&v))?;
    let out = shown(caller, &v);
    audit_phone_reads(app, caller, std::slice::from_ref(&out), v.community_id).await?;
    Ok(out)
}

/// The household of a resident, for those who may change her (a form shown again after a refused change).
pub async fn household_of(app: &App, caller: &Caller, resident: i64) -> Result<i64> {
    let v = app.store.resident(resident, app.clock.today()).await?;
    visible(caller, Action::EditResident, resident_scope(&v))?;
    Ok(v.household_id)
}

/// What a resident form of a household offers, for those who may add or change its residents.
pub async fn resident_form_choices(app: &App, caller: &Caller, household: i64) -> Result<ResidentFormChoices> {
    let h = app.store.household(household, app.clock.today()).await?;
    visible(caller, Action::EditResident, Scope::household(h.community_id, h.building_id, h.id))?;
    let origins = app.store.origins(h.community_id).await?.into_iter().map(|(_, name)| name).collect();
    let tags = app.store.tags(h.community_id).await?.into_iter().map(Tag::from).collect();
    Ok(ResidentFormChoices { address: h.address, origins, tags })
}

/// Adds a resident to a household.
pub async fn add_resident(app: &App, caller: &Caller, household: i64, input: &ResidentInput) -> Result<Resident> {
    let today = app.clock.today();
    let h = app.store.household(household, today).await?;
    visible(caller, Action::EditResident, Scope::household(h.community_id, h.building_id, h.id))?;
    let draft = input.parse(today)?;
    let change = caller.change(app.clock.now(), "resident.create", Some(h.community_id));
    let v = app.store.create_resident(household, &draft, change, today).await?;
    Ok(shown(caller, &v))
}

/// Changes a resident if she is still at `version`. A masked phone sent back unchanged keeps the stored number.
pub async fn edit_resident(
    app: &App,
    caller: &Caller,
    id: i64,
    version: i64,
    input: &ResidentInput,
) -> Result<Resident> {
    let today = app.clock.today();
    let before = app.store.resident(id, today).await?;
    visible(caller, Action::EditResident, resident_scope(&before))?;
    let mut input = input.clone();
    if input.phone.contains('*') {
        input.phone = before.phone.clone().unwrap_or_default();
    }
    let draft = input.parse(today)?;
    let change = caller.change(app.clock.now(), "resident.update", Some(before.community_id));
    let v = app.store.update_resident(id, version, &draft, change, today).await?;
    Ok(shown(caller, &v))
}

/// A resident's full ID number, for those whose role needs it; the read is audited.
pub async fn reveal_id_card(app: &App, caller: &Caller, id: i64) -> Result<IdCardRead> {
    let v = app.store.resident(id, app.clock.today()).await?;
    visible(caller, Action::ViewIdCard, resident_scope(&v))?;
    let mut change = caller.change(app.clock.now(), "resident.read_id_card", Some(v.community_id));
    change.entity = "resident".into();
    change.entity_id = id.to_string();
    change.after = serde_json::json!({"fields": ["id_card"]});
    let id_card = app.store.reveal_id_card(id, &change).await?;
    Ok(IdCardRead { name: v.name, household_id: v.household_id, id_card })
}

/// The community's tags, for those who see its residents or its figures.
pub async fn tags(app: &App, caller: &Caller, community: Option<i64>) -> Result<TagSet> {
    let community = caller.community(community)?;
    let scope = Scope::community(community);
    if !caller.can(Action::ViewResidents, scope) {
        caller.require(Action::ViewSummary, scope)?;
    }
    let tags = app.store.tags(community).await?.into_iter().map(Tag::from).collect();
    let derived = DERIVED_TAGS
        .iter()
        .map(|&(code, name_zh, name_en)| DerivedTag { code, name_zh, name_en, derived: true })
        .collect();
    Ok(TagSet { tags, derived })
}

/// A new tag of a community's set.
#[derive(Debug, Clone)]
pub struct NewTag {
    /// The community; the caller's first when none.
    pub community_id: Option<i64>,
    /// Code: lower-case letters, digits and `_`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// Adds a tag to the community's set.
pub async fn add_tag(app: &App, caller: &Caller, new: &NewTag) -> Result<Tag> {
    let community = caller.community(new.community_id)?;
    caller.require(Action::ManageTags, Scope::community(community))?;
    let code = new.code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(AppError::field("code", "代码须为小写字母、数字或下划线 / lower-case letters, digits and _ only"));
    }
    if DERIVED_TAGS.iter().any(|(c, _, _)| *c == code) {
        return Err(AppError::Conflict("该代码为系统计算标签 / this code is a computed tag".into()));
    }
    let (zh, en) = (new.name_zh.trim(), new.name_en.trim());
    let mut issues = Vec::new();
    if zh.is_empty() || zh.chars().count() > 20 {
        issues.push(crate::FieldIssue::new("name_zh", "中文名称为 1–20 个字符 / 1–20 characters"));
    }
    if en.is_empty() || en.chars().count() > 40 {
        issues.push(crate::FieldIssue::new("name_en", "英文名称为 1–40 个字符 / 1–40 characters"));
    }
    if !issues.is_empty() {
        return Err(AppError::Validation(issues));
    }
    let change = caller.change(app.clock.now(), "tag.create", Some(community));
    Ok(app.store.create_tag(community, code, zh, en, change).await?.into())
}
