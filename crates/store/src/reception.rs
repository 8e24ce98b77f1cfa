//! Reception days: sessions, bookings by slot, visits registered at the desk with their demands, and answers.

use crate::audit::append_event;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use wujia_core::reception::Schedule;
use wujia_core::reception::figures::DemandFact;
use wujia_core::registry::FieldError;

/// (visit, party, session kind, theme, raised, answered, request followed up) of a demand.
type DemandRow = (i64, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A reception day.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReceptionDay {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// `regular` or `themed`.
    pub kind: String,
    /// Theme (empty for regular ones).
    pub theme: String,
    /// Place.
    pub place: String,
    /// Parties attending (JSON array of party codes).
    pub parties: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Minutes per slot.
    pub slot_minutes: i64,
    /// Households per slot.
    pub slot_capacity: i64,
    /// Bookings.
    pub bookings: i64,
    /// Visits.
    pub visits: i64,
}

const SESSION_COLUMNS: &str = "s.id, s.community_id, s.title, s.kind, s.theme, s.place, s.parties, s.starts_at, s.ends_at, \
    s.slot_minutes, s.slot_capacity, (SELECT COUNT(*) FROM reception_bookings b WHERE b.session_id = s.id) AS bookings, \
    (SELECT COUNT(*) FROM reception_visits v WHERE v.session_id = s.id) AS visits FROM reception_sessions s";

impl ReceptionDay {
    /// The session's checked schedule.
    pub fn schedule(&self) -> Option<Schedule> {
        Schedule::new(
            self.starts_at,
            self.ends_at,
            u32::try_from(self.slot_minutes).ok()?,
            u32::try_from(self.slot_capacity).ok()?,
        )
        .ok()
    }
}

/// A booking.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Booking {
    /// Id.
    pub id: i64,
    /// ReceptionDay.
    pub session_id: i64,
    /// Household.
    pub household_id: i64,
    /// Who comes.
    pub name: String,
    /// Slot.
    pub slot_start: DateTime<Utc>,
    /// What about.
    pub topic: String,
    /// The household's address.
    pub address: String,
}

/// A visit at the desk, with how many of its demands were answered back.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Visit {
    /// Id.
    pub id: i64,
    /// ReceptionDay.
    pub session_id: i64,
    /// Community.
    pub community_id: i64,
    /// Household, when known.
    pub household_id: Option<i64>,
    /// Who came.
    pub name: String,
    /// The booking it came from.
    pub booking_id: Option<i64>,
    /// Number in the day's queue.
    pub queue_no: i64,
    /// Arrived.
    pub arrived_at: DateTime<Utc>,
}

const VISIT_COLUMNS: &str =
    "id, session_id, community_id, household_id, name, booking_id, queue_no, arrived_at FROM reception_visits";

/// A demand raised at a visit.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Demand {
    /// Id.
    pub id: i64,
    /// Visit.
    pub visit_id: i64,
    /// Community.
    pub community_id: i64,
    /// What the resident asked.
    pub text: String,
    /// Owning party code.
    pub party: String,
    /// The answer given back.
    pub answer: Option<String>,
    /// When the answer was given back.
    pub answered_at: Option<DateTime<Utc>>,
    /// The service request it became.
    pub request_id: Option<i64>,
    /// That request's number.
    pub request_number: Option<String>,
    /// When that request's follow-up reached the resident.
    pub request_followed_up_at: Option<DateTime<Utc>>,
    /// Raised.
    pub raised_at: DateTime<Utc>,
    /// Optimistic-lock version.
    pub version: i64,
}

const DEMAND_COLUMNS: &str = "d.id, d.visit_id, d.community_id, d.text, d.party, d.answer, d.answered_at, d.request_id, \
    r.number AS request_number, r.followed_up_at AS request_followed_up_at, d.raised_at, d.version \
    FROM reception_demands d LEFT JOIN service_requests r ON r.id = d.request_id";

impl Demand {
    /// When it was answered back to the resident, by its own answer or its request's follow-up.
    pub fn answered(&self) -> Option<DateTime<Utc>> {
        wujia_core::reception::answered_at(self.answered_at, self.request_followed_up_at)
    }
}

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewReceptionDay {
    /// Community.
    pub community_id: i64,
    /// Title.
    pub title: String,
    /// Kind code.
    pub kind: String,
    /// Theme.
    pub theme: String,
    /// Place.
    pub place: String,
    /// Party codes.
    pub parties: Vec<String>,
    /// Times and slots.
    pub schedule: Schedule,
}

impl Store {
    /// Creates a reception day.
    pub async fn create_reception_day(&self, new: &NewReceptionDay, change: Change) -> Result<ReceptionDay> {
        let parties = serde_json::to_string(&new.parties).unwrap_or_default();
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reception_sessions (community_id, title, kind, theme, place, parties, starts_at, ends_at, slot_minutes, \
                   slot_capacity, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
                .bind(new.community_id).bind(&new.title).bind(&new.kind).bind(&new.theme).bind(&new.place).bind(&parties)
                .bind(new.schedule.starts_at).bind(new.schedule.ends_at).bind(i64::from(new.schedule.slot_minutes))
                .bind(i64::from(new.schedule.slot_capacity)).bind(change.at).fetch_one(&mut *tx).await?;
            let change = Change { community_id: Some(new.community_id), entity: "reception".into(), entity_id: id.to_string(),
                after: serde_json::json!({"title": new.title, "kind": new.kind, "theme": new.theme, "starts_at": new.schedule.starts_at,
                    "ends_at": new.schedule.ends_at, "parties": new.parties}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.reception_day(id).await
    }

    /// One session.
    pub async fn reception_day(&self, id: i64) -> Result<ReceptionDay> {
        let sql = format!("SELECT {SESSION_COLUMNS} WHERE s.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, ReceptionDay>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Sessions of a community, newest first, optionally starting in a period.
    pub async fn reception_days(
        &self,
        community_id: i64,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<ReceptionDay>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} WHERE s.community_id = $1 AND ($2 IS NULL OR s.starts_at >= $2) AND ($3 IS NULL OR s.starts_at < $3) \
             ORDER BY s.starts_at DESC LIMIT 500"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, ReceptionDay>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(from).bind(to).fetch_all(pool).await?))
    }

    /// Bookings of a session, by slot.
    pub async fn bookings(&self, session_id: i64) -> Result<Vec<Booking>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Booking>(
            "SELECT b.id, b.session_id, b.household_id, b.name, b.slot_start, b.topic, h.address FROM reception_bookings b \
             JOIN households h ON h.id = b.household_id WHERE b.session_id = $1 ORDER BY b.slot_start, b.id")
            .bind(session_id).fetch_all(pool).await?))
    }

    /// A household's bookings, newest first.
    pub async fn household_bookings(&self, household_id: i64) -> Result<Vec<(Booking, ReceptionDay)>> {
        let list: Vec<Booking> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Booking>(
            "SELECT b.id, b.session_id, b.household_id, b.name, b.slot_start, b.topic, h.address FROM reception_bookings b \
             JOIN households h ON h.id = b.household_id WHERE b.household_id = $1 ORDER BY b.slot_start DESC LIMIT 50")
            .bind(household_id).fetch_all(pool).await?);
        let mut out = Vec::with_capacity(list.len());
        for b in list {
            let s = self.reception_day(b.session_id).await?;
            out.push((b, s));
        }
        Ok(out)
    }

    /// Books a slot for a household; the slot's capacity and one booking per household are checked in the same
    /// transaction, so concurrent bookings never overfill a slot.
    pub async fn book(
        &self,
        session: &ReceptionDay,
        household_id: i64,
        name: &str,
        slot: DateTime<Utc>,
        topic: &str,
        change: Change,
    ) -> Result<Booking> {
        let schedule = session
            .schedule()
            .ok_or_else(|| StoreError::Conflict("接待日设置有误 / the session is misconfigured".into()))?;
        let refuse = |e: wujia_core::reception::ReceptionError| {
            let text = e.to_string();
            let (field, message) = text.split_once(": ").unwrap_or(("slot", text.as_str()));
            StoreError::Invalid(vec![FieldError::new(field, message)])
        };
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if pg {
                sqlx::query("SELECT id FROM reception_sessions WHERE id = $1 FOR UPDATE").bind(session.id).execute(&mut *tx).await?;
            }
            let in_slot: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reception_bookings WHERE session_id = $1 AND slot_start = $2")
                .bind(session.id).bind(slot).fetch_one(&mut *tx).await?;
            let mine: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reception_bookings WHERE session_id = $1 AND household_id = $2")
                .bind(session.id).bind(household_id).fetch_one(&mut *tx).await?;
            schedule.may_book(slot, u32::try_from(in_slot).unwrap_or(u32::MAX), mine > 0, change.at).map_err(refuse)?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reception_bookings (session_id, household_id, name, slot_start, topic, booked_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(session.id).bind(household_id).bind(name).bind(slot).bind(topic).bind(change.actor_id).bind(change.at)
                .fetch_one(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "本户已预约本次接待日 / this household has booked this session already"))?;
            let change = Change { community_id: Some(session.community_id), entity: "reception".into(), entity_id: session.id.to_string(),
                after: serde_json::json!({"booking": id, "household_id": household_id, "slot": slot, "topic": topic}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.bookings(session.id).await?.into_iter().find(|b| b.id == id).ok_or(StoreError::NotFound)
    }

    /// Registers a visit at the desk (from a booking or a walk-in) with its demands; the next queue number is given.
    pub async fn register_visit(
        &self,
        session: &ReceptionDay,
        household_id: Option<i64>,
        name: &str,
        booking_id: Option<i64>,
        demands: &[(String, String)],
        change: Change,
    ) -> Result<Visit> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if pg {
                sqlx::query("SELECT id FROM reception_sessions WHERE id = $1 FOR UPDATE").bind(session.id).execute(&mut *tx).await?;
            }
            let queue_no: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(queue_no), 0) + 1 FROM reception_visits WHERE session_id = $1")
                .bind(session.id).fetch_one(&mut *tx).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO reception_visits (session_id, community_id, household_id, name, booking_id, queue_no, arrived_at, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(session.id).bind(session.community_id).bind(household_id).bind(name).bind(booking_id).bind(queue_no)
                .bind(change.at).bind(change.actor_id).fetch_one(&mut *tx).await?;
            for (text, party) in demands {
                sqlx::query("INSERT INTO reception_demands (visit_id, community_id, text, party, raised_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(session.community_id).bind(text).bind(party).bind(change.at).execute(&mut *tx).await?;
            }
            let change = Change { community_id: Some(session.community_id), entity: "visit".into(), entity_id: id.to_string(),
                after: serde_json::json!({"session_id": session.id, "household_id": household_id, "name": name, "queue_no": queue_no,
                    "demands": demands}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.visit(id).await
    }

    /// One visit.
    pub async fn visit(&self, id: i64) -> Result<Visit> {
        let sql = format!("SELECT {VISIT_COLUMNS} WHERE id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Visit>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Visits of a session, in queue order.
    pub async fn visits(&self, session_id: i64) -> Result<Vec<Visit>> {
        let sql = format!("SELECT {VISIT_COLUMNS} WHERE session_id = $1 ORDER BY queue_no");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Visit>(sqlx::AssertSqlSafe(sql)).bind(session_id).fetch_all(pool).await?),
        )
    }

    /// A household's visits, newest first.
    pub async fn household_visits(&self, household_id: i64) -> Result<Vec<Visit>> {
        let sql = format!("SELECT {VISIT_COLUMNS} WHERE household_id = $1 ORDER BY arrived_at DESC LIMIT 50");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Visit>(sqlx::AssertSqlSafe(sql)).bind(household_id).fetch_all(pool).await?),
        )
    }

    /// The latest visit of each household in some buildings: (household, arrived).
    pub async fn last_visits(&self, building_ids: &[i64]) -> Result<Vec<(i64, DateTime<Utc>)>> {
        let mut out = Vec::new();
        for chunk in building_ids.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT v.household_id, MAX(v.arrived_at) FROM reception_visits v JOIN households h ON h.id = v.household_id \
                 WHERE h.building_id IN ({}) GROUP BY v.household_id",
                marks.join(",")
            );
            let part: Vec<(i64, DateTime<Utc>)> = with_db!(self, read, pool, _pg => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for b in chunk {
                    q = q.bind(*b);
                }
                q.fetch_all(pool).await?
            });
            out.extend(part);
        }
        Ok(out)
    }

    /// Demands of a visit.
    pub async fn demands(&self, visit_id: i64) -> Result<Vec<Demand>> {
        let sql = format!("SELECT {DEMAND_COLUMNS} WHERE d.visit_id = $1 ORDER BY d.id");
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Demand>(sqlx::AssertSqlSafe(sql)).bind(visit_id).fetch_all(pool).await?),
        )
    }

    /// Demands of a community not yet answered back, oldest first, optionally of one party.
    pub async fn open_demands(&self, community_id: i64, party: Option<&str>) -> Result<Vec<Demand>> {
        let sql = format!(
            "SELECT {DEMAND_COLUMNS} WHERE d.community_id = $1 AND d.answered_at IS NULL AND r.followed_up_at IS NULL \
             AND ($2 IS NULL OR d.party = $2) ORDER BY d.raised_at LIMIT 500"
        );
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Demand>(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(party).fetch_all(pool).await?),
        )
    }

    /// One demand.
    pub async fn demand(&self, id: i64) -> Result<Demand> {
        let sql = format!("SELECT {DEMAND_COLUMNS} WHERE d.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Demand>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Records the answer given back to the resident, or the service request the demand became, if the demand is
    /// still at `demand.version`.
    pub async fn update_demand(
        &self,
        demand: &Demand,
        answer: Option<&str>,
        request_id: Option<i64>,
        change: Change,
    ) -> Result<Demand> {
        let answered_at = answer.map(|_| change.at);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE reception_demands SET answer = COALESCE($1, answer), answered_at = COALESCE($2, answered_at), \
                                 request_id = COALESCE($3, request_id), version = version + 1 WHERE id = $4 AND version = $5")
                .bind(answer).bind(answered_at).bind(request_id).bind(demand.id).bind(demand.version).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("诉求已被他人更新，请刷新 / the demand was changed by someone else".into()));
            }
            let change = Change { community_id: Some(demand.community_id), entity: "visit".into(), entity_id: demand.visit_id.to_string(),
                after: serde_json::json!({"demand": demand.id, "answer": answer, "request_id": request_id}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.demand(demand.id).await
    }

    /// The rows the reception figures are computed from, for sessions starting from `from` to `to` (Beijing dates).
    pub async fn reception_facts(
        &self,
        community_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(Vec<String>, Vec<i64>, Vec<DemandFact>)> {
        let start = crate::beijing_midnight(from);
        let end = crate::beijing_midnight(to.succ_opt().unwrap_or(to));
        with_db!(self, read, pool, _pg => {
            let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM reception_sessions WHERE community_id = $1 AND starts_at >= $2 AND starts_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_all(pool).await?;
            let visits: Vec<i64> = sqlx::query_scalar(
                "SELECT v.id FROM reception_visits v JOIN reception_sessions s ON s.id = v.session_id \
                 WHERE s.community_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_all(pool).await?;
            let rows: Vec<DemandRow> = sqlx::query_as(
                "SELECT d.visit_id, d.party, s.kind, s.theme, d.raised_at, d.answered_at, r.followed_up_at FROM reception_demands d \
                 JOIN reception_visits v ON v.id = d.visit_id JOIN reception_sessions s ON s.id = v.session_id \
                 LEFT JOIN service_requests r ON r.id = d.request_id WHERE s.community_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_all(pool).await?;
            let demands = rows.into_iter().map(|(visit_id, party, kind, theme, raised_at, answered, followed)| DemandFact {
                visit_id, party, theme: if kind == "themed" { theme } else { "-".into() }, raised_at,
                answered_at: wujia_core::reception::answered_at(answered, followed) }).collect();
            Ok((kinds, visits, demands))
        })
    }
}
