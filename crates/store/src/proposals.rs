//! Acting before the complaint (未诉先办): the detector's findings kept as proposals that staff accept or dismiss,
//! and the outcome of those they took on — in words, and in the requests that came before and after.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use wujia_core::proactive::{Detection, Pattern, ProposalStatus, Signal, detect, propose};

/// A proposal made from a detection.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Proposal {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// `recurring`, `rising`, `seasonal` or `repeat_caller`.
    pub pattern: String,
    /// What it is about, in words (a category's name or a household's address).
    pub subject: String,
    /// The building, for a recurrence or a household.
    pub building_id: Option<i64>,
    /// The household, for a repeat caller.
    pub household_id: Option<i64>,
    /// The category, or the two-level kind, whose requests measure the outcome (empty for a household).
    pub category_code: String,
    /// `task` or `topic_of_month`.
    pub kind: String,
    /// What is proposed.
    pub title: String,
    /// The numbers behind it.
    pub evidence: String,
    /// When the detector saw it.
    pub detected_at: DateTime<Utc>,
    /// `open`, `accepted`, `dismissed` or `done`.
    pub status: String,
    /// The plan when accepted, or the reason when dismissed.
    pub note: String,
    /// Who carries it out.
    pub owner_id: Option<i64>,
    /// By when.
    pub due: Option<NaiveDate>,
    /// Who decided.
    pub decided_by: Option<i64>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// What came of it.
    pub outcome: String,
    /// When it was recorded done.
    pub done_at: Option<DateTime<Utc>>,
    /// Optimistic-lock version.
    pub version: i64,
}

const COLUMNS: &str = "id, community_id, pattern, subject, building_id, household_id, category_code, kind, title, evidence, \
     detected_at, status, note, owner_id, due, decided_by, decided_at, outcome, done_at, version FROM proposals";

/// Requests like the ones behind a proposal in the 30 days before and after it was decided (or detected, while
/// open): the measured side of its outcome.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Effect {
    /// In the 30 days before.
    pub before: i64,
    /// In the 30 days after (fewer while the 30 days are not over).
    pub after: i64,
    /// Whether the 30 days after are over.
    pub complete: bool,
}

/// How a decision changes a proposal.
#[derive(Debug, Clone)]
pub struct ProposalUpdate {
    /// The new status.
    pub status: ProposalStatus,
    /// Plan or reason (kept when `None`).
    pub note: Option<String>,
    /// Who carries it out.
    pub owner_id: Option<i64>,
    /// By when.
    pub due: Option<NaiveDate>,
    /// The outcome (kept when `None`).
    pub outcome: Option<String>,
}

/// A request as read for the detector: received, category code, building, household.
type SignalRow = (DateTime<Utc>, String, Option<i64>, Option<i64>);

fn pattern_code(p: Pattern) -> &'static str {
    match p {
        Pattern::Recurring => "recurring",
        Pattern::Rising => "rising",
        Pattern::Seasonal => "seasonal",
        Pattern::RepeatCaller => "repeat_caller",
    }
}

impl Store {
    /// Claims the next detector run for a community if none ran in the last `every`, so that one node runs it.
    pub async fn claim_proposal_scan(&self, community_id: i64, now: DateTime<Utc>, every: Duration) -> Result<bool> {
        let n = with_db!(self, write, pool, _pg => sqlx::query(
            "UPDATE communities SET proposals_scanned_at = $1 WHERE id = $2 \
             AND (proposals_scanned_at IS NULL OR proposals_scanned_at <= $3)")
            .bind(now).bind(community_id).bind(now - every).execute(pool).await?.rows_affected());
        Ok(n == 1)
    }

    /// The requests of a community received since `since`, as the detector sees them, in time order.
    pub async fn detector_signals(&self, community_id: i64, since: DateTime<Utc>) -> Result<Vec<Signal>> {
        let rows: Vec<SignalRow> = with_db!(self, read, pool, _pg => sqlx::query_as(
                "SELECT r.received_at, c.code, r.building_id, r.household_id FROM service_requests r \
                 JOIN request_categories c ON c.id = r.category_id WHERE r.community_id = $1 AND r.received_at >= $2 \
                 ORDER BY r.received_at")
                .bind(community_id).bind(since).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(at, category, building, household)| Signal { at, category, building, household })
            .collect())
    }

    /// Runs the detector over a community's requests since `since` and records each new detection as an open
    /// proposal, once. Returns how many were new.
    pub async fn scan_proposals(&self, community_id: i64, since: DateTime<Utc>, change: Change) -> Result<usize> {
        let signals = self.detector_signals(community_id, since).await?;
        let detections = detect(&signals);
        if detections.is_empty() {
            return Ok(0);
        }
        self.record_proposals(community_id, &detections, change).await
    }

    async fn record_proposals(&self, community_id: i64, detections: &[Detection], change: Change) -> Result<usize> {
        let names: HashMap<String, String> =
            self.categories().await?.into_iter().map(|c| (c.code, c.name_zh)).collect();
        let buildings: HashMap<i64, String> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, (i64, String)>(
            "SELECT b.id, c.name || b.number || '号楼' FROM buildings b JOIN compounds c ON c.id = b.compound_id \
             WHERE b.community_id = $1")
            .bind(community_id).fetch_all(pool).await?)
        .into_iter()
        .collect();
        let mut rows = Vec::new();
        for d in detections {
            let (subject, place, household, code) = match d.pattern {
                Pattern::RepeatCaller => {
                    let id = d.key.trim_start_matches("household:").parse::<i64>().ok();
                    let address = match id {
                        Some(id) => self.household(id, change.at.date_naive()).await.map(|h| h.address).ok(),
                        None => None,
                    };
                    let address = address.unwrap_or_else(|| d.key.clone());
                    (address.clone(), Some(address), id, String::new())
                }
                _ => {
                    let code = d.key.split('@').next().unwrap_or(&d.key).to_string();
                    let name = names.get(&code).cloned().unwrap_or_else(|| code.clone());
                    (name, d.building.and_then(|b| buildings.get(&b).cloned()), None, code)
                }
            };
            let (kind, title) = propose(d, &subject, place.as_deref());
            let dedupe = format!("{}|{}|{}", pattern_code(d.pattern), d.key, d.building.unwrap_or(0));
            rows.push((d, subject, household, code, kind, title, dedupe));
        }
        let mut created = 0;
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            for (d, subject, household, code, kind, title, dedupe) in &rows {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO proposals (community_id, pattern, subject, building_id, household_id, category_code, dedupe, kind, \
                       title, evidence, detected_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open') \
                     ON CONFLICT (community_id, dedupe) DO NOTHING RETURNING id")
                    .bind(community_id).bind(pattern_code(d.pattern)).bind(subject).bind(d.building).bind(*household).bind(code)
                    .bind(dedupe).bind(kind.code()).bind(title).bind(&d.evidence).bind(d.at)
                    .fetch_optional(&mut *tx).await?;
                let Some(id) = id else { continue };
                created += 1;
                let change = Change { community_id: Some(community_id), entity: "proposal".into(), entity_id: id.to_string(),
                    action: "proposal.detect".into(),
                    after: serde_json::json!({"pattern": pattern_code(d.pattern), "title": title, "evidence": d.evidence, "detected_at": d.at}),
                    ..change.clone() };
                append_event!(tx, pg, &change);
            }
            tx.commit().await?;
        });
        Ok(created)
    }

    /// Proposals of a community, open ones first, newest detection first.
    pub async fn proposals(&self, community_id: i64, status: Option<&str>) -> Result<Vec<Proposal>> {
        let sql = format!(
            "SELECT {COLUMNS} WHERE community_id = $1 AND ($2 IS NULL OR status = $2) \
             ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'accepted' THEN 1 ELSE 2 END, detected_at DESC, id DESC LIMIT 500"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Proposal>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(status).fetch_all(pool).await?))
    }

    /// One proposal.
    pub async fn proposal(&self, id: i64) -> Result<Proposal> {
        let sql = format!("SELECT {COLUMNS} WHERE id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Proposal>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Writes a decision on a proposal if nobody changed it since it was read.
    pub async fn update_proposal(&self, p: &Proposal, u: &ProposalUpdate, change: Change) -> Result<Proposal> {
        let status = u.status.code();
        let note = u.note.clone().unwrap_or_else(|| p.note.clone());
        let outcome = u.outcome.clone().unwrap_or_else(|| p.outcome.clone());
        let deciding = p.status == "open";
        let (decided_by, decided_at) =
            if deciding { (change.actor_id, Some(change.at)) } else { (p.decided_by, p.decided_at) };
        let done_at = (u.status == ProposalStatus::Done).then_some(change.at).or(p.done_at);
        let owner_id = u.owner_id.or(p.owner_id);
        let due = u.due.or(p.due);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE proposals SET status = $1, note = $2, owner_id = $3, due = $4, decided_by = $5, decided_at = $6, \
                                 outcome = $7, done_at = $8, version = version + 1 WHERE id = $9 AND version = $10")
                .bind(status).bind(&note).bind(owner_id).bind(due).bind(decided_by).bind(decided_at).bind(&outcome).bind(done_at)
                .bind(p.id).bind(p.version).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("建议已被他人处理，请刷新 / the proposal was changed by someone else".into()));
            }
            let change = Change { community_id: Some(p.community_id), entity: "proposal".into(), entity_id: p.id.to_string(),
                before: serde_json::json!({"status": p.status, "note": p.note, "outcome": p.outcome}),
                after: serde_json::json!({"status": status, "note": note, "owner_id": owner_id, "due": due, "outcome": outcome}),
                ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.proposal(p.id).await
    }

    /// Requests like the ones behind a proposal, 30 days either side of its decision (or its detection while open).
    pub async fn proposal_effect(&self, p: &Proposal, now: DateTime<Utc>) -> Result<Effect> {
        let pivot = p.decided_at.unwrap_or(p.detected_at);
        let window = Duration::days(30);
        let count = |from: DateTime<Utc>, to: DateTime<Utc>| async move {
            Ok::<i64, StoreError>(with_db!(self, read, pool, _pg => sqlx::query_scalar(
                "SELECT COUNT(*) FROM service_requests r JOIN request_categories c ON c.id = r.category_id \
                 WHERE r.community_id = $1 AND r.received_at >= $2 AND r.received_at < $3 \
                   AND ($4 IS NULL OR r.household_id = $4) \
                   AND ($5 IS NULL OR r.building_id = $5) \
                   AND ($6 = '' OR c.code = $6 OR c.code LIKE $6 || '.%')")
                .bind(p.community_id).bind(from).bind(to).bind(p.household_id)
                .bind(if p.pattern == "recurring" { p.building_id } else { None })
                .bind(&p.category_code).fetch_one(pool).await?))
        };
        Ok(Effect {
            before: count(pivot - window, pivot).await?,
            after: count(pivot, (pivot + window).min(now)).await?,
            complete: now >= pivot + window,
        })
    }
}
