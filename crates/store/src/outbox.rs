//! The outbox as a queue: deadline alerts written together with their claim, messages claimed one at a time
//! (emergencies first, one per channel at once) under a hold the sender renews, and each outcome recorded only by
//! the claim that sent it.

use crate::notifications::{DELIVERY, write_notices};
use crate::{Delivery, Notices, Result, Store, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A message claimed by one worker: the delivery, and the lease that shows the worker still holds it. Another
/// worker can claim the message only once the hold has run out, and then holds a newer lease.
#[derive(Debug, Clone)]
pub struct Claim {
    delivery: Delivery,
    lease: i64,
}

impl Claim {
    /// What to send.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }
}

/// How one attempt at a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The receiver took it.
    Sent,
    /// It failed and is tried again at `at`.
    Retry {
        /// Why it failed.
        error: &'a str,
        /// When to try again.
        at: DateTime<Utc>,
    },
    /// It failed for the last time.
    GaveUp {
        /// Why it failed.
        error: &'a str,
    },
}

/// What waits in a community's outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Backlog {
    /// Messages not yet delivered (due now or waiting for a retry).
    pub waiting: i64,
    /// Of those, emergencies.
    pub emergencies: i64,
    /// When the oldest of them was queued.
    pub oldest: Option<DateTime<Utc>>,
}

/// The advisory lock under which PostgreSQL nodes claim outbox messages one after another.
const OUTBOX_CLAIMS: i64 = 20_260_026;

impl Store {
    /// Records that alert `kind` of a request is raised and queues its notices, in one transaction: either both
    /// happen or neither does, so a crash cannot lose an alert nor send it twice. False when it was raised before.
    pub async fn raise_alert(
        &self,
        request_id: i64,
        kind: &str,
        notices: &Notices,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        with_db!(self, write, pool, _pg => {
            let mut tx = pool.begin_write().await?;
            let claimed = sqlx::query(
                "INSERT INTO request_alerts (request_id, kind, sent_at) VALUES ($1, $2, $3) ON CONFLICT (request_id, kind) DO NOTHING",
            )
            .bind(request_id)
            .bind(kind)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if claimed {
                write_notices!(tx, notices, Some(request_id), now);
            }
            tx.commit().await?;
            Ok(claimed)
        })
    }

    /// Claims the next message that is due, held until `hold_until`: an emergency before anything routine, then the
    /// oldest, and never a message of a channel that has one held already (so one slow or failing channel occupies
    /// one sender at most). `None` when nothing is due.
    pub async fn claim_delivery(&self, now: DateTime<Utc>, hold_until: DateTime<Utc>) -> Result<Option<Claim>> {
        let claimed: Option<(i64, i64)> = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if pg {
                // Claims take turns (SQLite's one writer does this by itself), so that each sees the holds taken
                // before it and a channel has one message in flight, not one per node.
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(OUTBOX_CLAIMS).execute(&mut *tx).await?;
            }
            let lock = if pg { " FOR UPDATE SKIP LOCKED" } else { "" };
            let sql = format!(
                "UPDATE outbox SET locked_until = $1, lease = lease + 1 WHERE id = (SELECT o.id FROM outbox o \
                 WHERE o.status = 'pending' AND o.next_attempt_at <= $2 AND (o.locked_until IS NULL OR o.locked_until < $2) \
                 AND NOT EXISTS (SELECT 1 FROM outbox h WHERE h.channel_id = o.channel_id AND h.status = 'pending' AND h.locked_until >= $2) \
                 ORDER BY o.priority DESC, o.id LIMIT 1{lock}) RETURNING id, lease"
            );
            let claimed: Option<(i64, i64)> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(hold_until).bind(now).fetch_optional(&mut *tx).await?;
            tx.commit().await?;
            claimed
        });
        let Some((id, lease)) = claimed else { return Ok(None) };
        let sql = format!("{DELIVERY} WHERE o.id = $1");
        let delivery = with_db!(self, write, pool, _pg => sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(pool).await?);
        Ok(Some(Claim { delivery, lease }))
    }

    /// Extends a claim's hold while its message is being sent; false when the claim was lost (its hold ran out and
    /// another worker took the message over).
    pub async fn renew_claim(&self, claim: &Claim, hold_until: DateTime<Utc>) -> Result<bool> {
        let n = with_db!(self, write, pool, _pg => sqlx::query(
            "UPDATE outbox SET locked_until = $1 WHERE id = $2 AND lease = $3 AND status = 'pending'",
        )
        .bind(hold_until)
        .bind(claim.delivery.id)
        .bind(claim.lease)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// Records the attempt a claim made; false (and nothing recorded) when the claim was lost meanwhile, since the
    /// worker holding the newer claim records its own.
    pub async fn finish_claim(&self, claim: &Claim, now: DateTime<Utc>, attempt: Attempt<'_>) -> Result<bool> {
        let (status, error, retry_at) = match attempt {
            Attempt::Sent => ("sent", None, None),
            Attempt::Retry { error, at } => ("pending", Some(error), Some(at)),
            Attempt::GaveUp { error } => ("failed", Some(error), None),
        };
        let n = with_db!(self, write, pool, _pg => sqlx::query(
            "UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
               locked_until = NULL, sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END \
             WHERE id = $5 AND lease = $6 AND status = 'pending'",
        )
        .bind(status)
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(claim.delivery.id)
        .bind(claim.lease)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n == 1)
    }

    /// What waits in a community's outbox.
    pub async fn outbox_backlog(&self, community_id: i64) -> Result<Backlog> {
        let (waiting, emergencies, oldest) = with_db!(self, read, pool, _pg => sqlx::query_as::<_, (i64, i64, Option<DateTime<Utc>>)>(
            "SELECT COUNT(*), COUNT(CASE WHEN o.priority > 0 THEN 1 END), MIN(o.created_at) FROM outbox o \
             JOIN notification_channels c ON c.id = o.channel_id WHERE c.community_id = $1 AND o.status = 'pending'",
        )
        .bind(community_id)
        .fetch_one(pool)
        .await?);
        Ok(Backlog { waiting, emergencies, oldest })
    }
}
