//! The three rates over any period from the running tallies that triggers keep per community, Beijing day and
//! dimension, plus what depends on the moment of reading (requests past a deadline without an answer), counted from
//! the open requests.

use crate::{Result, Store, beijing, beijing_midnight, with_db};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use wujia_core::requests::Tally;

/// Tallies of a period by dimension: `all` (key ``), `category` (top-level code), `channel`, `building` (id),
/// `handler` (lead's id) and `month` (`YYYY-MM`, Beijing); a key of `` means none (no building, no lead).
pub type Tallies = BTreeMap<(String, String), Tally>;

/// One summed tally row: dimension, key and the nine sums.
type SumRow = (String, String, i64, i64, i64, i64, i64, i64, i64, i64, i64);

/// An open request past a deadline: top-level category, channel, building, lead, month received.
type LateRow = (String, String, Option<i64>, Option<i64>, DateTime<Utc>);

// PostgreSQL sums BIGINT as NUMERIC; the casts keep both backends' sums 64-bit integers.
const SUMS: &str = "CAST(SUM(requests) AS BIGINT), CAST(SUM(responded) AS BIGINT), CAST(SUM(responded_on_time) AS BIGINT), CAST(SUM(resp_seconds) AS BIGINT), \
     CAST(SUM(resolved) AS BIGINT), CAST(SUM(res_seconds) AS BIGINT), CAST(SUM(followed) AS BIGINT), CAST(SUM(solved_halves) AS BIGINT), CAST(SUM(satisfied) AS BIGINT)";

/// ` AND r.building_id IN (1,2)` for a set of buildings, nothing for none; ids are numbers, never outside text.
fn in_buildings(buildings: &[i64]) -> String {
    if buildings.is_empty() {
        String::new()
    } else {
        format!(" AND r.building_id IN ({})", buildings.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
    }
}

fn month_of(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing()).format("%Y-%m").to_string()
}

impl Store {
    /// The tallies of requests received on Beijing days `from..to` (exclusive) in a community, as of `now`: `all`
    /// and `month` always, the other dimensions when `breakdown` is asked for. With `buildings`, only those
    /// buildings' requests: `all`, `month` and `building` then cover them alone, and the other dimensions are left
    /// out (a tally is kept per dimension, not per combination).
    pub async fn request_tallies(
        &self,
        community_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
        buildings: &[i64],
        breakdown: bool,
    ) -> Result<Tallies> {
        let (first, last) = (from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string());
        // Building ids are numbers: the list is written into the SQL without anything from outside.
        let (rows_of, all_of) = if buildings.is_empty() {
            let rows_of = if breakdown { String::new() } else { " AND dim = 'all'".to_string() };
            (rows_of, "dim = 'all'".to_string())
        } else {
            let keys: Vec<String> = buildings.iter().map(|b| format!("'{b}'")).collect();
            let only = format!("dim = 'building' AND key IN ({})", keys.join(","));
            (format!(" AND {only}"), only)
        };
        let sql = format!(
            "SELECT dim, key, {SUMS} FROM request_tallies WHERE community_id = $1 AND day >= $2 AND day < $3{rows_of} \
             GROUP BY dim, key \
             UNION ALL SELECT 'month', substr(day, 1, 7), {SUMS} FROM request_tallies \
             WHERE community_id = $1 AND day >= $2 AND day < $3 AND {all_of} GROUP BY substr(day, 1, 7)"
        );
        let rows: Vec<SumRow> = with_db!(self, read, pool, _pg => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(&first).bind(&last).fetch_all(pool).await?);
        let mut out = Tallies::new();
        for (dim, key, a, b, c, d, e, f, g, h, i) in rows {
            let u = |x: i64| x.max(0) as u64;
            out.insert(
                (dim, key),
                Tally {
                    requests: u(a),
                    responded: u(b),
                    responded_on_time: u(c),
                    resp_seconds: d,
                    resolved: u(e),
                    res_seconds: f,
                    followed: u(g),
                    solved_halves: u(h),
                    satisfied: u(i),
                    unanswered_past_due: 0,
                    overdue: 0,
                },
            );
        }
        if !buildings.is_empty() {
            let mut all = Tally::default();
            for ((dim, _), t) in &out {
                if dim == "building" {
                    all.merge(t);
                }
            }
            out.insert(("all".into(), String::new()), all);
        }
        // What depends on the moment: open requests past a deadline, few and found through partial indexes.
        let (start, end) = (beijing_midnight(from), beijing_midnight(to));
        for (column, due) in [("responded_at", "respond_due"), ("resolved_at", "resolve_due")] {
            let sql = format!(
                "SELECT c.code, r.channel, r.building_id, r.lead_id, r.received_at FROM service_requests r \
                 JOIN request_categories c ON c.id = r.category_id WHERE r.community_id = $1 AND r.{column} IS NULL \
                 AND r.received_at >= $2 AND r.received_at < $3 AND r.{due} < $4{}",
                in_buildings(buildings)
            );
            let late: Vec<LateRow> = with_db!(self, read, pool, _pg => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(community_id).bind(start).bind(end).bind(now).fetch_all(pool).await?);
            for (code, channel, building, lead, received) in late {
                let top = code.split('.').next().unwrap_or_default().to_string();
                let text = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                let mut keys = vec![("all".to_string(), String::new()), ("month".into(), month_of(received))];
                if buildings.is_empty() && breakdown {
                    keys.extend([
                        ("category".into(), top),
                        ("channel".into(), channel),
                        ("handler".into(), text(lead)),
                    ]);
                }
                if !buildings.is_empty() || breakdown {
                    keys.push(("building".into(), text(building)));
                }
                for key in keys {
                    let t = out.entry(key).or_default();
                    if column == "responded_at" {
                        t.unanswered_past_due += 1;
                    } else {
                        t.overdue += 1;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Requests received on Beijing days `from..to` that are still open (not yet resolved).
    pub async fn open_request_count(&self, community_id: i64, from: NaiveDate, to: NaiveDate) -> Result<i64> {
        let (start, end) = (beijing_midnight(from), beijing_midnight(to));
        // Through the queue index (community, status): open requests are few, a year of requests is not.
        let received: Vec<DateTime<Utc>> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT received_at FROM service_requests WHERE community_id = $1 \
             AND status IN ('received', 'responded', 'dispatched', 'in_progress')")
            .bind(community_id).fetch_all(pool).await?);
        Ok(received.iter().filter(|t| **t >= start && **t < end).count() as i64)
    }

    /// Open requests now (of `buildings`, when given): how many, how many past their resolution deadline, how many
    /// emergencies.
    pub async fn open_request_figures(
        &self,
        community_id: i64,
        now: DateTime<Utc>,
        buildings: &[i64],
    ) -> Result<(i64, i64, i64)> {
        let sql = format!(
            "SELECT COUNT(*), SUM(CASE WHEN r.resolve_due < $2 THEN 1 ELSE 0 END), \
               SUM(CASE WHEN c.urgency = 'emergency' THEN 1 ELSE 0 END) \
             FROM service_requests r JOIN request_categories c ON c.id = r.category_id \
             WHERE r.community_id = $1 AND r.status IN ('received', 'responded', 'dispatched', 'in_progress'){}",
            in_buildings(buildings)
        );
        let row: (i64, Option<i64>, Option<i64>) = with_db!(self, read, pool, _pg => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(now).fetch_one(pool).await?);
        Ok((row.0, row.1.unwrap_or(0), row.2.unwrap_or(0)))
    }

    /// Emergencies received in `start..end`, newest first.
    pub async fn emergencies(
        &self,
        community_id: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<crate::RequestRow>> {
        let sql = format!(
            "SELECT {} FROM service_requests r JOIN request_categories c ON c.id = r.category_id              WHERE r.community_id = $1 AND c.urgency = 'emergency' AND r.received_at >= $2 AND r.received_at < $3              ORDER BY r.received_at DESC LIMIT {limit}",
            crate::requests::REQUEST_COLUMNS
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, crate::RequestRow>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(start).bind(end).fetch_all(pool).await?))
    }

    /// The most requests of one dimension's key received on a single Beijing day in `start..end` (e.g. enrolment
    /// questions on the first day of enrolment).
    pub async fn busiest_day(
        &self,
        community_id: i64,
        dim: &str,
        key: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<u64> {
        let day = |t: DateTime<Utc>| t.with_timezone(&beijing()).format("%Y-%m-%d").to_string();
        let n: Option<i64> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT MAX(requests) FROM request_tallies WHERE community_id = $1 AND dim = $2 AND key = $3 AND day >= $4 AND day < $5")
            .bind(community_id).bind(dim).bind(key).bind(day(start)).bind(day(end)).fetch_one(pool).await?);
        Ok(n.unwrap_or(0).max(0) as u64)
    }
}
