//! Activities: the events, registrations with a waiting list that never over-books (places are counted in the
//! same transaction as the registration), offers to the next on the list, check-in, ratings and photos.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, Utc};
use serde::Serialize;
use wujia_core::activities::{Attendance, RegistrationStatus, on_register};

/// An activity.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Activity {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// Theme: a traditional festival (春节, 重阳 …) or another theme.
    pub theme: String,
    /// Series (健康讲座 …).
    pub series: String,
    /// Organiser.
    pub organiser: String,
    /// Partner organisations.
    pub partners: String,
    /// Place.
    pub place: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Places.
    pub capacity: i64,
    /// Target tags (JSON array).
    pub target_tags: String,
    /// Youngest age.
    pub min_age: Option<i64>,
    /// Oldest age.
    pub max_age: Option<i64>,
    /// Volunteers needed.
    pub volunteers_needed: i64,
    /// Summary written afterwards.
    pub summary: String,
    /// Places held (registered, offered, attended).
    pub taken: i64,
    /// On the waiting list.
    pub waiting: i64,
    /// Checked in.
    pub attended: i64,
    /// Optimistic-lock version.
    pub version: i64,
}

const ACTIVITY_COLUMNS: &str = "a.id, a.community_id, a.title, a.theme, a.series, a.organiser, a.partners, a.place, a.starts_at, a.ends_at, \
    a.capacity, a.target_tags, a.min_age, a.max_age, a.volunteers_needed, a.summary, \
    (SELECT COUNT(*) FROM activity_registrations r WHERE r.activity_id = a.id AND r.status IN ('registered', 'offered', 'attended')) AS taken, \
    (SELECT COUNT(*) FROM activity_registrations r WHERE r.activity_id = a.id AND r.status = 'waitlisted') AS waiting, \
    (SELECT COUNT(*) FROM activity_registrations r WHERE r.activity_id = a.id AND r.status = 'attended') AS attended, \
    a.version FROM activities a";

impl Activity {
    /// The target group.
    pub fn target(&self) -> wujia_core::activities::Target {
        wujia_core::activities::Target {
            tags: serde_json::from_str(&self.target_tags).unwrap_or_default(),
            min_age: self.min_age.and_then(|a| u32::try_from(a).ok()),
            max_age: self.max_age.and_then(|a| u32::try_from(a).ok()),
        }
    }
}

/// A registration with who it is for.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Registration {
    /// Id.
    pub id: i64,
    /// Activity.
    pub activity_id: i64,
    /// Resident.
    pub resident_id: i64,
    /// Name.
    pub name: String,
    /// Household.
    pub household_id: i64,
    /// Address.
    pub address: String,
    /// Origin community.
    pub origin: Option<String>,
    /// Status code.
    pub status: String,
    /// Why staff registered someone outside the target group.
    pub note: String,
    /// The check-in code (for the QR code).
    pub code: String,
    /// Registered.
    pub created_at: DateTime<Utc>,
    /// An offered place must be confirmed by.
    pub offered_until: Option<DateTime<Utc>>,
    /// Checked in.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Rating.
    pub stars: Option<i64>,
    /// Comment.
    pub comment: Option<String>,
}

const REGISTRATION_COLUMNS: &str = "g.id, g.activity_id, g.resident_id, r.name, g.household_id, h.address, o.name AS origin, g.status, g.note, \
    g.code, g.created_at, g.offered_until, g.checked_in_at, g.stars, g.comment FROM activity_registrations g \
    JOIN residents r ON r.id = g.resident_id JOIN households h ON h.id = g.household_id \
    LEFT JOIN origin_communities o ON o.id = COALESCE(r.origin_id, h.origin_id)";

/// An activity to create.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// Theme.
    pub theme: String,
    /// Series.
    pub series: String,
    /// Organiser.
    pub organiser: String,
    /// Partners.
    pub partners: String,
    /// Place.
    pub place: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Places.
    pub capacity: i64,
    /// Target.
    pub target: wujia_core::activities::Target,
    /// Volunteers needed.
    pub volunteers_needed: i64,
}

impl Store {
    /// Creates an activity.
    pub async fn create_activity(&self, new: &NewActivity, change: Change) -> Result<Activity> {
        let tags = serde_json::to_string(&new.target.tags).unwrap_or_default();
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO activities (community_id, title, theme, series, organiser, partners, place, starts_at, ends_at, capacity, \
                   target_tags, min_age, max_age, volunteers_needed, summary, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, '', $15) RETURNING id")
                .bind(new.community_id).bind(&new.title).bind(&new.theme).bind(&new.series).bind(&new.organiser).bind(&new.partners)
                .bind(&new.place).bind(new.starts_at).bind(new.ends_at).bind(new.capacity).bind(&tags)
                .bind(new.target.min_age.map(i64::from)).bind(new.target.max_age.map(i64::from)).bind(new.volunteers_needed).bind(change.at)
                .fetch_one(&mut *tx).await?;
            let change = Change { community_id: Some(new.community_id), entity: "activity".into(), entity_id: id.to_string(),
                after: serde_json::json!({"title": new.title, "theme": new.theme, "starts_at": new.starts_at, "capacity": new.capacity,
                    "target": new.target}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.activity(id).await
    }

    /// One activity.
    pub async fn activity(&self, id: i64) -> Result<Activity> {
        let sql = format!("SELECT {ACTIVITY_COLUMNS} WHERE a.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Activity>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Activities of a community starting in a period, soonest first.
    pub async fn activities(&self, community_id: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Activity>> {
        let sql = format!(
            "SELECT {ACTIVITY_COLUMNS} WHERE a.community_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 ORDER BY a.starts_at LIMIT 1000"
        );
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Activity>(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(from).bind(to).fetch_all(pool).await?),
        )
    }

    /// Records the summary written afterwards.
    pub async fn set_activity_summary(&self, a: &Activity, summary: &str, change: Change) -> Result<Activity> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE activities SET summary = $1, version = version + 1 WHERE id = $2").bind(summary).bind(a.id).execute(&mut *tx).await?;
            let change = Change { community_id: Some(a.community_id), entity: "activity".into(), entity_id: a.id.to_string(),
                after: serde_json::json!({"summary": summary}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.activity(a.id).await
    }

    /// Registrations of an activity: places first, then the waiting list in order.
    pub async fn registrations(&self, activity_id: i64) -> Result<Vec<Registration>> {
        let sql = format!(
            "SELECT {REGISTRATION_COLUMNS} WHERE g.activity_id = $1 ORDER BY CASE g.status WHEN 'attended' THEN 0 WHEN 'registered' THEN 1 \
             WHEN 'offered' THEN 2 WHEN 'waitlisted' THEN 3 ELSE 4 END, g.id"
        );
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Registration>(sqlx::AssertSqlSafe(sql)).bind(activity_id).fetch_all(pool).await?),
        )
    }

    /// One registration.
    pub async fn registration(&self, id: i64) -> Result<Registration> {
        let sql = format!("SELECT {REGISTRATION_COLUMNS} WHERE g.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Registration>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The registration with a check-in code.
    pub async fn registration_by_code(&self, code: &str) -> Result<Registration> {
        let sql = format!("SELECT {REGISTRATION_COLUMNS} WHERE g.code = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Registration>(sqlx::AssertSqlSafe(sql)).bind(code).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// A household's registrations, newest first.
    pub async fn household_registrations(&self, household_id: i64) -> Result<Vec<Registration>> {
        let sql = format!("SELECT {REGISTRATION_COLUMNS} WHERE g.household_id = $1 ORDER BY g.id DESC LIMIT 200");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Registration>(sqlx::AssertSqlSafe(sql)).bind(household_id).fetch_all(pool).await?),
        )
    }

    /// Registers a resident: a place while there is one, else the waiting list; the places are counted in the same
    /// transaction (PostgreSQL locks the activity row), so concurrent sign-ups never over-book.
    pub async fn register_for_activity(
        &self,
        a: &Activity,
        (resident_id, household_id): (i64, i64),
        note: &str,
        code: &str,
        change: Change,
    ) -> Result<Registration> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if pg {
                sqlx::query("SELECT id FROM activities WHERE id = $1 FOR UPDATE").bind(a.id).execute(&mut *tx).await?;
            }
            let taken: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM activity_registrations WHERE activity_id = $1 AND status IN ('registered', 'offered', 'attended')")
                .bind(a.id).fetch_one(&mut *tx).await?;
            let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activity_registrations WHERE activity_id = $1 AND status = 'waitlisted'")
                .bind(a.id).fetch_one(&mut *tx).await?;
            // Nobody jumps the queue: while others wait, a newcomer waits too.
            let status = if waiting > 0 { RegistrationStatus::Waitlisted } else {
                on_register(u32::try_from(taken).unwrap_or(u32::MAX), u32::try_from(a.capacity).unwrap_or(0))
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO activity_registrations (activity_id, resident_id, household_id, status, note, code, registered_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(a.id).bind(resident_id).bind(household_id).bind(status.code()).bind(note).bind(code).bind(change.actor_id).bind(change.at)
                .fetch_one(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "已报名本活动 / registered already"))?;
            let change = Change { community_id: Some(a.community_id), entity: "activity".into(), entity_id: a.id.to_string(),
                after: serde_json::json!({"registration": id, "resident_id": resident_id, "status": status.code(), "note": note}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.registration(id).await
    }

    /// Changes a registration's status (check-in, confirm, cancel, rating); a place given up is offered to the first
    /// on the waiting list until `offer_until`, in the same transaction. Returns the registration offered the place.
    pub async fn update_registration(
        &self,
        a: &Activity,
        g: &Registration,
        status: RegistrationStatus,
        rating: Option<(i64, String)>,
        offer_until: DateTime<Utc>,
        change: Change,
    ) -> Result<Option<Registration>> {
        let checked_in = (status == RegistrationStatus::Attended).then_some(change.at);
        let (stars, comment) = rating.clone().unzip();
        let offered = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if pg {
                sqlx::query("SELECT id FROM activities WHERE id = $1 FOR UPDATE").bind(a.id).execute(&mut *tx).await?;
            }
            let n = sqlx::query("UPDATE activity_registrations SET status = $1, checked_in_at = COALESCE($2, checked_in_at), \
                                 stars = COALESCE($3, stars), comment = COALESCE($4, comment), offered_until = NULL WHERE id = $5 AND status = $6")
                .bind(status.code()).bind(checked_in).bind(stars).bind(&comment).bind(g.id).bind(&g.status).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("报名状态已变化，请刷新 / the registration changed meanwhile".into()));
            }
            let freed = RegistrationStatus::parse(&g.status).is_some_and(RegistrationStatus::holds_place) && !status.holds_place();
            let mut offered = None;
            if freed {
                let next: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM activity_registrations WHERE activity_id = $1 AND status = 'waitlisted' ORDER BY id LIMIT 1")
                    .bind(a.id).fetch_optional(&mut *tx).await?;
                if let Some(next) = next {
                    sqlx::query("UPDATE activity_registrations SET status = 'offered', offered_until = $1 WHERE id = $2")
                        .bind(offer_until).bind(next).execute(&mut *tx).await?;
                    offered = Some(next);
                }
            }
            let change = Change { community_id: Some(a.community_id), entity: "activity".into(), entity_id: a.id.to_string(),
                before: serde_json::json!({"registration": g.id, "status": g.status}),
                after: serde_json::json!({"registration": g.id, "status": status.code(), "stars": stars, "offered": offered}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            offered
        });
        match offered {
            Some(id) => Ok(Some(self.registration(id).await?)),
            None => Ok(None),
        }
    }

    /// Reminds the households of residents registered for an activity starting within a day, once per registration;
    /// returns how many registrations were reminded.
    pub async fn remind_activities(&self, now: DateTime<Utc>) -> Result<usize> {
        let due: Vec<(i64, String, String, DateTime<Utc>, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT g.id, r.name, a.title, a.starts_at, u.id FROM activity_registrations g JOIN activities a ON a.id = g.activity_id \
             JOIN residents r ON r.id = g.resident_id JOIN users u ON u.household_id = g.household_id AND u.active \
             WHERE g.reminded_at IS NULL AND g.status IN ('registered', 'offered') AND a.starts_at > $1 AND a.starts_at <= $2 ORDER BY g.id LIMIT 1000")
            .bind(now).bind(now + chrono::Duration::hours(24)).fetch_all(pool).await?);
        let mut by_registration: std::collections::BTreeMap<i64, (String, String, DateTime<Utc>, Vec<i64>)> =
            Default::default();
        for (id, name, title, starts, user) in due {
            by_registration.entry(id).or_insert_with(|| (name, title, starts, Vec::new())).3.push(user);
        }
        let mut sent = 0;
        for (id, (name, title, starts, users)) in by_registration {
            let local = starts.with_timezone(&crate::beijing()).format("%m-%d %H:%M");
            let notices = crate::Notices {
                inbox: users
                    .iter()
                    .map(|u| {
                        (
                            *u,
                            format!("活动提醒：{title}"),
                            format!("{name} 报名的活动 {local} 开始，请凭签到码入场 / starts {local}"),
                            "/activities".to_string(),
                        )
                    })
                    .collect(),
                outside: vec![],
            };
            sent += with_db!(self, write, pool, _pg => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query("UPDATE activity_registrations SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
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

    /// Offers not confirmed by their deadline: (activity, registration).
    pub async fn expired_offers(&self, now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT activity_id, id FROM activity_registrations WHERE status = 'offered' AND offered_until < $1 ORDER BY id LIMIT 200")
            .bind(now).fetch_all(pool).await?))
    }

    /// Records a photo of an activity.
    pub async fn add_activity_photo(&self, a: &Activity, blob: &str, media: &str, change: Change) -> Result<()> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO activity_photos (activity_id, blob, media_type, created_at) VALUES ($1, $2, $3, $4)")
                .bind(a.id).bind(blob).bind(media).bind(change.at).execute(&mut *tx).await?;
            let change = Change { community_id: Some(a.community_id), entity: "activity".into(), entity_id: a.id.to_string(),
                after: serde_json::json!({"photo": blob}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// An activity's photos (blob, type).
    pub async fn activity_photos(&self, activity_id: i64) -> Result<Vec<(String, String)>> {
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as("SELECT blob, media_type FROM activity_photos WHERE activity_id = $1 ORDER BY id")
            .bind(activity_id).fetch_all(pool).await?),
        )
    }

    /// The communities an activity photo belongs to, with its type.
    pub async fn activity_photo_owners(&self, blob: &str) -> Result<Vec<(i64, String)>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT a.community_id, p.media_type FROM activity_photos p JOIN activities a ON a.id = p.activity_id WHERE p.blob = $1")
            .bind(blob).fetch_all(pool).await?))
    }

    /// Attendance of the community's activities starting before `to` (each with (household, origin) per attendee).
    pub async fn attendance(&self, community_id: i64, to: DateTime<Utc>) -> Result<Vec<Attendance>> {
        let rows: Vec<(i64, DateTime<Utc>, i64, Option<String>)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT a.id, a.starts_at, g.household_id, o.name FROM activity_registrations g JOIN activities a ON a.id = g.activity_id \
             JOIN residents r ON r.id = g.resident_id JOIN households h ON h.id = g.household_id \
             LEFT JOIN origin_communities o ON o.id = COALESCE(r.origin_id, h.origin_id) \
             WHERE a.community_id = $1 AND a.starts_at < $2 AND g.status = 'attended' ORDER BY a.starts_at, a.id")
            .bind(community_id).bind(to).fetch_all(pool).await?);
        let mut out: Vec<Attendance> = Vec::new();
        for (activity, starts_at, household, origin) in rows {
            if out.last().is_none_or(|x| x.activity != activity) {
                out.push(Attendance { activity, starts_at, attendees: Vec::new() });
            }
            if let Some(last) = out.last_mut() {
                last.attendees.push((household, origin.unwrap_or_else(|| "-".into())));
            }
        }
        Ok(out)
    }

    /// Households of a community that never attended an activity: (id, address).
    pub async fn households_never_attended(&self, community_id: i64, limit: i64) -> Result<(i64, Vec<(i64, String)>)> {
        with_db!(self, read, pool, _pg => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM households h WHERE h.community_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM activity_registrations g WHERE g.household_id = h.id AND g.status = 'attended')")
                .bind(community_id).fetch_one(pool).await?;
            let list: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT h.id, h.address FROM households h WHERE h.community_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM activity_registrations g WHERE g.household_id = h.id AND g.status = 'attended') ORDER BY h.id LIMIT {limit}")))
                .bind(community_id).fetch_all(pool).await?;
            Ok((n, list))
        })
    }
}
