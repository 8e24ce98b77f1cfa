//! The register of households: what a caller may see of buildings, units and the people in them.

use crate::{App, AppError, Caller, Result};
use wujia_core::accounts::{Action, Scope};
use wujia_store::{BuildingSummary, UnitWithHouseholds};

/// Outside the caller's communities a record is absent; inside but not permitted it is refused.
pub fn visible(caller: &Caller, action: Action, scope: Scope) -> Result<()> {
    if scope.community.is_some_and(|c| !caller.actor.communities.contains(&c)) {
        return Err(AppError::NotFound);
    }
    caller.require(action, scope)
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
