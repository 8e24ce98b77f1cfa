//! The governance dashboard (治理驾驶舱): the four pillars of a community at a glance for a period — the three
//! rates and their trend, open and overdue requests and emergencies now; patrol rounds and open illegal
//! construction; reception-day demands answered, volunteers and hours; activity participation and integration.

use super::catalogue::{CalendarWarning, calendar_warning};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use crate::i18n::Lang;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{Datelike, Duration};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wujia_app::period::date as parse_date;
use wujia_core::accounts::{Action, Scope};

/// `?from=&to=&community_id=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// First Beijing date (default: the first of the month a year ago).
    pub from: Option<String>,
    /// Last Beijing date, inclusive (default: today).
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
    /// Only the buildings of this compound (院).
    pub compound_id: Option<i64>,
    /// Only this building.
    pub building_id: Option<i64>,
}

/// A part of a community to look at: one building, the buildings of a compound, or (both `None`) all of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Part {
    /// A compound.
    pub compound_id: Option<i64>,
    /// A building (wins over the compound).
    pub building_id: Option<i64>,
}

/// The buildings of a part of community `c`; empty for the whole community. A building or compound of another
/// community is refused by name.
async fn buildings_of(state: &AppState, c: i64, part: Part) -> Result<Vec<i64>, ApiError> {
    if let Some(b) = part.building_id {
        return match state.store.building(b).await {
            Ok(x) if x.community_id == c => Ok(vec![b]),
            _ => Err(ApiError::field("building_id", "本社区没有这栋楼 / no such building in this community")),
        };
    }
    if let Some(k) = part.compound_id {
        return match state.store.compound(k).await {
            Ok(x) if x.community_id == c => Ok(state.store.buildings(k).await?.into_iter().map(|b| b.id).collect()),
            _ => Err(ApiError::field("compound_id", "本社区没有这个院 / no such compound in this community")),
        };
    }
    Ok(Vec::new())
}

/// The four pillars of a community, and `calendar_warning` ([`CalendarWarning`], or `null`) when the holiday
/// calendar lacks this year or, from December, next year.
#[utoipa::path(get, path = "/api/v1/dashboard", operation_id = "get_dashboard", tag = "dashboard", params(DashboardQuery),
    responses((status = 200, description = "The four pillars")), security(("bearer" = [])))]
pub async fn get_dashboard(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> Result<Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    let part = Part { compound_id: q.compound_id, building_id: q.building_id };
    let mut d = dashboard(&state, &auth, c, q.from.as_deref(), q.to.as_deref(), part).await?;
    let warning: Option<CalendarWarning> = calendar_warning(&state, Lang::from_headers(&headers)).await?;
    d["calendar_warning"] = json!(warning);
    Ok(Json(d))
}

/// The dashboard of one community, or of a part of it, as JSON, shared with the page. For a part, the figures that
/// belong to places (requests, findings, illegal construction, visits and attendance of its households) cover the
/// part; those of the whole community (rounds, reception days, volunteers, the integration measure) are kept and
/// listed under `scope.community_wide`.
pub(crate) async fn dashboard(
    state: &AppState,
    auth: &Auth,
    c: i64,
    from: Option<&str>,
    to: Option<&str>,
    part: Part,
) -> Result<Value, ApiError> {
    auth.require(Action::ViewSummary, Scope::community(c))?;
    let today = state.clock.today();
    let to = to.filter(|s| !s.is_empty()).map(|s| parse_date("to", s)).transpose()?.unwrap_or(today);
    let from = from
        .filter(|s| !s.is_empty())
        .map(|s| parse_date("from", s))
        .transpose()?
        .unwrap_or_else(|| (to - Duration::days(365)).with_day(1).unwrap_or(to));
    if to < from || (to - from).num_days() > 1100 {
        return Err(ApiError::field("to", "期间应在三年以内且不早于开始日期 / at most three years, not before from"));
    }
    let now = state.clock.now();

    // Service: the three rates over the period and month by month, from the running tallies; what is open now.
    let buildings = buildings_of(state, c, part).await?;
    let tallies = state.store.request_tallies(c, from, to + Duration::days(1), now, &buildings, false).await?;
    let trend: Vec<Value> = tallies
        .iter()
        .filter(|((dim, _), _)| dim == "month")
        .map(|((_, m), t)| json!({"month": m, "rates": t.rates()}))
        .collect();
    let overall = tallies.get(&("all".to_string(), String::new())).copied().unwrap_or_default().rates();
    let (open, overdue, emergencies_open) = state.store.open_request_figures(c, now, &buildings).await?;
    let service = json!({
        "rates": overall,
        "trend": trend,
        "open": open,
        "overdue": overdue,
        "emergencies_open": emergencies_open,
    });

    let (f, t) = (from.to_string(), to.to_string());
    let period = wujia_app::period::PeriodQuery { from: Some(f.clone()), to: Some(t.clone()), community_id: Some(c) };
    let order = wujia_app::patrol::summary(&state.app, auth, &period).await?;
    let period = wujia_app::period::PeriodQuery { from: Some(f.clone()), to: Some(t.clone()), community_id: Some(c) };
    let reception = wujia_app::reception::summary(&state.app, auth, &period).await?;
    let volunteers = state.store.volunteer_facts(c, from, to).await?;
    let integration = super::activities::summary(
        state,
        c,
        &super::activities::PeriodQuery { from: Some(f.clone()), to: Some(t.clone()), community_id: None },
    )
    .await?;
    // Acting before the complaint: what the detector proposed and what became of it.
    let mut proactive: BTreeMap<String, usize> =
        ["open", "accepted", "done", "dismissed"].iter().map(|s| (s.to_string(), 0)).collect();
    for p in state.store.proposals(c, None).await? {
        *proactive.entry(p.status).or_default() += 1;
    }
    let mut out = json!({
        "community_id": c, "from": from, "to": to,
        "proactive": proactive,
        "service": service,
        "order": {
            "rounds": order.figures.rounds, "findings": order.figures.findings, "fixed_on_spot_share": order.figures.fixed_on_spot_share,
            "open_illegal_construction_cases": order.open_illegal_construction_cases, "actions_on_time_share": order.figures.actions_on_time_share,
        },
        "self_governance": {
            "sessions": reception.figures.sessions, "visits": reception.figures.visits, "demands": reception.figures.demands,
            "volunteers": volunteers.volunteers, "volunteers_joined": volunteers.joined, "volunteer_hours": (volunteers.hours * 10.0).round() / 10.0,
        },
        "integration": {
            "activities": integration["activities"], "attendance": integration["attendance"],
            "mean_mixing_index": integration["integration"]["mean_mixing_index"],
            "three_or_more_share": integration["integration"]["three_or_more_share"],
            "new_cross_origin_ties": integration["integration"]["new_cross_origin_ties"],
            "households_never_attended": integration["households_never_attended"],
        },
    });
    if !buildings.is_empty() {
        let (start, end) =
            (wujia_app::period::beijing_start(from), wujia_app::period::beijing_start(to + Duration::days(1)));
        let b = state.store.building_figures(c, &buildings, start, end).await?;
        out["order"]["findings"] = json!(b.findings);
        out["order"]["fixed_on_spot_share"] =
            if b.findings > 0 { json!(b.fixed_on_spot as f64 / b.findings as f64) } else { Value::Null };
        out["order"]["open_illegal_construction_cases"] = json!(b.open_illegal_construction_cases);
        out["self_governance"]["visits"] = json!(b.visits);
        out["integration"]["attendance"] = json!(b.attendance);
        out["scope"] = json!({
            "compound_id": part.compound_id, "building_id": part.building_id, "buildings": buildings,
            "community_wide": ["order.rounds", "order.actions_on_time_share", "self_governance.sessions", "self_governance.demands",
                "self_governance.volunteers", "self_governance.volunteers_joined", "self_governance.volunteer_hours",
                "integration.activities", "integration.mean_mixing_index", "integration.three_or_more_share",
                "integration.new_cross_origin_ties", "integration.households_never_attended", "proactive"],
        });
    }
    Ok(out)
}
