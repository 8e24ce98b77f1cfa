//! A building social worker's households (我的包楼): who lives there, who needs attention (elderly living alone,
//! the very old, school-age children, disability), open requests and the last reception-day visit.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use wujia_core::accounts::{Action, Scope};
use wujia_store::RequestFilter;

/// Tags that mean a household needs attention, most pressing first.
pub(crate) const NEEDS: [&str; 5] = ["living_alone", "elderly_80", "disability", "school_age", "elderly_60"];

/// `?building_id=&all=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyHouseholdsQuery {
    /// One building (staff may look at any of their community's; social workers at their own).
    pub building_id: Option<i64>,
    /// Every household, not only those that need attention.
    pub all: Option<bool>,
}

/// One household in the worker's list.
#[derive(Debug, Clone, Serialize)]
pub struct MyHousehold {
    /// Household.
    pub household_id: i64,
    /// Building.
    pub building_id: i64,
    /// Address.
    pub address: String,
    /// Head of household (or the first resident).
    pub head: String,
    /// People living there.
    pub members: usize,
    /// Tags of attention present, most pressing first.
    pub needs: Vec<String>,
    /// Open service requests.
    pub open_requests: usize,
    /// The latest reception-day visit.
    pub last_visit: Option<chrono::DateTime<chrono::Utc>>,
}

/// The caller's households and the counts of their needs.
pub(crate) async fn my_households(
    state: &AppState,
    auth: &Auth,
    q: &MyHouseholdsQuery,
) -> Result<(Vec<MyHousehold>, BTreeMap<String, usize>), ApiError> {
    let buildings = match q.building_id {
        Some(b) => {
            let bs = state.store.building(b).await?;
            auth.require(Action::ViewResidents, Scope::building(bs.community_id, b))?;
            if auth.role() == wujia_core::accounts::Role::SocialWorker && !auth.actor.buildings.contains(&b) {
                return Err(ApiError::Forbidden);
            }
            vec![b]
        }
        None if !auth.actor.buildings.is_empty() => auth.actor.buildings.clone(),
        None => return Err(ApiError::field("building_id", "请选择楼栋 / choose a building")),
    };
    let today = state.clock.today();
    let residents = state.store.residents_in_buildings(&buildings, today).await?;
    let community = residents.first().map(|r| r.community_id);
    let mut open: HashMap<i64, usize> = HashMap::new();
    if let Some(c) = community {
        let f = RequestFilter {
            statuses: ["received", "responded", "dispatched", "in_progress"].iter().map(|s| s.to_string()).collect(),
            building_ids: buildings.clone(),
            limit: 1000,
            ..Default::default()
        };
        for r in state.store.requests(c, &f).await? {
            if let Some(h) = r.household_id {
                *open.entry(h).or_default() += 1;
            }
        }
    }
    let visits: HashMap<i64, chrono::DateTime<chrono::Utc>> =
        state.store.last_visits(&buildings).await?.into_iter().collect();
    let mut out: Vec<MyHousehold> = Vec::new();
    let mut counts: BTreeMap<String, usize> = NEEDS.iter().map(|n| (n.to_string(), 0)).collect();
    for r in residents {
        if out.last().is_none_or(|h| h.household_id != r.household_id) {
            out.push(MyHousehold {
                household_id: r.household_id,
                building_id: r.building_id,
                address: r.address.clone(),
                head: r.name.clone(),
                members: 0,
                needs: Vec::new(),
                open_requests: open.get(&r.household_id).copied().unwrap_or(0),
                last_visit: visits.get(&r.household_id).copied(),
            });
        }
        let h = out.last_mut().expect("pushed above");
        h.members += 1;
        for t in &r.tags {
            if NEEDS.contains(&t.as_str()) && !h.needs.contains(t) {
                h.needs.push(t.clone());
                *counts.entry(t.clone()).or_default() += 1;
            }
        }
    }
    for h in &mut out {
        h.needs.sort_by_key(|n| NEEDS.iter().position(|x| x == n));
    }
    if !q.all.unwrap_or(false) {
        out.retain(|h| !h.needs.is_empty() || h.open_requests > 0);
    }
    Ok((out, counts))
}

/// A building social worker's households: needs, open requests and the last reception-day visit.
#[utoipa::path(get, path = "/api/v1/my/households", operation_id = "list_my_households", tag = "registry", params(MyHouseholdsQuery),
    responses((status = 200, description = "Households")), security(("bearer" = [])))]
pub async fn list_my_households(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MyHouseholdsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (list, counts) = my_households(&state, &auth, &q).await?;
    Ok(Json(serde_json::json!({"households": list, "needs": counts})))
}
