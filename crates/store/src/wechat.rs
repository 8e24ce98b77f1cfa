//! The WeChat Official Account: followers bound to a household through a WeChat resident account, one-time binding
//! codes, the messages answered (so that WeChat's retries get the same answer) and unbound followers' enquiries.

use crate::audit::append_event;
use crate::requests::REQUEST_COLUMNS;
use crate::{Change, RequestRow, Result, Store, StoreError, User, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A follower's binding: the openid, the WeChat resident account writing for them, and its household.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WechatBinding {
    /// The openid (personal data).
    pub openid: String,
    /// The resident account the follower writes as.
    pub user_id: i64,
    /// The household.
    pub household_id: i64,
}

/// The resident account a binding creates.
#[derive(Debug, Clone)]
pub struct NewWechatResident {
    /// Login name (random; the account cannot log in with a password anyone knows).
    pub username: String,
    /// Name staff see on the follower's requests.
    pub display_name: String,
    /// Hash of a random password nobody is told.
    pub password_hash: String,
}

/// What answering a message by its id found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageClaim {
    /// The message is new: this node answers it.
    Ours,
    /// Another delivery of it is being answered.
    Answering,
    /// It was answered: the same answer again.
    Answered(String),
}

/// An unbound follower's message, kept for staff.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct WechatEnquiry {
    /// Id.
    pub id: i64,
    /// The sender's openid (personal data: the faces show it masked).
    #[serde(skip)]
    pub openid: String,
    /// `text`, `image`, `voice` or `location`.
    pub kind: String,
    /// The text, the transcription or the place.
    pub content: String,
    /// When.
    pub received_at: DateTime<Utc>,
    /// The household staff attached it to.
    pub household_id: Option<i64>,
    /// The request it became.
    pub request_id: Option<i64>,
    /// When it was attached.
    pub attached_at: Option<DateTime<Utc>>,
}

const ENQUIRY_COLUMNS: &str = "id, openid, kind, content, received_at, household_id, request_id, attached_at";

impl Store {
    /// Issues a one-time binding code for a household (only its hash is kept). Expired unused codes are dropped
    /// first; a code that collides with an open one is a conflict (the caller draws another).
    pub async fn issue_wechat_code(
        &self,
        household_id: i64,
        code_hash: &str,
        expires: DateTime<Utc>,
        change: Change,
    ) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM wechat_binding_codes WHERE used_at IS NULL AND expires_at <= $1")
                .bind(change.at)
                .execute(&mut *tx)
                .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO wechat_binding_codes (code_hash, household_id, issued_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(code_hash)
            .bind(household_id)
            .bind(change.actor_id)
            .bind(change.at)
            .bind(expires)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| crate::on_unique(e, "wechat code taken"))?;
            let change = Change { entity: "wechat_code".into(), entity_id: id.to_string(),
                after: serde_json::json!({"household_id": household_id, "expires_at": expires}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Binds a follower with an open, unexpired code: creates their resident account in the code's household, uses
    /// the code and records the binding, in one transaction. `None` when no such code exists; a conflict when the
    /// follower is already bound or the code was used at the same moment.
    pub async fn bind_wechat(
        &self,
        openid: &str,
        code_hash: &str,
        new: &NewWechatResident,
        now: DateTime<Utc>,
    ) -> Result<Option<(User, i64)>> {
        let bound = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin().await?;
            let row: Option<(i64, i64, i64)> = sqlx::query_as(
                "SELECT c.id, c.household_id, h.community_id FROM wechat_binding_codes c \
                 JOIN households h ON h.id = c.household_id \
                 WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2",
            )
            .bind(code_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((code_id, household_id, community_id)) = row else {
                return Ok(None);
            };
            let used = sqlx::query("UPDATE wechat_binding_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(now)
                .bind(code_id)
                .execute(&mut *tx)
                .await?;
            if used.rows_affected() != 1 {
                return Err(StoreError::Conflict("wechat code just used".into()));
            }
            let user_id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, display_name, password_hash, role, household_id, active, must_change_password, created_at) \
                 VALUES ($1, $2, $3, 'resident', $4, TRUE, TRUE, $5) RETURNING id",
            )
            .bind(&new.username)
            .bind(&new.display_name)
            .bind(&new.password_hash)
            .bind(household_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| crate::on_unique(e, "wechat resident username taken"))?;
            sqlx::query("INSERT INTO wechat_bindings (openid, user_id, household_id, bound_at) VALUES ($1, $2, $3, $4)")
                .bind(openid)
                .bind(user_id)
                .bind(household_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| crate::on_unique(e, "wechat follower already bound"))?;
            // The event names the account and the household, never the openid.
            let change = Change {
                at: now,
                actor_id: Some(user_id),
                actor: new.username.clone(),
                community_id: Some(community_id),
                action: "wechat.bind".into(),
                entity: "household".into(),
                entity_id: household_id.to_string(),
                before: serde_json::Value::Null,
                after: serde_json::json!({"user_id": user_id, "code_id": code_id}),
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            (user_id, household_id)
        });
        Ok(Some((self.user(bound.0).await?, bound.1)))
    }

    /// The binding of a follower, if bound.
    pub async fn wechat_binding(&self, openid: &str) -> Result<Option<WechatBinding>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, WechatBinding>(
            "SELECT openid, user_id, household_id FROM wechat_bindings WHERE openid = $1",
        )
        .bind(openid)
        .fetch_optional(pool)
        .await?))
    }

    /// The binding of a resident account, if it is a follower's.
    pub async fn wechat_binding_of(&self, user_id: i64) -> Result<Option<WechatBinding>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, WechatBinding>(
            "SELECT openid, user_id, household_id FROM wechat_bindings WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await?))
    }

    /// Ends a binding and disables its resident account, with its event; false when it was not bound.
    pub async fn unbind_wechat(&self, binding: &WechatBinding, change: Change) -> Result<bool> {
        Ok(with_db!(self, write, pool, pg => {
            let mut tx = pool.begin().await?;
            let gone = sqlx::query("DELETE FROM wechat_bindings WHERE openid = $1 AND user_id = $2")
                .bind(&binding.openid)
                .bind(binding.user_id)
                .execute(&mut *tx)
                .await?;
            if gone.rows_affected() == 1 {
                sqlx::query("UPDATE users SET active = FALSE, version = version + 1 WHERE id = $1")
                    .bind(binding.user_id)
                    .execute(&mut *tx)
                    .await?;
                let change = Change { entity: "household".into(), entity_id: binding.household_id.to_string(),
                    after: serde_json::json!({"user_id": binding.user_id}), ..change };
                append_event!(tx, pg, &change);
            }
            tx.commit().await?;
            gone.rows_affected() == 1
        }))
    }

    /// Records a wrong binding code sent by a follower.
    pub async fn record_wechat_bind_failure(&self, openid: &str, at: DateTime<Utc>) -> Result<()> {
        with_db!(self, write, pool, _pg => sqlx::query("INSERT INTO wechat_bind_failures (openid, at) VALUES ($1, $2)")
            .bind(openid)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// How many wrong binding codes a follower sent since `since`.
    pub async fn wechat_bind_failures(&self, openid: &str, since: DateTime<Utc>) -> Result<i64> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT COUNT(*) FROM wechat_bind_failures WHERE openid = $1 AND at >= $2",
        )
        .bind(openid)
        .bind(since)
        .fetch_one(pool)
        .await?))
    }

    /// Claims a message for answering by its dedupe key; a key already claimed tells how far its answer is. The
    /// primary key decides between deliveries arriving at once, on every node. A claim still unanswered since
    /// before `abandoned_before` was left by a node that stopped mid-answer: it is taken over, so that WeChat's
    /// next delivery is answered rather than lost.
    pub async fn claim_wechat_message(
        &self,
        key: &str,
        now: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<MessageClaim> {
        let inserted = with_db!(self, write, pool, _pg => sqlx::query(
            "INSERT INTO wechat_messages (dedupe_key, received_at) VALUES ($1, $2) \
             ON CONFLICT (dedupe_key) DO UPDATE SET received_at = excluded.received_at \
             WHERE wechat_messages.reply IS NULL AND wechat_messages.received_at < $3",
        )
        .bind(key)
        .bind(now)
        .bind(abandoned_before)
        .execute(pool)
        .await?
        .rows_affected());
        if inserted == 1 {
            return Ok(MessageClaim::Ours);
        }
        Ok(match self.wechat_answer(key).await? {
            Some(reply) => MessageClaim::Answered(reply),
            None => MessageClaim::Answering,
        })
    }

    /// The answer given to a message, once given.
    pub async fn wechat_answer(&self, key: &str) -> Result<Option<String>> {
        let reply: Option<Option<String>> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT reply FROM wechat_messages WHERE dedupe_key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await?);
        Ok(reply.flatten())
    }

    /// Records the answer to a claimed message.
    pub async fn answer_wechat_message(&self, key: &str, reply: &str) -> Result<()> {
        with_db!(self, write, pool, _pg => sqlx::query("UPDATE wechat_messages SET reply = $1 WHERE dedupe_key = $2")
            .bind(reply)
            .bind(key)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Gives up a claim whose answer failed, so that WeChat's next delivery is answered afresh.
    pub async fn release_wechat_message(&self, key: &str) -> Result<()> {
        with_db!(self, write, pool, _pg => sqlx::query("DELETE FROM wechat_messages WHERE dedupe_key = $1 AND reply IS NULL")
            .bind(key)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Keeps an unbound follower's message for staff.
    pub async fn add_wechat_enquiry(&self, openid: &str, kind: &str, content: &str, at: DateTime<Utc>) -> Result<i64> {
        Ok(with_db!(self, write, pool, _pg => sqlx::query_scalar(
            "INSERT INTO wechat_enquiries (openid, kind, content, received_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(openid)
        .bind(kind)
        .bind(content)
        .bind(at)
        .fetch_one(pool)
        .await?))
    }

    /// Enquiries, newest first: only those not yet attached when `open`.
    pub async fn wechat_enquiries(&self, open: bool, limit: i64) -> Result<Vec<WechatEnquiry>> {
        let filter = if open { "WHERE attached_at IS NULL" } else { "" };
        let sql = format!("SELECT {ENQUIRY_COLUMNS} FROM wechat_enquiries {filter} ORDER BY id DESC LIMIT $1");
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, WechatEnquiry>(sqlx::AssertSqlSafe(sql))
            .bind(limit.clamp(1, 500))
            .fetch_all(pool)
            .await?))
    }

    /// One enquiry.
    pub async fn wechat_enquiry(&self, id: i64) -> Result<WechatEnquiry> {
        let sql = format!("SELECT {ENQUIRY_COLUMNS} FROM wechat_enquiries WHERE id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, WechatEnquiry>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// Claims an open enquiry for attaching to a household; a conflict when someone attached it first.
    pub async fn claim_wechat_enquiry(&self, id: i64, household_id: i64, by: i64, at: DateTime<Utc>) -> Result<()> {
        let done = with_db!(self, write, pool, _pg => sqlx::query(
            "UPDATE wechat_enquiries SET household_id = $1, attached_by = $2, attached_at = $3 \
             WHERE id = $4 AND attached_at IS NULL",
        )
        .bind(household_id)
        .bind(by)
        .bind(at)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        if done != 1 {
            return Err(StoreError::Conflict("wechat enquiry already attached".into()));
        }
        Ok(())
    }

    /// Records the request a claimed enquiry became, with its event.
    pub async fn link_wechat_enquiry(&self, id: i64, request_id: i64, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin().await?;
            let household: Option<i64> = sqlx::query_scalar(
                "UPDATE wechat_enquiries SET request_id = $1 WHERE id = $2 AND request_id IS NULL RETURNING household_id",
            )
            .bind(request_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
            let Some(household) = household else {
                return Err(StoreError::Conflict("wechat enquiry already linked".into()));
            };
            let change = Change { entity: "wechat_enquiry".into(), entity_id: id.to_string(),
                after: serde_json::json!({"household_id": household, "request_id": request_id}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Gives back a claimed enquiry whose request could not be taken in.
    pub async fn release_wechat_enquiry(&self, id: i64) -> Result<()> {
        with_db!(self, write, pool, _pg => sqlx::query(
            "UPDATE wechat_enquiries SET household_id = NULL, attached_by = NULL, attached_at = NULL \
             WHERE id = $1 AND request_id IS NULL",
        )
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// A follower's latest request taken in through WeChat since `since` that is not yet resolved: where the
    /// follower's next messages go.
    pub async fn open_wechat_request(&self, user_id: i64, since: DateTime<Utc>) -> Result<Option<RequestRow>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests r WHERE r.submitted_by = $1 AND r.channel = 'wechat' \
             AND r.received_at >= $2 AND r.status IN ('received', 'responded', 'dispatched', 'in_progress') \
             ORDER BY r.id DESC LIMIT 1"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(since)
            .fetch_optional(pool)
            .await?))
    }
}
