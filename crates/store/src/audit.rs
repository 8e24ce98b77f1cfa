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
    /// A change made by Wujia itself (a background job, the demo loader), not by an account; the entity is the
    /// part of `action` before the dot.
    pub fn system(at: DateTime<Utc>, community_id: Option<i64>, action: &str) -> Self {
        Self {
            at,
            actor_id: None,
            actor: "system".into(),
            community_id,
            action: action.into(),
            entity: action.split('.').next().unwrap_or(action).into(),
            entity_id: String::new(),
            before: serde_json::Value::Null,
            after: serde_json::Value::Null,
        }
    }

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

/// Events chained in memory and written in batches: one read of the chain's end, many rows per statement.
pub(crate) struct EventBatch {
    next_seq: i64,
    prev: String,
    pub(crate) rows: Vec<(EventRecord, String, String)>,
}

impl EventBatch {
    pub(crate) fn new(last: Option<(i64, String)>) -> Self {
        let (next_seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, wujia_core::audit::GENESIS.to_string()),
        };
        Self { next_seq, prev, rows: Vec::new() }
    }

    /// Chains one more event onto the batch.
    pub(crate) fn push(&mut self, change: &Change) {
        let record = change.record(self.next_seq);
        let hash = wujia_core::audit::chain_hash(&self.prev, &record);
        let prev = std::mem::replace(&mut self.prev, hash.clone());
        self.rows.push((record, prev, hash));
        self.next_seq += 1;
    }
}

/// Locks the chain (PostgreSQL; SQLite has a single writer) and reads its end, inside transaction `$tx`.
macro_rules! open_chain {
    ($tx:expr, $pg:expr) => {{
        if $pg {
            sqlx::query("SELECT pg_advisory_xact_lock(20230420)").execute(&mut *$tx).await?;
        }
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *$tx).await?;
        $crate::audit::EventBatch::new(last)
    }};
}
pub(crate) use open_chain;

/// Writes a batch's events inside transaction `$tx`, many rows per statement.
macro_rules! write_events {
    ($tx:expr, $batch:expr) => {{
        for chunk in $batch.rows.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO events (seq, at, actor_id, actor, community_id, action, entity, entity_id, before, after, prev_hash, hash) ",
            );
            qb.push_values(chunk, |mut b, (r, prev, hash)| {
                b.push_bind(r.seq)
                    .push_bind(r.at)
                    .push_bind(r.actor_id)
                    .push_bind(r.actor.clone())
                    .push_bind(r.community_id)
                    .push_bind(r.action.clone())
                    .push_bind(r.entity.clone())
                    .push_bind(r.entity_id.clone())
                    .push_bind(r.before.clone())
                    .push_bind(r.after.clone())
                    .push_bind(prev.clone())
                    .push_bind(hash.clone());
            });
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use write_events;

/// Appends one event inside an open transaction `$tx`; `$pg` says whether the backend is PostgreSQL.
macro_rules! append_event {
    ($tx:expr, $pg:expr, $change:expr) => {{
        let mut batch = $crate::audit::open_chain!($tx, $pg);
        batch.push($change);
        $crate::audit::write_events!($tx, batch);
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
            let mut tx = pool.begin_write().await?;
            append_event!(tx, pg, change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The newest events first, optionally before a position and for one entity. One statement per shape (see
    /// [`Store::entity_events`]): the one for a record walks the index by record.
    pub async fn events(
        &self,
        before_seq: Option<i64>,
        entity: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let before = before_seq.unwrap_or(i64::MAX);
        let rows = match entity {
            Some((kind, id)) => {
                let sql = format!(
                    "SELECT * FROM events WHERE entity = $1 AND entity_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT {limit}"
                );
                with_db!(self, read, pool, _pg => sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(sql))
                    .bind(kind)
                    .bind(id)
                    .bind(before)
                    .fetch_all(pool)
                    .await?)
            }
            None => {
                let sql = format!("SELECT * FROM events WHERE seq < $1 ORDER BY seq DESC LIMIT {limit}");
                with_db!(self, read, pool, _pg => sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(sql))
                    .bind(before)
                    .fetch_all(pool)
                    .await?)
            }
        };
        Ok(rows)
    }

    /// The newest events of one record first. One statement per shape, so that the planner uses the index by
    /// record (a `$2 IS NULL OR …` branch kept SQLite scanning every event).
    pub async fn entity_events(&self, entity: &str, entity_id: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        let sql = format!(
            "SELECT * FROM events WHERE entity = $1 AND entity_id = $2 ORDER BY seq DESC LIMIT {}",
            limit.clamp(1, 10_000)
        );
        let rows = with_db!(self, read, pool, _pg => sqlx::query_as::<_, AuditEntry>(sqlx::AssertSqlSafe(sql))
            .bind(entity)
            .bind(entity_id)
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
