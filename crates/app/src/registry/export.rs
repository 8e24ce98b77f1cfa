//! The register as a file: every row a caller may export, numbers masked unless the role needs them in full.

use crate::{App, AppError, Caller, Result};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::registry::PhoneNumber;
use wujia_core::transfer::{self, Format};
use wujia_store::ExportRecord;

/// The residents of a community as a file in the import template's columns. A building social worker exports her
/// own buildings; others with the right the whole community. How many full ID numbers left is audited.
pub async fn export(app: &App, caller: &Caller, community: i64, format: Format) -> Result<Vec<u8>> {
    let buildings = (caller.role() == Role::SocialWorker).then(|| caller.actor.buildings.clone());
    if buildings.is_none() {
        caller.require(Action::ExportRegistry, Scope::community(community))?;
    } else if !caller.actor.communities.contains(&community) {
        return Err(AppError::NotFound);
    } else if caller.key.is_some_and(|k| !k.permits(Action::ExportRegistry)) {
        return Err(AppError::Forbidden);
    }
    let records = app.store.export_records(community, buildings.as_deref(), app.clock.today()).await?;
    let mut unmasked = 0usize;
    let rows: Vec<Vec<String>> = records
        .iter()
        .filter(|r| caller.can(Action::ExportRegistry, Scope::building(community, r.building_id)))
        .map(|r| {
            let (row, full_id) = row(caller, community, r);
            unmasked += usize::from(full_id);
            row
        })
        .collect();
    let mut change = caller.change(app.clock.now(), "registry.export", Some(community));
    change.entity = "registry".into();
    change.entity_id = community.to_string();
    change.after = serde_json::json!({"rows": rows.len(), "unmasked_id_cards": unmasked, "format": format.extension()});
    app.store.record(&change).await?;
    transfer::write_table(format, &rows).map_err(|e| AppError::Internal(format!("writing the export: {e}")))
}

/// One resident's row, and whether it holds a full ID number.
fn row(caller: &Caller, community: i64, r: &ExportRecord) -> (Vec<String>, bool) {
    let v = &r.resident;
    let scope = Scope::household(community, r.building_id, v.household_id);
    let full_id = caller.can(Action::ViewIdCard, scope) && r.id_card.is_some();
    let id_card = if caller.can(Action::ViewIdCard, scope) { r.id_card.clone() } else { v.id_card_masked.clone() };
    let phone = match (&v.phone, caller.can(Action::ViewPhone, scope)) {
        (Some(p), true) => p.clone(),
        (Some(p), false) => PhoneNumber::parse(p).map(|n| n.masked()).unwrap_or_default(),
        (None, _) => String::new(),
    };
    let row = r.cells(id_card.unwrap_or_default(), phone);
    (row, full_id)
}
