//! Deliberation: topics, support, discussion, the deliberation meeting, the vote and its ballots, the public
//! notice and the progress that follows. State changes check the topic's version.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use wujia_core::deliberation::{DeliberationError, TopicStatus, may_cast};
use wujia_core::registry::FieldError;

/// A topic.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Topic {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// What is proposed and why.
    pub body: String,
    /// Status code.
    pub status: String,
    /// Proposer's account.
    pub proposed_by: Option<i64>,
    /// Proposer's household.
    pub household_id: Option<i64>,
    /// Put forward by staff.
    pub by_staff: bool,
    /// Proposed.
    pub created_at: DateTime<Utc>,
    /// Tabled.
    pub tabled_at: Option<DateTime<Utc>>,
    /// The deliberation meeting.
    pub meeting_at: Option<DateTime<Utc>>,
    /// Its minutes.
    pub minutes: Option<String>,
    /// `per_household` or `per_resident`.
    pub vote_mode: Option<String>,
    /// Options (JSON array).
    pub vote_options: Option<String>,
    /// Ballots needed.
    pub quorum: Option<i64>,
    /// Secret ballot: who voted is kept, not what they chose.
    pub secret: bool,
    /// Voting closes.
    pub vote_closes_at: Option<DateTime<Utc>>,
    /// The count (JSON).
    pub result: Option<String>,
    /// Objections may be raised until.
    pub objection_until: Option<DateTime<Utc>>,
    /// Households supporting it.
    pub supports: i64,
    /// Ballots cast.
    pub ballots: i64,
    /// Optimistic-lock version.
    pub version: i64,
}

const TOPIC_COLUMNS: &str = "t.id, t.community_id, t.title, t.body, t.status, t.proposed_by, t.household_id, t.by_staff, t.created_at, \
    t.tabled_at, t.meeting_at, t.minutes, t.vote_mode, t.vote_options, t.quorum, t.secret, t.vote_closes_at, t.result, t.objection_until, \
    (SELECT COUNT(*) FROM topic_supports s WHERE s.topic_id = t.id) AS supports, \
    (SELECT COUNT(*) FROM ballots b WHERE b.topic_id = t.id) AS ballots, t.version FROM topics t";

impl Topic {
    /// The topic's status.
    pub fn state(&self) -> TopicStatus {
        TopicStatus::parse(&self.status).unwrap_or(TopicStatus::Proposed)
    }

    /// The vote's options.
    pub fn options(&self) -> Vec<String> {
        self.vote_options.as_deref().and_then(|o| serde_json::from_str(o).ok()).unwrap_or_default()
    }
}

/// A comment in the discussion, or an update (progress, objection).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TopicNote {
    /// Id.
    pub id: i64,
    /// `comment`, `progress` or `objection`.
    pub kind: String,
    /// Author's name.
    pub author: String,
    /// Text.
    pub text: String,
    /// Hidden by a moderator.
    pub hidden: bool,
    /// When.
    pub at: DateTime<Utc>,
}

fn refuse(e: DeliberationError) -> StoreError {
    let text = e.to_string();
    let (field, message) = text.split_once(": ").unwrap_or(("status", text.as_str()));
    StoreError::Invalid(vec![FieldError::new(field, message)])
}

/// A vote's mode code, options, quorum, secrecy and closing time.
pub type VoteSetup = (String, Vec<String>, i64, bool, DateTime<Utc>);

/// A change to a topic's state, checked by the caller against the core rules.
#[derive(Debug, Clone, Default)]
pub struct TopicUpdate {
    /// New status.
    pub status: Option<String>,
    /// Tabled.
    pub tabled_at: Option<DateTime<Utc>>,
    /// Meeting.
    pub meeting: Option<(DateTime<Utc>, String)>,
    /// Vote: mode, options, quorum, secret, closes.
    pub vote: Option<VoteSetup>,
    /// Count and objection period.
    pub result: Option<(serde_json::Value, DateTime<Utc>)>,
}

impl Store {
    /// The support a resident's topic needs to be tabled.
    pub async fn topic_threshold(&self, community_id: i64) -> Result<i64> {
        with_db!(self, read, pool, _pg => sqlx::query_scalar("SELECT topic_threshold FROM communities WHERE id = $1")
            .bind(community_id).fetch_optional(pool).await?)
        .ok_or(StoreError::NotFound)
    }

    /// Sets that support.
    pub async fn set_topic_threshold(&self, community_id: i64, threshold: i64, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE communities SET topic_threshold = $1 WHERE id = $2").bind(threshold).bind(community_id).execute(&mut *tx).await?;
            let change = Change { community_id: Some(community_id), entity: "community".into(), entity_id: community_id.to_string(),
                after: serde_json::json!({"topic_threshold": threshold}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a topic; staff topics are tabled at once.
    pub async fn create_topic(
        &self,
        community_id: i64,
        (title, body): (&str, &str),
        household_id: Option<i64>,
        by_staff: bool,
        change: Change,
    ) -> Result<Topic> {
        let status = if by_staff { "tabled" } else { "proposed" };
        let tabled_at = by_staff.then_some(change.at);
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO topics (community_id, title, body, status, proposed_by, household_id, by_staff, created_at, tabled_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                .bind(community_id).bind(title).bind(body).bind(status).bind(change.actor_id).bind(household_id).bind(by_staff)
                .bind(change.at).bind(tabled_at).fetch_one(&mut *tx).await?;
            if let Some(h) = household_id {
                // The proposer's household supports its own topic.
                sqlx::query("INSERT INTO topic_supports (topic_id, household_id, user_id, at) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(h).bind(change.actor_id).bind(change.at).execute(&mut *tx).await?;
            }
            let change = Change { community_id: Some(community_id), entity: "topic".into(), entity_id: id.to_string(),
                after: serde_json::json!({"title": title, "body": body, "status": status}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.topic(id).await
    }

    /// One topic.
    pub async fn topic(&self, id: i64) -> Result<Topic> {
        let sql = format!("SELECT {TOPIC_COLUMNS} WHERE t.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Topic>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Topics of a community, newest first.
    pub async fn topics(&self, community_id: i64) -> Result<Vec<Topic>> {
        let sql = format!("SELECT {TOPIC_COLUMNS} WHERE t.community_id = $1 ORDER BY t.created_at DESC LIMIT 300");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Topic>(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(pool).await?),
        )
    }

    /// A household supports a topic; at the community's threshold a proposed topic is tabled in the same
    /// transaction.
    pub async fn support_topic(
        &self,
        topic: &Topic,
        household_id: i64,
        threshold: i64,
        change: Change,
    ) -> Result<Topic> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO topic_supports (topic_id, household_id, user_id, at) VALUES ($1, $2, $3, $4)")
                .bind(topic.id).bind(household_id).bind(change.actor_id).bind(change.at).execute(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "本户已附议 / this household supports the topic already"))?;
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM topic_supports WHERE topic_id = $1").bind(topic.id).fetch_one(&mut *tx).await?;
            let tabled = wujia_core::deliberation::tabled(false, u32::try_from(n).unwrap_or(u32::MAX), u32::try_from(threshold).unwrap_or(u32::MAX));
            if tabled {
                sqlx::query("UPDATE topics SET status = 'tabled', tabled_at = $1, version = version + 1 WHERE id = $2 AND status = 'proposed'")
                    .bind(change.at).bind(topic.id).execute(&mut *tx).await?;
            }
            let change = Change { community_id: Some(topic.community_id), entity: "topic".into(), entity_id: topic.id.to_string(),
                after: serde_json::json!({"support": household_id, "supports": n, "tabled": tabled}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.topic(topic.id).await
    }

    /// Records a state change decided by the caller, if the topic is still at `topic.version`.
    pub async fn update_topic(&self, topic: &Topic, u: &TopicUpdate, change: Change) -> Result<Topic> {
        let (meeting_at, minutes) = u.meeting.clone().unzip();
        let vote = u.vote.clone();
        let (result, objection_until) = u.result.clone().unzip();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE topics SET status = COALESCE($1, status), tabled_at = COALESCE($2, tabled_at), meeting_at = COALESCE($3, meeting_at), \
                   minutes = COALESCE($4, minutes), vote_mode = COALESCE($5, vote_mode), vote_options = COALESCE($6, vote_options), \
                   quorum = COALESCE($7, quorum), secret = COALESCE($8, secret), vote_closes_at = COALESCE($9, vote_closes_at), \
                   result = COALESCE($10, result), objection_until = COALESCE($11, objection_until), version = version + 1 \
                 WHERE id = $12 AND version = $13")
                .bind(&u.status).bind(u.tabled_at).bind(meeting_at).bind(&minutes)
                .bind(vote.as_ref().map(|v| v.0.clone())).bind(vote.as_ref().map(|v| serde_json::to_string(&v.1).unwrap_or_default()))
                .bind(vote.as_ref().map(|v| v.2)).bind(vote.as_ref().map(|v| v.3)).bind(vote.as_ref().map(|v| v.4))
                .bind(result.as_ref().map(|r| r.to_string())).bind(objection_until)
                .bind(topic.id).bind(topic.version).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("议题已被他人更新，请刷新 / the topic was changed by someone else".into()));
            }
            let change = Change { community_id: Some(topic.community_id), entity: "topic".into(), entity_id: topic.id.to_string(),
                before: serde_json::json!({"status": topic.status}),
                after: serde_json::json!({"status": u.status, "meeting_at": meeting_at, "minutes": minutes,
                    "vote": vote.as_ref().map(|v| serde_json::json!({"mode": v.0, "options": v.1, "quorum": v.2, "secret": v.3, "closes_at": v.4})),
                    "result": result, "objection_until": objection_until}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.topic(topic.id).await
    }

    /// Casts a ballot: the vote must be open and this voter must not have voted; checked in the transaction, with
    /// the unique voter key as the last word.
    pub async fn cast_ballot(
        &self,
        topic: &Topic,
        (voter_key, household_id, resident_id): (&str, i64, Option<i64>),
        choice: &str,
        channel: &str,
        change: Change,
    ) -> Result<()> {
        let options = topic.options();
        let closes = topic.vote_closes_at.unwrap_or(change.at);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let status: String = sqlx::query_scalar("SELECT status FROM topics WHERE id = $1").bind(topic.id).fetch_one(&mut *tx).await?;
            let voted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ballots WHERE topic_id = $1 AND voter_key = $2")
                .bind(topic.id).bind(voter_key).fetch_one(&mut *tx).await?;
            may_cast(TopicStatus::parse(&status).unwrap_or(TopicStatus::Proposed), closes, &options, choice, voted > 0, change.at).map_err(refuse)?;
            sqlx::query("INSERT INTO ballots (topic_id, voter_key, household_id, resident_id, choice, channel, entered_by, cast_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(topic.id).bind(voter_key).bind(household_id).bind(resident_id).bind(choice).bind(channel).bind(change.actor_id).bind(change.at)
                .execute(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "已投过票，不能重复投票 / has voted already"))?;
            // A secret ballot's event records that the voter voted, not what they chose.
            let shown = if topic.secret { serde_json::Value::Null } else { serde_json::json!(choice) };
            let change = Change { community_id: Some(topic.community_id), entity: "topic".into(), entity_id: topic.id.to_string(),
                after: serde_json::json!({"ballot": voter_key, "channel": channel, "choice": shown}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The choices cast on a topic, and whether a given voter key has voted.
    pub async fn ballots(&self, topic_id: i64) -> Result<Vec<(String, String, String)>> {
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as("SELECT voter_key, choice, channel FROM ballots WHERE topic_id = $1 ORDER BY id")
            .bind(topic_id).fetch_all(pool).await?),
        )
    }

    /// Adds a comment to the discussion, or an update (progress, objection).
    pub async fn add_topic_note(&self, topic: &Topic, kind: &str, text: &str, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if kind == "comment" {
                sqlx::query("INSERT INTO topic_comments (topic_id, user_id, author, text, at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(topic.id).bind(change.actor_id).bind(&change.actor).bind(text).bind(change.at).execute(&mut *tx).await?;
            } else {
                sqlx::query("INSERT INTO topic_updates (topic_id, kind, text, author, at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(topic.id).bind(kind).bind(text).bind(&change.actor).bind(change.at).execute(&mut *tx).await?;
            }
            let change = Change { community_id: Some(topic.community_id), entity: "topic".into(), entity_id: topic.id.to_string(),
                after: serde_json::json!({kind: text}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Hides a comment (moderation); the event keeps what it said.
    pub async fn hide_comment(&self, topic: &Topic, comment_id: i64, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE topic_comments SET hidden = TRUE WHERE id = $1 AND topic_id = $2").bind(comment_id).bind(topic.id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            let change = Change { community_id: Some(topic.community_id), entity: "topic".into(), entity_id: topic.id.to_string(),
                after: serde_json::json!({"hidden_comment": comment_id}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The discussion and the updates of a topic, oldest first.
    pub async fn topic_notes(&self, topic_id: i64) -> Result<Vec<TopicNote>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, TopicNote>(
            "SELECT id, 'comment' AS kind, author, text, hidden, at FROM topic_comments WHERE topic_id = $1 \
             UNION ALL SELECT id, kind, author, text, FALSE AS hidden, at FROM topic_updates WHERE topic_id = $1 ORDER BY at, id")
            .bind(topic_id).fetch_all(pool).await?))
    }
}
