//! Notifications: the in-app inbox, outside channels, the outbox with every delivery attempt, the duty roster,
//! and deadline alerts sent once each.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What a change tells whom: inbox messages to accounts and messages to outside channels.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    /// (account, title, body, link)
    pub inbox: Vec<(i64, String, String, String)>,
    /// Messages to outside channels.
    pub outside: Vec<Outgoing>,
}

/// How soon a message to an outside channel must go: the outbox sends every emergency before anything routine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// In the order queued.
    #[default]
    Routine,
    /// Ahead of every routine message.
    Emergency,
}

impl Priority {
    /// The rank kept in `outbox.priority`: higher goes first.
    pub(crate) fn rank(self) -> i64 {
        match self {
            Self::Routine => 0,
            Self::Emergency => 1,
        }
    }
}

/// A message for an outside channel, queued in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The channel.
    pub channel_id: i64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Its place in the queue.
    pub priority: Priority,
}

impl Notices {
    /// The notices with `{number}` and `{id}` replaced by those of a request known only on insert.
    pub fn for_request(&self, number: &str, id: i64) -> Notices {
        let fill = |s: &String| s.replace("{number}", number).replace("{id}", &id.to_string());
        Notices {
            inbox: self.inbox.iter().map(|(u, t, b, l)| (*u, fill(t), fill(b), fill(l))).collect(),
            outside: self
                .outside
                .iter()
                .map(|o| Outgoing { title: fill(&o.title), body: fill(&o.body), ..o.clone() })
                .collect(),
        }
    }

    /// Nothing to tell.
    pub fn is_empty(&self) -> bool {
        self.inbox.is_empty() && self.outside.is_empty()
    }
}

/// Writes notices inside transaction `$tx`, so they exist exactly when the change does.
macro_rules! write_notices {
    ($tx:expr, $notices:expr, $request:expr, $now:expr) => {{
        let notices: &$crate::Notices = $notices;
        for (user, title, body, link) in &notices.inbox {
            sqlx::query("INSERT INTO inbox (user_id, title, body, link, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(*user)
                .bind(title)
                .bind(body)
                .bind(link)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
        for o in &notices.outside {
            sqlx::query(
                "INSERT INTO outbox (channel_id, request_id, title, body, priority, status, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)",
            )
            .bind(o.channel_id)
            .bind($request)
            .bind(&o.title)
            .bind(&o.body)
            .bind(o.priority.rank())
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}
pub(crate) use write_notices;

/// Writes the notices of many new requests inside transaction `$tx` (`&[(Notices, request id, at)]`), many rows
/// per statement.
macro_rules! write_request_notices {
    ($tx:expr, $notices:expr) => {{
        let notices: &[($crate::Notices, i64, chrono::DateTime<chrono::Utc>)] = $notices;
        let inbox: Vec<(&(i64, String, String, String), chrono::DateTime<chrono::Utc>)> =
            notices.iter().flat_map(|(n, _, at)| n.inbox.iter().map(move |m| (m, *at))).collect();
        for chunk in inbox.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO inbox (user_id, title, body, link, created_at) ");
            qb.push_values(chunk, |mut b, ((user, title, body, link), at)| {
                b.push_bind(*user)
                    .push_bind(title.clone())
                    .push_bind(body.clone())
                    .push_bind(link.clone())
                    .push_bind(*at);
            });
            qb.build().execute(&mut *$tx).await?;
        }
        let outside: Vec<(&$crate::Outgoing, i64, chrono::DateTime<chrono::Utc>)> =
            notices.iter().flat_map(|(n, id, at)| n.outside.iter().map(move |m| (m, *id, *at))).collect();
        for chunk in outside.chunks(1000) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO outbox (channel_id, request_id, title, body, priority, status, next_attempt_at, created_at) ",
            );
            qb.push_values(chunk, |mut b, (o, id, at)| {
                b.push_bind(o.channel_id)
                    .push_bind(*id)
                    .push_bind(o.title.clone())
                    .push_bind(o.body.clone())
                    .push_bind(o.priority.rank())
                    .push("'pending'")
                    .push_bind(*at)
                    .push_bind(*at);
            });
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use write_request_notices;

/// An inbox message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InboxItem {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Where to look.
    pub link: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When read.
    pub read_at: Option<DateTime<Utc>>,
}

/// An outside channel: a group robot webhook or an e-mail address.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Channel {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name, e.g. 物业值班群.
    pub name: String,
    /// `wecom`, `dingtalk`, `feishu` or `email`.
    pub kind: String,
    /// Webhook URL or e-mail address.
    pub target: String,
    /// `duty` (emergencies), `property` (the property company's duty line), or `all` (every new request).
    pub purpose: String,
    /// In use.
    pub active: bool,
}

/// A delivery to an outside channel, with its attempts. Its id stays the same over every attempt, so a receiver
/// can tell a retry from a new message by [`Delivery::stable_id`].
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// Channel.
    pub channel_id: i64,
    /// Channel kind.
    pub kind: String,
    /// Target.
    pub target: String,
    /// The request it concerns.
    pub request_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

impl Delivery {
    /// The id a receiver sees on every attempt at this message (an e-mail's `Message-ID`, a robot request's
    /// `Idempotency-Key`).
    pub fn stable_id(&self) -> String {
        format!("wujia-outbox-{}", self.id)
    }
}

/// A duty shift.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DutyShift {
    /// Id.
    pub id: i64,
    /// Who.
    pub user_id: i64,
    /// Their name.
    pub display_name: String,
    /// From.
    pub starts_at: DateTime<Utc>,
    /// Until.
    pub ends_at: DateTime<Utc>,
    /// Note.
    pub note: String,
}

pub(crate) const DELIVERY: &str = "SELECT o.id, o.channel_id, c.kind, c.target, o.request_id, o.title, o.body, o.status, o.attempts, \
     o.last_error, o.created_at, o.sent_at FROM outbox o JOIN notification_channels c ON c.id = o.channel_id";

impl Store {
    /// An account's inbox, newest first.
    pub async fn inbox(&self, user_id: i64, limit: i64) -> Result<Vec<InboxItem>> {
        let sql = format!(
            "SELECT id, title, body, link, created_at, read_at FROM inbox WHERE user_id = $1 ORDER BY id DESC LIMIT {limit}"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, InboxItem>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(pool)
        .await?))
    }

    /// Unread messages of an account.
    pub async fn unread(&self, user_id: i64) -> Result<i64> {
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id)
            .fetch_one(pool)
            .await?),
        )
    }

    /// Marks every message of an account read.
    pub async fn mark_read(&self, user_id: i64, now: DateTime<Utc>) -> Result<()> {
        with_db!(self, write, pool, _pg => {
            sqlx::query("UPDATE inbox SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL").bind(now).bind(user_id).execute(pool).await?;
        });
        Ok(())
    }

    /// Outside channels of a community.
    pub async fn channels(&self, community_id: i64) -> Result<Vec<Channel>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Channel>(
            "SELECT id, community_id, name, kind, target, purpose, active FROM notification_channels WHERE community_id = $1 ORDER BY id",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?))
    }

    /// Adds an outside channel.
    pub async fn create_channel(
        &self,
        community_id: i64,
        name: &str,
        kind: &str,
        target: &str,
        purpose: &str,
        change: Change,
    ) -> Result<Channel> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notification_channels (community_id, name, kind, target, purpose, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(community_id)
            .bind(name)
            .bind(kind)
            .bind(target)
            .bind(purpose)
            .bind(change.at)
            .fetch_one(&mut *tx)
            .await?;
            // The target may hold a robot's secret key: the log keeps only its kind and purpose.
            let change = Change { community_id: Some(community_id), entity: "notification_channel".into(), entity_id: id.to_string(),
                after: serde_json::json!({"name": name, "kind": kind, "purpose": purpose}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.channels(community_id).await?.into_iter().find(|c| c.id == id).ok_or(StoreError::NotFound)
    }

    /// Adds a duty shift.
    pub async fn add_duty(
        &self,
        community_id: i64,
        user_id: i64,
        starts: DateTime<Utc>,
        ends: DateTime<Utc>,
        note: &str,
        change: Change,
    ) -> Result<i64> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO duty_roster (community_id, user_id, starts_at, ends_at, note) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(community_id)
            .bind(user_id)
            .bind(starts)
            .bind(ends)
            .bind(note)
            .fetch_one(&mut *tx)
            .await?;
            let change = Change { community_id: Some(community_id), entity: "duty_shift".into(), entity_id: id.to_string(),
                after: serde_json::json!({"user_id": user_id, "starts_at": starts, "ends_at": ends, "note": note}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Shifts overlapping a period.
    pub async fn duty(&self, community_id: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<DutyShift>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, DutyShift>(
            "SELECT d.id, d.user_id, u.display_name, d.starts_at, d.ends_at, d.note FROM duty_roster d JOIN users u ON u.id = d.user_id \
             WHERE d.community_id = $1 AND d.starts_at < $3 AND d.ends_at > $2 ORDER BY d.starts_at",
        )
        .bind(community_id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?))
    }

    /// Accounts of a role working in a community.
    pub async fn accounts_in(&self, community_id: i64, role: &str) -> Result<Vec<i64>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT u.id FROM users u JOIN user_communities uc ON uc.user_id = u.id \
             WHERE uc.community_id = $1 AND u.role = $2 AND u.active ORDER BY u.id",
        )
        .bind(community_id)
        .bind(role)
        .fetch_all(pool)
        .await?))
    }

    /// The resident accounts of a household.
    pub async fn household_accounts(&self, household_id: i64) -> Result<Vec<i64>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT id FROM users WHERE household_id = $1 AND active ORDER BY id",
        )
        .bind(household_id)
        .fetch_all(pool)
        .await?))
    }

    /// Writes notices on their own (for alerts that change no other state).
    pub async fn notify(&self, notices: &Notices, request_id: Option<i64>, now: DateTime<Utc>) -> Result<()> {
        with_db!(self, write, pool, _pg => {
            let mut tx = pool.begin_write().await?;
            write_notices!(tx, notices, request_id, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deliveries of a community, newest first.
    pub async fn deliveries(&self, community_id: i64, limit: i64) -> Result<Vec<Delivery>> {
        let sql = format!("{DELIVERY} WHERE c.community_id = $1 ORDER BY o.id DESC LIMIT {limit}");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(pool).await?),
        )
    }
}
