//! Data for benchmarks: requests written in bulk, straight into the tables, so that a million of them can be laid
//! down in seconds. They carry no events; the running tallies are kept by the database's triggers as for any other
//! write. Nothing but `wujia bench` calls this.

use crate::{Result, Store, with_db};
use chrono::{DateTime, Utc};

/// A request as a benchmark lays it down.
#[derive(Debug, Clone)]
pub struct BenchRequest {
    /// Community.
    pub community_id: i64,
    /// Readable number; unique.
    pub number: String,
    /// Category.
    pub category_id: i64,
    /// Channel code.
    pub channel: String,
    /// Status code.
    pub status: String,
    /// What was asked.
    pub description: String,
    /// Household.
    pub household_id: Option<i64>,
    /// Building.
    pub building_id: Option<i64>,
    /// Where.
    pub location: String,
    /// Lead handler.
    pub lead_id: Option<i64>,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Response deadline.
    pub respond_due: DateTime<Utc>,
    /// Resolution deadline.
    pub resolve_due: DateTime<Utc>,
    /// First contact.
    pub responded_at: Option<DateTime<Utc>>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Follow-up: solved code and satisfaction code.
    pub followup: Option<(String, String)>,
}

const COLUMNS: usize = 20;

impl Store {
    /// Writes requests in multi-row statements, 400 to a statement and 10,000 to a transaction.
    pub async fn insert_bench_requests(&self, rows: &[BenchRequest]) -> Result<()> {
        for chunk in rows.chunks(10_000) {
            with_db!(self, write, pool, _pg => {
                let mut tx = pool.begin_write().await?;
                for part in chunk.chunks(400) {
                    let values: Vec<String> = (0..part.len())
                        .map(|i| {
                            let marks: Vec<String> = (1..=COLUMNS).map(|j| format!("${}", i * COLUMNS + j)).collect();
                            format!("({})", marks.join(", "))
                        })
                        .collect();
                    let sql = format!(
                        "INSERT INTO service_requests (community_id, number, category_id, channel, status, description, household_id, \
                           building_id, location, contact_name, lead_id, received_at, respond_due, resolve_due, responded_at, \
                           resolved_at, resolution, followup_solved, followup_satisfaction, updated_at) VALUES {}",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for r in part {
                        let (solved, satisfied) = r.followup.clone().unzip();
                        q = q
                            .bind(r.community_id)
                            .bind(&r.number)
                            .bind(r.category_id)
                            .bind(&r.channel)
                            .bind(&r.status)
                            .bind(&r.description)
                            .bind(r.household_id)
                            .bind(r.building_id)
                            .bind(&r.location)
                            .bind("居民")
                            .bind(r.lead_id)
                            .bind(r.received_at)
                            .bind(r.respond_due)
                            .bind(r.resolve_due)
                            .bind(r.responded_at)
                            .bind(r.resolved_at)
                            .bind(r.resolved_at.map(|_| "已处理"))
                            .bind(solved)
                            .bind(satisfied)
                            .bind(r.received_at);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            });
        }
        Ok(())
    }
}
