//! The volunteer team: applications and approval, shifts with sign-up, check-in and check-out, reported hours
//! and their approval, no-shows, and the figures.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use wujia_core::registry::FieldError;
use wujia_core::volunteers::VolunteerError;

/// A volunteer with their name, address and hours.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct VolunteerRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The resident.
    pub resident_id: i64,
    /// Their name.
    pub name: String,
    /// Their household.
    pub household_id: i64,
    /// Their address.
    pub address: String,
    /// Their account, when they have one.
    pub user_id: Option<i64>,
    /// Status code.
    pub status: String,
    /// Team (吾家有治 …).
    pub team: String,
    /// Skills.
    pub skills: String,
    /// When they can help.
    pub availability: String,
    /// A core member.
    pub core: bool,
    /// Applied.
    pub applied_at: DateTime<Utc>,
    /// Approved or rejected.
    pub decided_at: Option<DateTime<Utc>>,
    /// Approved minutes served.
    pub minutes: i64,
    /// Shifts not turned up to.
    pub no_shows: i64,
    /// Optimistic-lock version.
    pub version: i64,
}

const VOLUNTEER_COLUMNS: &str = "v.id, v.community_id, v.resident_id, r.name, r.household_id, h.address, v.user_id, v.status, v.team, \
    v.skills, v.availability, v.core, v.applied_at, v.decided_at, \
    COALESCE((SELECT CAST(SUM(g.minutes) AS BIGINT) FROM shift_signups g WHERE g.volunteer_id = v.id AND g.minutes_status = 'approved'), 0) AS minutes, \
    (SELECT COUNT(*) FROM shift_signups g WHERE g.volunteer_id = v.id AND g.no_show) AS no_shows, v.version \
    FROM volunteers v JOIN residents r ON r.id = v.resident_id JOIN households h ON h.id = r.household_id";

/// A shift.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Shift {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// `patrol`, `reception`, `activity`, `other`.
    pub kind: String,
    /// Team.
    pub team: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Places.
    pub capacity: i64,
    /// Signed up.
    pub taken: i64,
}

const SHIFT_COLUMNS: &str = "s.id, s.community_id, s.title, s.kind, s.team, s.starts_at, s.ends_at, s.capacity, \
    (SELECT COUNT(*) FROM shift_signups g WHERE g.shift_id = s.id) AS taken FROM volunteer_shifts s";

/// A sign-up with its attendance and hours.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Signup {
    /// Id.
    pub id: i64,
    /// Shift.
    pub shift_id: i64,
    /// Volunteer.
    pub volunteer_id: i64,
    /// Volunteer's name.
    pub name: String,
    /// Signed up.
    pub signed_up_at: DateTime<Utc>,
    /// Checked in.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Checked out.
    pub checked_out_at: Option<DateTime<Utc>>,
    /// Minutes served.
    pub minutes: Option<i64>,
    /// `approved` (from check-out, or reported and approved), `pending` (reported), `rejected`.
    pub minutes_status: Option<String>,
    /// Did not turn up.
    pub no_show: bool,
}

const SIGNUP_COLUMNS: &str = "g.id, g.shift_id, g.volunteer_id, r.name, g.signed_up_at, g.checked_in_at, g.checked_out_at, g.minutes, \
    g.minutes_status, g.no_show FROM shift_signups g JOIN volunteers v ON v.id = g.volunteer_id JOIN residents r ON r.id = v.resident_id";

/// The volunteer figures of a period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VolunteerFacts {
    /// Approved volunteers now.
    pub volunteers: i64,
    /// Of them, core members.
    pub core_members: i64,
    /// Applications waiting.
    pub applications_waiting: i64,
    /// Approved in the period (joined).
    pub joined: i64,
    /// Shifts in the period.
    pub shifts: i64,
    /// Sign-ups for them.
    pub signups: i64,
    /// No-shows.
    pub no_shows: i64,
    /// Approved hours served in them.
    pub hours: f64,
    /// Hours by team.
    pub hours_by_team: std::collections::BTreeMap<String, f64>,
}

fn refuse(e: VolunteerError) -> StoreError {
    let text = e.to_string();
    let (field, message) = text.split_once(": ").unwrap_or(("volunteer", text.as_str()));
    StoreError::Invalid(vec![FieldError::new(field, message)])
}

impl Store {
    /// Records an application (from the resident's account, or by staff for a resident).
    pub async fn apply_volunteer(&self, new: &NewVolunteer, change: Change) -> Result<VolunteerRow> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO volunteers (community_id, resident_id, user_id, status, team, skills, availability, applied_at) \
                 VALUES ($1, $2, $3, 'applied', $4, $5, $6, $7) RETURNING id")
                .bind(new.community_id).bind(new.resident_id).bind(new.user_id).bind(&new.team).bind(&new.skills)
                .bind(&new.availability).bind(change.at)
                .fetch_one(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "已申请或已是志愿者 / already applied or on the team"))?;
            let change = Change { community_id: Some(new.community_id), entity: "volunteer".into(), entity_id: id.to_string(),
                after: serde_json::json!({"resident_id": new.resident_id, "team": new.team, "skills": new.skills,
                    "availability": new.availability}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.volunteer(id).await
    }

    /// One volunteer.
    pub async fn volunteer(&self, id: i64) -> Result<VolunteerRow> {
        let sql = format!("SELECT {VOLUNTEER_COLUMNS} WHERE v.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, VolunteerRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The volunteer records of a household's residents.
    pub async fn household_volunteers(&self, household_id: i64) -> Result<Vec<VolunteerRow>> {
        let sql = format!("SELECT {VOLUNTEER_COLUMNS} WHERE r.household_id = $1 ORDER BY v.id");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, VolunteerRow>(sqlx::AssertSqlSafe(sql)).bind(household_id).fetch_all(pool).await?),
        )
    }

    /// Volunteers of a community, optionally of one status, most hours first.
    pub async fn volunteers(&self, community_id: i64, status: Option<&str>) -> Result<Vec<VolunteerRow>> {
        let sql = format!(
            "SELECT {VOLUNTEER_COLUMNS} WHERE v.community_id = $1 AND ($2 IS NULL OR v.status = $2) ORDER BY minutes DESC, v.applied_at LIMIT 1000"
        );
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, VolunteerRow>(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(status).fetch_all(pool).await?),
        )
    }

    /// Approves or rejects an application; an approved resident's account becomes a volunteer account.
    pub async fn decide_volunteer(
        &self,
        v: &VolunteerRow,
        approve: bool,
        core: bool,
        change: Change,
    ) -> Result<VolunteerRow> {
        if v.status != "applied" && !(v.status == "approved" && approve) {
            return Err(refuse(VolunteerError::Decided));
        }
        let status = if approve { "approved" } else { "rejected" };
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE volunteers SET status = $1, core = $2, decided_at = COALESCE(decided_at, $3), decided_by = $4, \
                                 version = version + 1 WHERE id = $5 AND version = $6")
                .bind(status).bind(core).bind(change.at).bind(change.actor_id).bind(v.id).bind(v.version).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("申请已被他人处理，请刷新 / the application was changed by someone else".into()));
            }
            if approve && let Some(u) = v.user_id {
                sqlx::query("UPDATE users SET role = 'volunteer', version = version + 1 WHERE id = $1 AND role = 'resident'")
                    .bind(u).execute(&mut *tx).await?;
            }
            let change = Change { community_id: Some(v.community_id), entity: "volunteer".into(), entity_id: v.id.to_string(),
                before: serde_json::json!({"status": v.status, "core": v.core}), after: serde_json::json!({"status": status, "core": core}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.volunteer(v.id).await
    }

    /// Plans a shift.
    pub async fn create_shift(&self, new: &NewShift, change: Change) -> Result<Shift> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO volunteer_shifts (community_id, title, kind, team, starts_at, ends_at, capacity, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(new.community_id).bind(&new.title).bind(&new.kind).bind(&new.team).bind(new.starts_at).bind(new.ends_at)
                .bind(new.capacity).bind(change.at)
                .fetch_one(&mut *tx).await?;
            let change = Change { community_id: Some(new.community_id), entity: "shift".into(), entity_id: id.to_string(),
                after: serde_json::json!({"title": new.title, "kind": new.kind, "team": new.team, "starts_at": new.starts_at,
                    "ends_at": new.ends_at, "capacity": new.capacity}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.shift(id).await
    }

    /// One shift.
    pub async fn shift(&self, id: i64) -> Result<Shift> {
        let sql = format!("SELECT {SHIFT_COLUMNS} WHERE s.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Shift>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Shifts of a community starting in a period, soonest first.
    pub async fn shifts(&self, community_id: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Shift>> {
        let sql = format!(
            "SELECT {SHIFT_COLUMNS} WHERE s.community_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3 ORDER BY s.starts_at LIMIT 500"
        );
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Shift>(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(from).bind(to).fetch_all(pool).await?),
        )
    }

    /// Sign-ups for a shift.
    pub async fn signups(&self, shift_id: i64) -> Result<Vec<Signup>> {
        let sql = format!("SELECT {SIGNUP_COLUMNS} WHERE g.shift_id = $1 ORDER BY g.id");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Signup>(sqlx::AssertSqlSafe(sql)).bind(shift_id).fetch_all(pool).await?),
        )
    }

    /// A volunteer's sign-ups with their shifts, newest first: their record of service.
    pub async fn service_record(&self, volunteer_id: i64) -> Result<Vec<(Signup, Shift)>> {
        let sql = format!("SELECT {SIGNUP_COLUMNS} WHERE g.volunteer_id = $1 ORDER BY g.id DESC LIMIT 500");
        let list: Vec<Signup> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Signup>(sqlx::AssertSqlSafe(sql)).bind(volunteer_id).fetch_all(pool).await?);
        let mut out = Vec::with_capacity(list.len());
        for g in list {
            let s = self.shift(g.shift_id).await?;
            out.push((g, s));
        }
        out.sort_by_key(|(_, s)| std::cmp::Reverse(s.starts_at));
        Ok(out)
    }

    /// One sign-up.
    pub async fn signup(&self, shift_id: i64, volunteer_id: i64) -> Result<Option<Signup>> {
        let sql = format!("SELECT {SIGNUP_COLUMNS} WHERE g.shift_id = $1 AND g.volunteer_id = $2");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Signup>(sqlx::AssertSqlSafe(sql)).bind(shift_id).bind(volunteer_id).fetch_optional(pool).await?),
        )
    }

    /// Signs a volunteer up; capacity and one sign-up per volunteer are checked in the same transaction.
    pub async fn sign_up(&self, shift: &Shift, v: &VolunteerRow, change: Change) -> Result<Signup> {
        let status =
            wujia_core::volunteers::Status::parse(&v.status).unwrap_or(wujia_core::volunteers::Status::Applied);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if pg {
                sqlx::query("SELECT id FROM volunteer_shifts WHERE id = $1 FOR UPDATE").bind(shift.id).execute(&mut *tx).await?;
            }
            let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shift_signups WHERE shift_id = $1").bind(shift.id).fetch_one(&mut *tx).await?;
            let mine: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shift_signups WHERE shift_id = $1 AND volunteer_id = $2")
                .bind(shift.id).bind(v.id).fetch_one(&mut *tx).await?;
            wujia_core::volunteers::may_sign_up(status, mine > 0, u32::try_from(taken).unwrap_or(u32::MAX), u32::try_from(shift.capacity).unwrap_or(0))
                .map_err(refuse)?;
            sqlx::query("INSERT INTO shift_signups (shift_id, volunteer_id, signed_up_at) VALUES ($1, $2, $3)")
                .bind(shift.id).bind(v.id).bind(change.at).execute(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "已报名该班次 / signed up already"))?;
            let change = Change { community_id: Some(shift.community_id), entity: "shift".into(), entity_id: shift.id.to_string(),
                after: serde_json::json!({"signup": v.id}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.signup(shift.id, v.id).await?.ok_or(StoreError::NotFound)
    }

    /// Records attendance on a sign-up: check-in, check-out (minutes served, approved), a reported time (pending),
    /// a decision on a reported time, or a no-show. `what` names the change for the audit log.
    pub async fn update_signup(
        &self,
        shift: &Shift,
        g: &Signup,
        what: &str,
        set: SignupUpdate,
        change: Change,
    ) -> Result<Signup> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE shift_signups SET checked_in_at = $1, checked_out_at = $2, minutes = $3, minutes_status = $4, no_show = $5 \
                         WHERE id = $6")
                .bind(set.checked_in_at).bind(set.checked_out_at).bind(set.minutes).bind(&set.minutes_status).bind(set.no_show).bind(g.id)
                .execute(&mut *tx).await?;
            let change = Change { community_id: Some(shift.community_id), entity: "shift".into(), entity_id: shift.id.to_string(),
                before: serde_json::json!({"volunteer_id": g.volunteer_id, "minutes": g.minutes, "minutes_status": g.minutes_status}),
                after: serde_json::json!({"volunteer_id": g.volunteer_id, "what": what, "minutes": set.minutes,
                    "minutes_status": set.minutes_status, "no_show": set.no_show}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.signup(shift.id, g.volunteer_id).await?.ok_or(StoreError::NotFound)
    }

    /// Reminds every signed-up volunteer of a shift starting within a day, once; returns how many sign-ups were
    /// reminded. The claim and the inbox message are one transaction, so any node may run this.
    pub async fn remind_shifts(&self, now: DateTime<Utc>) -> Result<usize> {
        let due: Vec<(i64, i64, String, DateTime<Utc>)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT g.id, u.id, s.title, s.starts_at FROM shift_signups g JOIN volunteer_shifts s ON s.id = g.shift_id \
             JOIN volunteers v ON v.id = g.volunteer_id JOIN residents r ON r.id = v.resident_id \
             JOIN users u ON u.active AND (u.id = v.user_id OR (v.user_id IS NULL AND u.household_id = r.household_id)) \
             WHERE g.reminded_at IS NULL AND s.starts_at > $1 AND s.starts_at <= $2 ORDER BY g.id LIMIT 500")
            .bind(now).bind(now + chrono::Duration::hours(24)).fetch_all(pool).await?);
        // A volunteer without an account of their own is reminded through their household's accounts.
        let mut by_signup: std::collections::BTreeMap<i64, (Vec<i64>, String, DateTime<Utc>)> = Default::default();
        for (id, user, title, starts) in due {
            by_signup.entry(id).or_insert_with(|| (Vec::new(), title, starts)).0.push(user);
        }
        let mut sent = 0;
        for (id, (users, title, starts)) in by_signup {
            let local = starts.with_timezone(&crate::beijing()).format("%m-%d %H:%M");
            let notices = crate::Notices {
                inbox: users
                    .iter()
                    .map(|u| {
                        (
                            *u,
                            format!("志愿服务提醒：{title}"),
                            format!("{local} 开始，请准时签到 / starts {local}"),
                            "/volunteer".to_string(),
                        )
                    })
                    .collect(),
                outside: vec![],
            };
            sent += with_db!(self, write, pool, _pg => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query("UPDATE shift_signups SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
                    .bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
                if n == 1 {
                    crate::notifications::write_notices!(tx, &notices, None::<i64>, now);
                }
                tx.commit().await?;
                n as usize
            });
        }
        Ok(sent)
    }

    /// The volunteer figures for shifts and approvals from `from` to `to` (Beijing dates).
    pub async fn volunteer_facts(&self, community_id: i64, from: NaiveDate, to: NaiveDate) -> Result<VolunteerFacts> {
        let start = crate::beijing_midnight(from);
        let end = crate::beijing_midnight(to.succ_opt().unwrap_or(to));
        with_db!(self, read, pool, _pg => {
            let (volunteers, core_members, waiting): (i64, i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'approved' AND core THEN 1 ELSE 0 END), 0), \
                   COALESCE(SUM(CASE WHEN status = 'applied' THEN 1 ELSE 0 END), 0) FROM volunteers WHERE community_id = $1")
                .bind(community_id).fetch_one(pool).await?;
            let joined: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM volunteers WHERE community_id = $1 AND status = 'approved' AND decided_at >= $2 AND decided_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_one(pool).await?;
            let shifts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM volunteer_shifts WHERE community_id = $1 AND starts_at >= $2 AND starts_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_one(pool).await?;
            let rows: Vec<(String, bool, Option<i64>, Option<String>)> = sqlx::query_as(
                "SELECT s.team, g.no_show, g.minutes, g.minutes_status FROM shift_signups g JOIN volunteer_shifts s ON s.id = g.shift_id \
                 WHERE s.community_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_all(pool).await?;
            let mut facts = VolunteerFacts { volunteers, core_members, applications_waiting: waiting, joined, shifts, signups: rows.len() as i64, ..Default::default() };
            for (team, no_show, minutes, status) in rows {
                facts.no_shows += i64::from(no_show);
                if status.as_deref() == Some("approved") {
                    let h = minutes.unwrap_or(0) as f64 / 60.0;
                    facts.hours += h;
                    *facts.hours_by_team.entry(team).or_default() += h;
                }
            }
            Ok(facts)
        })
    }
}

/// The attendance fields of a sign-up after a change.
#[derive(Debug, Clone, Default)]
pub struct SignupUpdate {
    /// Checked in.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Checked out.
    pub checked_out_at: Option<DateTime<Utc>>,
    /// Minutes.
    pub minutes: Option<i64>,
    /// Minutes status.
    pub minutes_status: Option<String>,
    /// No-show.
    pub no_show: bool,
}

/// An application to record.
#[derive(Debug, Clone)]
pub struct NewVolunteer {
    /// Community.
    pub community_id: i64,
    /// The resident.
    pub resident_id: i64,
    /// Their account, when they applied from it.
    pub user_id: Option<i64>,
    /// Team.
    pub team: String,
    /// Skills.
    pub skills: String,
    /// Availability.
    pub availability: String,
}

/// A shift to plan.
#[derive(Debug, Clone)]
pub struct NewShift {
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// Kind code.
    pub kind: String,
    /// Team.
    pub team: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Places.
    pub capacity: i64,
}
