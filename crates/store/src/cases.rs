//! Rectification cases (整改): every step recorded, the case numbered per community and year, building
//! baselines (the delivery-day look), and the zero-illegal-construction board.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Opens the case of finding `$id` inside transaction `$tx`, with its notice step; evaluates to the case id.
macro_rules! open_case {
    ($tx:expr, $new:expr, $id:expr, $recurrence:expr, $at:expr) => {{
        let new: &$crate::NewFinding = $new;
        let year = chrono::Datelike::year(&$at.with_timezone(&$crate::beijing()));
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO counters (community_id, kind, year, last) VALUES ($1, 'case', $2, 1) \
             ON CONFLICT (community_id, kind, year) DO UPDATE SET last = counters.last + 1 RETURNING last",
        )
        .bind(new.community_id)
        .bind(i64::from(year))
        .fetch_one(&mut *$tx)
        .await?;
        let number = format!("ZG-{}-{}-{:04}", new.community_code, year, seq);
        let case: i64 = sqlx::query_scalar(
            "INSERT INTO rectification_cases (community_id, number, finding_id, kind, place_key, place_text, building_id, \
               household_id, status, recurrence, opened_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'noticed', $9, $10) RETURNING id",
        )
        .bind(new.community_id)
        .bind(&number)
        .bind($id)
        .bind(&new.kind)
        .bind(&new.place_key)
        .bind(&new.place_text)
        .bind(new.building_id)
        .bind(new.household_id)
        .bind($recurrence)
        .bind($at)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO case_steps (case_id, kind, note, actor, at) VALUES ($1, 'notice', '巡查发现，已告知住户 / found on patrol, household notified', 'system', $2)",
        )
        .bind(case)
        .bind($at)
        .execute(&mut *$tx)
        .await?;
        case
    }};
}
pub(crate) use open_case;

/// A rectification case.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Case {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Number, e.g. `ZG-WT-2024-0001`.
    pub number: String,
    /// The finding that opened it.
    pub finding_id: i64,
    /// Type code.
    pub kind: String,
    /// Readable place.
    pub place_text: String,
    /// Building.
    pub building_id: Option<i64>,
    /// Household.
    pub household_id: Option<i64>,
    /// Status code.
    pub status: String,
    /// Agreed deadline.
    pub agreed_deadline: Option<NaiveDate>,
    /// Who removes it.
    pub handled_by: Option<String>,
    /// A linked service request.
    pub request_id: Option<i64>,
    /// The same spot had the same problem before.
    pub recurrence: bool,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Optimistic-lock version.
    pub version: i64,
}

const CASE_COLUMNS: &str = "c.id, c.community_id, c.number, c.finding_id, c.kind, c.place_text, c.building_id, c.household_id, \
    c.status, c.agreed_deadline, c.handled_by, c.request_id, c.recurrence, c.opened_at, c.closed_at, c.version \
    FROM rectification_cases c";

/// A step on a case.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseStep {
    /// `notice`, `visit`, `handle`, `reinspect`, `close`, `link`.
    pub kind: String,
    /// Visit outcome, handler, or re-inspection result.
    pub outcome: Option<String>,
    /// What was said or done.
    pub note: String,
    /// Deadline agreed at this step.
    pub deadline: Option<NaiveDate>,
    /// Photo blob.
    pub photo_blob: Option<String>,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A step to record, with the case's new state.
#[derive(Debug, Clone)]
pub struct CaseUpdate {
    /// The step's kind.
    pub kind: String,
    /// Outcome.
    pub outcome: Option<String>,
    /// Note.
    pub note: String,
    /// Deadline agreed.
    pub deadline: Option<NaiveDate>,
    /// Photo (blob, media type).
    pub photo: Option<(String, String)>,
    /// The status after the step.
    pub status: String,
    /// Who removes it, when set by this step.
    pub handled_by: Option<String>,
    /// A request to link.
    pub request_id: Option<i64>,
}

/// A delivery-day baseline of a building: photo and note to compare against.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Baseline {
    /// Id.
    pub id: i64,
    /// Building.
    pub building_id: i64,
    /// Note.
    pub note: String,
    /// Photo blob.
    pub blob: Option<String>,
    /// When.
    pub recorded_at: DateTime<Utc>,
}

/// A building on the zero board.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BoardBuilding {
    /// Compound.
    pub compound_name: String,
    /// Building id.
    pub building_id: i64,
    /// Building number.
    pub building_number: i64,
    /// Open illegal-construction cases.
    pub open_cases: i64,
    /// When the oldest open one was opened.
    pub oldest: DateTime<Utc>,
    /// Recurrences among them.
    pub recurrences: i64,
}

/// The zero-illegal-construction board (零违建).
#[derive(Debug, Clone, Serialize)]
pub struct ZeroBoard {
    /// Open illegal-construction cases in all.
    pub open: i64,
    /// Buildings with open cases, most first.
    pub buildings: Vec<BoardBuilding>,
    /// Open cases at the end of each of the last twelve weeks (oldest first): (week end date, open).
    pub trend: Vec<(NaiveDate, i64)>,
    /// Cases closed in the last 30 days.
    pub closed_30_days: i64,
}

impl Store {
    /// One case.
    pub async fn case(&self, id: i64) -> Result<Case> {
        let sql = format!("SELECT {CASE_COLUMNS} WHERE c.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Cases of a community: open ones oldest first, or all newest first; optionally of one building.
    pub async fn cases(
        &self,
        community_id: i64,
        open_only: bool,
        building_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Case>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} WHERE c.community_id = $1 AND ($2 = FALSE OR c.status <> 'closed') AND ($3 IS NULL OR c.building_id = $3) \
             ORDER BY CASE WHEN c.status = 'closed' THEN 1 ELSE 0 END, c.opened_at LIMIT {}",
            limit.clamp(1, 1000)
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(open_only).bind(building_id).fetch_all(pool).await?))
    }

    /// The cases of a community closed in `start..end`, in the order they were closed.
    pub async fn cases_closed_between(
        &self,
        community_id: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Case>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} WHERE c.community_id = $1 AND c.closed_at >= $2 AND c.closed_at < $3 ORDER BY c.closed_at, c.id"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Case>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(start).bind(end).fetch_all(pool).await?))
    }

    /// A case's steps, oldest first.
    pub async fn case_steps(&self, case_id: i64) -> Result<Vec<CaseStep>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, CaseStep>(
            "SELECT kind, outcome, note, deadline, photo_blob, actor, at FROM case_steps WHERE case_id = $1 ORDER BY id")
            .bind(case_id).fetch_all(pool).await?))
    }

    /// Records a step decided by the caller, if the case is still at `case.version`.
    pub async fn update_case(&self, case: &Case, step: &CaseUpdate, change: Change) -> Result<Case> {
        let closed_at = (step.status == "closed").then_some(change.at);
        let deadline = step.deadline.or(case.agreed_deadline);
        let handled_by = step.handled_by.clone().or_else(|| case.handled_by.clone());
        let request_id = step.request_id.or(case.request_id);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE rectification_cases SET status = $1, agreed_deadline = $2, handled_by = $3, request_id = $4, closed_at = $5, \
                   version = version + 1 WHERE id = $6 AND version = $7")
                .bind(&step.status).bind(deadline).bind(&handled_by).bind(request_id).bind(closed_at)
                .bind(case.id).bind(case.version).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("案件已被他人更新，请刷新 / the case was changed by someone else".into()));
            }
            let (blob, media) = step.photo.clone().unzip();
            sqlx::query("INSERT INTO case_steps (case_id, kind, outcome, note, deadline, photo_blob, photo_type, actor_id, actor, at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(case.id).bind(&step.kind).bind(&step.outcome).bind(&step.note).bind(step.deadline).bind(&blob).bind(&media)
                .bind(change.actor_id).bind(&change.actor).bind(change.at).execute(&mut *tx).await?;
            let change = Change { community_id: Some(case.community_id), entity: "case".into(), entity_id: case.id.to_string(),
                before: serde_json::json!({"status": case.status}),
                after: serde_json::json!({"status": step.status, "step": step.kind, "outcome": step.outcome, "note": step.note,
                    "deadline": step.deadline, "photo": blob, "request_id": step.request_id}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.case(case.id).await
    }

    /// Records a building's delivery-day baseline.
    pub async fn add_baseline(
        &self,
        building_id: i64,
        community_id: i64,
        note: &str,
        photo: Option<(String, String)>,
        change: Change,
    ) -> Result<()> {
        let (blob, media) = photo.unzip();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO building_baselines (building_id, note, blob, media_type, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(building_id).bind(note).bind(&blob).bind(&media).bind(change.actor_id).bind(change.at).execute(&mut *tx).await?;
            let change = Change { community_id: Some(community_id), entity: "building".into(), entity_id: building_id.to_string(),
                after: serde_json::json!({"baseline": note, "photo": blob}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A building's baselines, oldest first.
    pub async fn baselines(&self, building_id: i64) -> Result<Vec<Baseline>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Baseline>(
            "SELECT id, building_id, note, blob, recorded_at FROM building_baselines WHERE building_id = $1 ORDER BY id")
            .bind(building_id).fetch_all(pool).await?))
    }

    /// The zero-illegal-construction board at `now`.
    pub async fn zero_board(&self, community_id: i64, now: DateTime<Utc>) -> Result<ZeroBoard> {
        const ILLEGAL: &str = "('window_guard', 'illegal_construction')";
        let by_building = format!(
            "SELECT p.name AS compound_name, b.id AS building_id, b.number AS building_number, COUNT(*) AS open_cases, \
               MIN(c.opened_at) AS oldest, SUM(CASE WHEN c.recurrence THEN 1 ELSE 0 END) AS recurrences \
             FROM rectification_cases c JOIN buildings b ON b.id = c.building_id JOIN compounds p ON p.id = b.compound_id \
             WHERE c.community_id = $1 AND c.status <> 'closed' AND c.kind IN {ILLEGAL} \
             GROUP BY p.name, p.number, b.id, b.number ORDER BY COUNT(*) DESC, p.number, b.number"
        );
        let open_sql = format!(
            "SELECT COUNT(*) FROM rectification_cases WHERE community_id = $1 AND status <> 'closed' AND kind IN {ILLEGAL}"
        );
        let window_start = now - Duration::weeks(12);
        let ends: Vec<DateTime<Utc>> = (0..12).rev().map(|w| now - Duration::weeks(w)).collect();
        // Open at each week's end, counted in the database: one row back however long the history.
        let mut sums: Vec<String> = (0..12)
            .map(|i| {
                let p = i + 3;
                format!("COALESCE(SUM(CASE WHEN opened_at <= ${p} AND (closed_at IS NULL OR closed_at > ${p}) THEN 1 ELSE 0 END), 0)")
            })
            .collect();
        sums.push("COALESCE(SUM(CASE WHEN closed_at >= $15 THEN 1 ELSE 0 END), 0)".into());
        let trend_sql = format!(
            "SELECT {} FROM rectification_cases WHERE community_id = $1 AND kind IN {ILLEGAL} \
             AND (status <> 'closed' OR closed_at >= $2)",
            sums.join(", ")
        );
        let (buildings, open, counts) = with_db!(self, read, pool, _pg => {
            let b = sqlx::query_as::<_, BoardBuilding>(sqlx::AssertSqlSafe(by_building)).bind(community_id).fetch_all(pool).await?;
            let o: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(open_sql)).bind(community_id).fetch_one(pool).await?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(trend_sql)).bind(community_id).bind(window_start);
            for end in &ends {
                q = q.bind(*end);
            }
            let row = q.bind(now - Duration::days(30)).fetch_one(pool).await?;
            let counts: Vec<i64> = (0..13).map(|i| sqlx::Row::try_get::<i64, _>(&row, i)).collect::<std::result::Result<_, _>>()?;
            (b, o, counts)
        });
        let trend =
            ends.iter().zip(&counts).map(|(end, n)| (end.with_timezone(&crate::beijing()).date_naive(), *n)).collect();
        let closed_30_days = counts[12];
        Ok(ZeroBoard { open, buildings, trend, closed_30_days })
    }

    /// Counts of open cases by status (for the case list's header).
    pub async fn case_counts(&self, community_id: i64) -> Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT status, COUNT(*) FROM rectification_cases WHERE community_id = $1 GROUP BY status")
            .bind(community_id).fetch_all(pool).await?);
        Ok(rows.into_iter().collect())
    }
}
