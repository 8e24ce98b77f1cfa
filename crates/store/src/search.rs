//! What the search index is fed from: the records changed since an event, and every record of a kind for a rebuild.

use crate::{Result, Store, with_db};

/// The kinds of record the search covers, with their table.
pub const SEARCHABLE: [(&str, &str); 6] = [
    ("request", "service_requests"),
    ("finding", "patrol_findings"),
    ("visit", "reception_visits"),
    ("meeting", "joint_meetings"),
    ("topic", "topics"),
    ("activity", "activities"),
];

impl Store {
    /// The last event's sequence number (0 for an empty log).
    pub async fn last_event_seq(&self) -> Result<i64> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM events").fetch_one(pool).await?)
            .unwrap_or(0))
    }

    /// Searchable records touched by events after `seq`: (seq, kind, id), oldest first.
    pub async fn touched_since(&self, seq: i64, limit: i64) -> Result<Vec<(i64, String, String)>> {
        let sql = format!(
            "SELECT seq, entity, entity_id FROM events WHERE seq > $1 \
             AND entity IN ('request', 'finding', 'case', 'visit', 'meeting', 'topic', 'activity') ORDER BY seq LIMIT {limit}"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(seq).fetch_all(pool).await?))
    }

    /// Every id of a searchable kind, for a rebuild.
    pub async fn searchable_ids(&self, kind: &str) -> Result<Vec<i64>> {
        let Some((_, table)) = SEARCHABLE.iter().find(|(k, _)| *k == kind) else { return Ok(Vec::new()) };
        let sql = format!("SELECT id FROM {table} ORDER BY id");
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?))
    }
}
