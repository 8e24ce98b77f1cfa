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

fn month_of(t: DateTime<Utc>) -> String {
    t.with_timezone(&beijing()).format("%Y-%m").to_string()
}

impl Store {
    /// The tallies of requests received on Beijing days `from..to` (exclusive) in a community, as of `now`.
    pub async fn request_tallies(
        &self,
        community_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Tallies> {
        let (first, last) = (from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string());
        let sql = format!(
            "SELECT dim, key, {SUMS} FROM request_tallies WHERE community_id = $1 AND day >= $2 AND day < $3 GROUP BY dim, key \
             UNION ALL SELECT 'month', substr(day, 1, 7), {SUMS} FROM request_tallies \
             WHERE community_id = $1 AND day >= $2 AND day < $3 AND dim = 'all' GROUP BY substr(day, 1, 7)"
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
        // What depends on the moment: open requests past a deadline, few and found through partial indexes.
        let (start, end) = (beijing_midnight(from), beijing_midnight(to));
        for (column, due) in [("responded_at", "respond_due"), ("resolved_at", "resolve_due")] {
            let sql = format!(
                "SELECT c.code, r.channel, r.building_id, r.lead_id, r.received_at FROM service_requests r \
                 JOIN request_categories c ON c.id = r.category_id WHERE r.community_id = $1 AND r.{column} IS NULL \
                 AND r.received_at >= $2 AND r.received_at < $3 AND r.{due} < $4"
            );
            let late: Vec<LateRow> = with_db!(self, read, pool, _pg => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(community_id).bind(start).bind(end).bind(now).fetch_all(pool).await?);
            for (code, channel, building, lead, received) in late {
                let top = code.split('.').next().unwrap_or_default().to_string();
                let text = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                for key in [
                    ("all".to_string(), String::new()),
                    ("category".into(), top),
                    ("channel".into(), channel),
                    ("building".into(), text(building)),
                    ("handler".into(), text(lead)),
                    ("month".into(), month_of(received)),
                ] {
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
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT COUNT(*) FROM service_requests WHERE community_id = $1              AND status IN ('received', 'responded', 'dispatched', 'in_progress') AND received_at >= $2 AND received_at < $3")
            .bind(community_id).bind(start).bind(end).fetch_one(pool).await?))
    }

    /// Open requests now: how many, how many past their resolution deadline, how many emergencies.
    pub async fn open_request_figures(&self, community_id: i64, now: DateTime<Utc>) -> Result<(i64, i64, i64)> {
        let row: (i64, Option<i64>, Option<i64>) = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN r.resolve_due < $2 THEN 1 ELSE 0 END),                SUM(CASE WHEN c.urgency = 'emergency' THEN 1 ELSE 0 END)              FROM service_requests r JOIN request_categories c ON c.id = r.category_id              WHERE r.community_id = $1 AND r.status IN ('received', 'responded', 'dispatched', 'in_progress')")
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
            "SELECT {} FROM service_requests r JOIN request_categories c ON c.id = r.category_id              WHERE r.community_id = $1 AND c.urgency = 'emergency' AND r.received_at >= $2 AND r.received_at < $3              ORDER BY r.received_at DESC LIMIT $4",
            crate::requests::REQUEST_COLUMNS
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, crate::RequestRow>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(start).bind(end).bind(limit).fetch_all(pool).await?))
    }
}
