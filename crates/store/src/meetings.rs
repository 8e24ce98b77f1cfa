//! The tri-party joint meeting (联席会): meetings, their frozen agendas and minutes, and the action items that
//! carry over until done.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use wujia_core::patrol::meetings::{ActionItem, LateRequest, OpenAction, OpenCase, Party};

/// A joint meeting.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Meeting {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Place.
    pub place: String,
    /// `planned` or `held`.
    pub status: String,
    /// Who attended (JSON array of {party, name}).
    pub attendance: String,
    /// Minutes.
    pub minutes: String,
    /// The agenda as it stood when the meeting was held (JSON).
    pub agenda: Option<String>,
    /// When it was held.
    pub held_at: Option<DateTime<Utc>>,
}

const MEETING_COLUMNS: &str =
    "id, community_id, title, starts_at, place, status, attendance, minutes, agenda, held_at FROM joint_meetings";

/// An action item of a meeting.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MeetingAction {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The meeting that resolved it.
    pub meeting_id: i64,
    /// What.
    pub title: String,
    /// Owning party code.
    pub party: String,
    /// Person answerable.
    pub owner: String,
    /// Due.
    pub due: NaiveDate,
    /// `open` or `done`.
    pub status: String,
    /// Latest progress.
    pub progress: String,
    /// A linked case.
    pub case_id: Option<i64>,
    /// Done.
    pub done_at: Option<DateTime<Utc>>,
    /// Optimistic-lock version.
    pub version: i64,
}

const ACTION_COLUMNS: &str = "id, community_id, meeting_id, title, party, owner, due, status, progress, case_id, done_at, version FROM meeting_actions";

impl Store {
    /// Schedules a meeting.
    pub async fn create_meeting(
        &self,
        community_id: i64,
        title: &str,
        starts_at: DateTime<Utc>,
        place: &str,
        change: Change,
    ) -> Result<Meeting> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO joint_meetings (community_id, title, starts_at, place, status, attendance, minutes, created_at) \
                 VALUES ($1, $2, $3, $4, 'planned', '[]', '', $5) RETURNING id")
                .bind(community_id).bind(title).bind(starts_at).bind(place).bind(change.at).fetch_one(&mut *tx).await?;
            let change = Change { community_id: Some(community_id), entity: "meeting".into(), entity_id: id.to_string(),
                after: serde_json::json!({"title": title, "starts_at": starts_at, "place": place}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.meeting(id).await
    }

    /// One meeting.
    pub async fn meeting(&self, id: i64) -> Result<Meeting> {
        let sql = format!("SELECT {MEETING_COLUMNS} WHERE id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Meeting>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Meetings of a community, newest first.
    pub async fn meetings(&self, community_id: i64) -> Result<Vec<Meeting>> {
        let sql = format!("SELECT {MEETING_COLUMNS} WHERE community_id = $1 ORDER BY starts_at DESC LIMIT 200");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Meeting>(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(pool).await?),
        )
    }

    /// What an agenda is built from: actions not done, open cases, and open requests past their deadline.
    pub async fn agenda_inputs(
        &self,
        community_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(Vec<OpenAction>, Vec<OpenCase>, Vec<LateRequest>)> {
        let actions = self.meeting_actions(community_id, true, None).await?;
        let actions = actions
            .into_iter()
            .filter_map(|a| Some(OpenAction { id: a.id, title: a.title, party: Party::parse(&a.party)?, due: a.due }))
            .collect();
        let cases = self
            .cases(community_id, true, None, 200)
            .await?
            .into_iter()
            .map(|c| OpenCase { id: c.id, number: c.number, kind: c.kind, title: c.place_text, opened_at: c.opened_at })
            .collect();
        let late: Vec<(i64, String, String, DateTime<Utc>)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT id, number, description, resolve_due FROM service_requests WHERE community_id = $1 \
             AND status IN ('received', 'responded', 'dispatched', 'in_progress') AND resolve_due < $2 ORDER BY resolve_due LIMIT 100")
            .bind(community_id).bind(at).fetch_all(pool).await?);
        let late = late
            .into_iter()
            .map(|(id, number, title, resolve_due)| LateRequest { id, number, title, resolve_due })
            .collect();
        Ok((actions, cases, late))
    }

    /// Records a meeting as held: who attended, the minutes, the agenda as it stood, and its resolutions.
    pub async fn hold_meeting(
        &self,
        meeting: &Meeting,
        attendance: &serde_json::Value,
        minutes: &str,
        agenda: &serde_json::Value,
        actions: &[(ActionItem, Option<i64>)],
        change: Change,
    ) -> Result<Meeting> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE joint_meetings SET status = 'held', attendance = $1, minutes = $2, agenda = $3, held_at = $4 \
                                 WHERE id = $5 AND status = 'planned'")
                .bind(attendance.to_string()).bind(minutes).bind(agenda.to_string()).bind(change.at).bind(meeting.id)
                .execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("会议纪要已记录 / the minutes of this meeting are recorded already".into()));
            }
            for (a, case_id) in actions {
                sqlx::query("INSERT INTO meeting_actions (community_id, meeting_id, title, party, owner, due, status, progress, case_id, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, 'open', '', $7, $8)")
                    .bind(meeting.community_id).bind(meeting.id).bind(&a.title).bind(a.party.code()).bind(&a.owner).bind(a.due)
                    .bind(*case_id).bind(change.at).execute(&mut *tx).await?;
            }
            let change = Change { community_id: Some(meeting.community_id), entity: "meeting".into(), entity_id: meeting.id.to_string(),
                after: serde_json::json!({"held": true, "attendance": attendance, "minutes": minutes,
                    "actions": actions.iter().map(|(a, c)| serde_json::json!({"title": a.title, "party": a.party, "owner": a.owner, "due": a.due, "case_id": c})).collect::<Vec<_>>()}),
                ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.meeting(meeting.id).await
    }

    /// Actions of a community, optionally only open ones and only one party's, by due date.
    pub async fn meeting_actions(
        &self,
        community_id: i64,
        open_only: bool,
        party: Option<&str>,
    ) -> Result<Vec<MeetingAction>> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} WHERE community_id = $1 AND ($2 = FALSE OR status = 'open') AND ($3 IS NULL OR party = $3) \
             ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, due, id LIMIT 500"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, MeetingAction>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(open_only).bind(party).fetch_all(pool).await?))
    }

    /// Actions resolved at one meeting.
    pub async fn actions_of_meeting(&self, meeting_id: i64) -> Result<Vec<MeetingAction>> {
        let sql = format!("SELECT {ACTION_COLUMNS} WHERE meeting_id = $1 ORDER BY id");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, MeetingAction>(sqlx::AssertSqlSafe(sql)).bind(meeting_id).fetch_all(pool).await?),
        )
    }

    /// One action.
    pub async fn meeting_action(&self, id: i64) -> Result<MeetingAction> {
        let sql = format!("SELECT {ACTION_COLUMNS} WHERE id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, MeetingAction>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Records progress on an action, and optionally that it is done, if it is still at `action.version`.
    pub async fn update_meeting_action(
        &self,
        action: &MeetingAction,
        progress: &str,
        done: bool,
        change: Change,
    ) -> Result<MeetingAction> {
        let status = if done { "done" } else { "open" };
        let done_at = done.then_some(change.at);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE meeting_actions SET progress = $1, status = $2, done_at = $3, version = version + 1 \
                                 WHERE id = $4 AND version = $5")
                .bind(progress).bind(status).bind(done_at).bind(action.id).bind(action.version).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("事项已被他人更新，请刷新 / the action was changed by someone else".into()));
            }
            let change = Change { community_id: Some(action.community_id), entity: "meeting_action".into(), entity_id: action.id.to_string(),
                before: serde_json::json!({"status": action.status, "progress": action.progress}),
                after: serde_json::json!({"status": status, "progress": progress}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.meeting_action(action.id).await
    }
}
