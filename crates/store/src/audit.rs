//! The event log: written in the same transaction as every change, hash-chained, verifiable.

use crate::{Result, Store, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use wujia_core::audit::{ChainVerifier, EventRecord};

/// A change about to be recorded.
#[derive(Debug, Clone)]
pub struct Change {
    /// When, as read from the caller's clock.
    pub at: DateTime<Utc>,
    /// The acting account; `None` for the system.
    pub actor_id: Option<i64>,
    /// The actor's username.
    pub actor: String,
    /// The community the record belongs to.
    pub community_id: Option<i64>,
    /// What was done, `entity.verb`.
    pub action: String,
    /// The kind of record.
    pub entity: String,
    /// The record's id.
    pub entity_id: String,
    /// The record before (JSON `null` when created).
    pub before: serde_json::Value,
    /// The record after (JSON `null` when deleted).
    pub after: serde_json::Value,
}

impl Change {
    pub(crate) fn record(&self, seq: i64) -> EventRecord {
        EventRecord {
            seq,
            at: wujia_core::audit::event_time(self.at),
            actor_id: self.actor_id,
            actor: self.actor.clone(),
            community_id: self.community_id,
            action: self.action.clone(),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            before: self.before.to_string(),
            after: self.after.to_string(),
        }
    }
}

/// Appends one event inside an open transaction `$tx`; `$pg` says whether the backend is PostgreSQL.
macro_rules! append_event {
    ($tx:expr, $pg:expr, $change:expr) => {{
        let change: &$crate::Change = $change;
        if $pg {
            // Serialises writers of the chain; SQLite already has a single writer.
            sqlx::query("SELECT pg_advisory_xact_lock(20230420)").execute(&mut *$tx).await?;
        }
        let last: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *$tx)
            .await?;
        let (seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, wujia_core::audit::GENESIS.to_string()),
        };
        let record = change.record(seq);
        let hash = wujia_core::audit::chain_hash(&prev, &record);
        sqlx::query(
            "INSERT INTO events (seq, at, actor_id, actor, community_id, action, entity, entity_id, before, after, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(record.seq)
        .bind(record.at)
        .bind(record.actor_id)
        .bind(&record.actor)
        .bind(record.community_id)
        .bind(&record.action)
        .bind(&record.entity)
        .bind(&record.entity_id)
        .bind(&record.before)
        .bind(&record.after)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use append_event;

/// One event as the audit page shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// Position in the log.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Acting account.
    pub actor_id: Option<i64>,
    /// Actor's username.
    pub actor: String,
    /// Community.
    pub community_id: Option<i64>,
    /// What was done.
    pub action: String,
    /// Kind of record.
    pub entity: String,
    /// Record id.
    pub entity_id: String,
    /// Before, as JSON text.
    pub before: String,
    /// After, as JSON text.
    pub after: String,
    /// Hash of the previous event.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

impl AuditEntry {
    fn record(&self) -> EventRecord {
        EventRecord {
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id,
            actor: self.actor.clone(),
            community_id: self.community_id,
            action: self.action.clone(),
            entity: self.entity.clone(),
            entity_id: self.entity_id.clone(),
            before: self.before.clone(),
            after: self.after.clone(),
        }
    }
}

impl Store {
    /// Records a change that has no state of its own to write, such as a read of personal data.
    pub async fn record(&self, change: &Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin().await?;
            append_event!(tx, pg, change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The newest events first, optionally before a position and for one entity.
    pub async fn events(
        &self,
        before_seq: Option<i64>,
        entity: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let before = before_seq.unwrap_or(i64::MAX);
        let (kind, id) = entity.map_or((None, None), |(k, i)| (Some(k.to_string()), Some(i.to_string())));
        let rows = with_db!(self, read, pool, _pg => sqlx::query_as::<_, AuditEntry>(
            "SELECT * FROM events WHERE seq < $1 AND ($2 IS NULL OR (entity = $2 AND entity_id = $3)) \
             ORDER BY seq DESC LIMIT $4",
        )
        .bind(before)
        .bind(kind)
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await?);
        Ok(rows)
    }

    /// Walks the whole chain; returns how many events verified, or the first tampered one.
    pub async fn verify_audit(&self) -> Result<u64> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let batch = with_db!(self, read, pool, _pg => sqlx::query_as::<_, AuditEntry>(
                "SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT 2000",
            )
            .bind(after)
            .fetch_all(pool)
            .await?);
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in &batch {
                verifier.check(&e.record(), &e.prev_hash, &e.hash)?;
            }
        }
        Ok(verifier.checked())
    }
}
