//! Figures for a part of a community — one building or the buildings of a compound — for the dashboard's filters:
//! patrol findings and open illegal construction there, reception-day visits and activity attendance of the
//! households living there.

use crate::{Result, Store, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What happened in some buildings over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BuildingFigures {
    /// Patrol findings.
    pub findings: i64,
    /// Of them fixed on the spot.
    pub fixed_on_spot: i64,
    /// Illegal construction (and window guards) not yet removed, now.
    pub open_illegal_construction_cases: i64,
    /// Reception-day visits by their households.
    pub visits: i64,
    /// Activity check-ins of their residents.
    pub attendance: i64,
}

/// `(1,2,3)` for an `IN` list; the ids are numbers, so nothing from outside reaches the SQL text.
pub(crate) fn id_list(ids: &[i64]) -> String {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("({})", if ids.is_empty() { "NULL".to_string() } else { ids.join(",") })
}

impl Store {
    /// The figures of `buildings` of a community over `start..end`.
    pub async fn building_figures(
        &self,
        community_id: i64,
        buildings: &[i64],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BuildingFigures> {
        let ids = id_list(buildings);
        let findings = format!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN fixed_on_spot THEN 1 ELSE 0 END), 0) FROM patrol_findings \
             WHERE community_id = $1 AND building_id IN {ids} AND recorded_at >= $2 AND recorded_at < $3"
        );
        let cases = format!(
            "SELECT COUNT(*) FROM rectification_cases WHERE community_id = $1 AND building_id IN {ids} \
             AND status <> 'closed' AND kind IN ('window_guard', 'illegal_construction')"
        );
        let visits = format!(
            "SELECT COUNT(*) FROM reception_visits v JOIN households h ON h.id = v.household_id \
             WHERE v.community_id = $1 AND h.building_id IN {ids} AND v.arrived_at >= $2 AND v.arrived_at < $3"
        );
        let attendance = format!(
            "SELECT COUNT(*) FROM activity_registrations g JOIN households h ON h.id = g.household_id \
             JOIN activities a ON a.id = g.activity_id WHERE a.community_id = $1 AND h.building_id IN {ids} \
             AND g.checked_in_at IS NOT NULL AND a.starts_at >= $2 AND a.starts_at < $3"
        );
        Ok(with_db!(self, read, pool, _pg => {
            let (findings, fixed_on_spot): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(findings))
                .bind(community_id).bind(start).bind(end).fetch_one(pool).await?;
            let open: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(cases)).bind(community_id).fetch_one(pool).await?;
            let visits: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(visits))
                .bind(community_id).bind(start).bind(end).fetch_one(pool).await?;
            let attendance: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(attendance))
                .bind(community_id).bind(start).bind(end).fetch_one(pool).await?;
            BuildingFigures { findings, fixed_on_spot, open_illegal_construction_cases: open, visits, attendance }
        }))
    }

    /// Per building of a community: patrol findings recorded in `start..end`, and rectification cases open now.
    pub async fn patrol_counts_by_building(
        &self,
        community_id: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<i64, (i64, i64)>> {
        // (building, count) rows of each kind.
        type Counts = Vec<(i64, i64)>;
        let (findings, cases): (Counts, Counts) = with_db!(self, read, pool, _pg => {
            let findings = sqlx::query_as(
                "SELECT building_id, COUNT(*) FROM patrol_findings WHERE community_id = $1 AND building_id IS NOT NULL \
                 AND recorded_at >= $2 AND recorded_at < $3 GROUP BY building_id",
            )
            .bind(community_id).bind(start).bind(end).fetch_all(pool).await?;
            let cases = sqlx::query_as(
                "SELECT building_id, COUNT(*) FROM rectification_cases WHERE community_id = $1 AND building_id IS NOT NULL \
                 AND status <> 'closed' GROUP BY building_id",
            )
            .bind(community_id).fetch_all(pool).await?;
            (findings, cases)
        });
        let mut out: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for (b, n) in findings {
            out.entry(b).or_default().0 = n;
        }
        for (b, n) in cases {
            out.entry(b).or_default().1 = n;
        }
        Ok(out)
    }
}
