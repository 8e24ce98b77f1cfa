//! Patrols: zones and their squads, checkpoints, plans and the rounds generated from them, check-ins, and
//! findings with their photos. A finding not fixed on the spot opens a rectification case in the same
//! transaction (see [`crate::cases`]).

use crate::audit::append_event;
use crate::notifications::write_notices;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use wujia_core::patrol::plans::Schedule;
use wujia_core::registry::FieldError;

/// A zone (片区) with its squad.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Zone {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Name.
    pub name: String,
}

/// A squad member of a zone.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ZoneMember {
    /// Account.
    pub user_id: i64,
    /// Name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Leads the squad (missed rounds are flagged to them).
    pub leader: bool,
}

/// A checkpoint on a zone's route, with the code printed on its QR sticker.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Checkpoint {
    /// Id.
    pub id: i64,
    /// Zone.
    pub zone_id: i64,
    /// Name (3号院南门, 7号楼1单元).
    pub name: String,
    /// The code on the QR sticker.
    pub code: String,
    /// The building it stands at.
    pub building_id: Option<i64>,
    /// Order on the route.
    pub position: i64,
}

/// A patrol plan.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Plan {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Zone.
    pub zone_id: i64,
    /// Name.
    pub name: String,
    /// Start times, JSON array of `HH:MM`.
    pub times: String,
    /// ISO weekdays, JSON array.
    pub weekdays: String,
    /// Minutes to finish a round.
    pub window_minutes: i64,
    /// Checklist, JSON array of finding type codes.
    pub checklist: String,
    /// Generates rounds.
    pub active: bool,
}

impl Plan {
    /// The plan's schedule, as checked when it was created.
    pub fn schedule(&self) -> Option<Schedule> {
        let times: Vec<String> = serde_json::from_str(&self.times).ok()?;
        let days: Vec<u8> = serde_json::from_str(&self.weekdays).ok()?;
        Schedule::parse(&times, &days, u32::try_from(self.window_minutes).ok()?).ok()
    }

    /// The checklist's type codes.
    pub fn checklist_codes(&self) -> Vec<String> {
        serde_json::from_str(&self.checklist).unwrap_or_default()
    }
}

/// A round, with how far it got.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Round {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Plan.
    pub plan_id: i64,
    /// Plan name.
    pub plan_name: String,
    /// Zone.
    pub zone_id: i64,
    /// Zone name.
    pub zone_name: String,
    /// Beijing date.
    pub date: NaiveDate,
    /// `morning`, `afternoon`, `evening`.
    pub shift: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Finish by.
    pub due_at: DateTime<Utc>,
    /// Finished.
    pub completed_at: Option<DateTime<Utc>>,
    /// Who finished it.
    pub completed_by: Option<i64>,
    /// When the missed round was flagged to the zone leader.
    pub missed_flagged_at: Option<DateTime<Utc>>,
    /// Checkpoints checked in.
    pub checked: i64,
    /// Checkpoints on the zone's route.
    pub checkpoints: i64,
}

const ROUND_COLUMNS: &str = "r.id, r.community_id, r.plan_id, p.name AS plan_name, r.zone_id, z.name AS zone_name, r.date, \
    r.shift, r.starts_at, r.due_at, r.completed_at, r.completed_by, r.missed_flagged_at, \
    (SELECT COUNT(*) FROM patrol_checkins c WHERE c.round_id = r.id) AS checked, \
    (SELECT COUNT(*) FROM patrol_checkpoints k WHERE k.zone_id = r.zone_id AND k.active) AS checkpoints \
    FROM patrol_rounds r JOIN patrol_plans p ON p.id = r.plan_id JOIN zones z ON z.id = r.zone_id";

/// A check-in at a checkpoint.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Checkin {
    /// Checkpoint.
    pub checkpoint_id: i64,
    /// Who.
    pub user_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// `qr` or `tap`.
    pub method: String,
    /// Checklist items ticked as fine (JSON array of codes).
    pub checklist: String,
}

/// A finding to record.
#[derive(Debug, Clone)]
pub struct NewFinding {
    /// Community.
    pub community_id: i64,
    /// Zone, when on a round or known from the building.
    pub zone_id: Option<i64>,
    /// The round it was found on.
    pub round_id: Option<i64>,
    /// Type code.
    pub kind: String,
    /// Illegal construction (counts on the zero board).
    pub illegal: bool,
    /// Place kind code.
    pub place_kind: String,
    /// Key that identifies the spot.
    pub place_key: String,
    /// Readable place (the household address, or the description).
    pub place_text: String,
    /// Building.
    pub building_id: Option<i64>,
    /// Unit.
    pub unit_id: Option<i64>,
    /// Household.
    pub household_id: Option<i64>,
    /// Note.
    pub note: String,
    /// Fixed on the spot; otherwise a case opens.
    pub fixed_on_spot: bool,
    /// The phone's own id for this finding, so that a retry after a lost answer records it once.
    pub client_id: Option<String>,
    /// Photos already kept: (blob, media type, size).
    pub photos: Vec<(String, String, i64)>,
    /// The community's code, for the case number.
    pub community_code: String,
}

/// A recorded finding.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Finding {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Zone.
    pub zone_id: Option<i64>,
    /// Round.
    pub round_id: Option<i64>,
    /// Type code.
    pub kind: String,
    /// Place kind.
    pub place_kind: String,
    /// Readable place.
    pub place_text: String,
    /// Building.
    pub building_id: Option<i64>,
    /// Unit.
    pub unit_id: Option<i64>,
    /// Household.
    pub household_id: Option<i64>,
    /// Note.
    pub note: String,
    /// Fixed on the spot.
    pub fixed_on_spot: bool,
    /// The same spot had the same problem before.
    pub recurrence: bool,
    /// Who.
    pub recorded_by: i64,
    /// When.
    pub recorded_at: DateTime<Utc>,
    /// The case it opened.
    pub case_id: Option<i64>,
}

const FINDING_COLUMNS: &str = "f.id, f.community_id, f.zone_id, f.round_id, f.kind, f.place_kind, f.place_text, f.building_id, \
    f.unit_id, f.household_id, f.note, f.fixed_on_spot, f.recurrence, f.recorded_by, f.recorded_at, \
    (SELECT c.id FROM rectification_cases c WHERE c.finding_id = f.id) AS case_id FROM patrol_findings f";

/// A photo of a finding.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FindingPhoto {
    /// Blob hash.
    pub blob: String,
    /// MIME type.
    pub media_type: String,
}

/// What lists of findings can be narrowed by.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Type code.
    pub kind: Option<String>,
    /// Zone.
    pub zone_id: Option<i64>,
    /// Building.
    pub building_id: Option<i64>,
    /// Recorded from.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
    /// At most.
    pub limit: i64,
}

impl Store {
    /// Zones of a community.
    pub async fn zones(&self, community_id: i64) -> Result<Vec<Zone>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Zone>(
            "SELECT id, community_id, name FROM zones WHERE community_id = $1 ORDER BY id")
            .bind(community_id).fetch_all(pool).await?))
    }

    /// One zone.
    pub async fn zone(&self, id: i64) -> Result<Zone> {
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Zone>("SELECT id, community_id, name FROM zones WHERE id = $1")
            .bind(id).fetch_optional(pool).await?)
        .ok_or(StoreError::NotFound)
    }

    /// Creates a zone.
    pub async fn create_zone(&self, community_id: i64, name: &str, change: Change) -> Result<Zone> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar("INSERT INTO zones (community_id, name) VALUES ($1, $2) RETURNING id")
                .bind(community_id).bind(name).fetch_one(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "片区名称已存在 / a zone with this name exists"))?;
            let change = Change { community_id: Some(community_id), entity: "zone".into(), entity_id: id.to_string(),
                after: serde_json::json!({"name": name}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.zone(id).await
    }

    /// The squad of a zone.
    pub async fn zone_members(&self, zone_id: i64) -> Result<Vec<ZoneMember>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, ZoneMember>(
            "SELECT u.id AS user_id, u.display_name, u.role, m.leader FROM zone_members m JOIN users u ON u.id = m.user_id \
             WHERE m.zone_id = $1 ORDER BY m.leader DESC, u.id")
            .bind(zone_id).fetch_all(pool).await?))
    }

    /// Zones an account patrols.
    pub async fn zones_of(&self, user_id: i64) -> Result<Vec<i64>> {
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_scalar("SELECT zone_id FROM zone_members WHERE user_id = $1 ORDER BY zone_id")
            .bind(user_id).fetch_all(pool).await?),
        )
    }

    /// Adds an account to a zone's squad (or changes whether it leads).
    pub async fn set_zone_member(&self, zone: &Zone, user_id: i64, leader: bool, change: Change) -> Result<()> {
        let ok: i64 = with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT COUNT(*) FROM users u WHERE u.id = $1 AND u.role IN ('staff', 'social_worker', 'patrol', 'volunteer') \
             AND (EXISTS (SELECT 1 FROM user_communities uc WHERE uc.user_id = u.id AND uc.community_id = $2) \
               OR EXISTS (SELECT 1 FROM households h WHERE h.id = u.household_id AND h.community_id = $2))")
            .bind(user_id).bind(zone.community_id).fetch_one(pool).await?);
        if ok == 0 {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "user_id",
                "须为本社区的工作人员、巡查队员或志愿者 / must be staff, a patrol member or a volunteer of this community",
            )]));
        }
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO zone_members (zone_id, user_id, leader) VALUES ($1, $2, $3) \
                         ON CONFLICT (zone_id, user_id) DO UPDATE SET leader = excluded.leader")
                .bind(zone.id).bind(user_id).bind(leader).execute(&mut *tx).await?;
            let change = Change { community_id: Some(zone.community_id), entity: "zone".into(), entity_id: zone.id.to_string(),
                after: serde_json::json!({"member": user_id, "leader": leader}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Adds a checkpoint at the end of a zone's route; `code` is the QR sticker's random code.
    pub async fn create_checkpoint(
        &self,
        zone: &Zone,
        name: &str,
        building_id: Option<i64>,
        code: &str,
        change: Change,
    ) -> Result<Checkpoint> {
        if let Some(b) = building_id {
            let c = self.building(b).await.map_err(|_| {
                StoreError::Invalid(vec![FieldError::new("building_id", "楼栋不存在 / unknown building")])
            })?;
            if c.community_id != zone.community_id {
                return Err(StoreError::Invalid(vec![FieldError::new("building_id", "楼栋不存在 / unknown building")]));
            }
        }
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let position: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM patrol_checkpoints WHERE zone_id = $1")
                .bind(zone.id).fetch_one(&mut *tx).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO patrol_checkpoints (zone_id, name, code, building_id, position) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(zone.id).bind(name).bind(code).bind(building_id).bind(position).fetch_one(&mut *tx).await?;
            let change = Change { community_id: Some(zone.community_id), entity: "checkpoint".into(), entity_id: id.to_string(),
                after: serde_json::json!({"zone_id": zone.id, "name": name, "building_id": building_id}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.checkpoint(id).await
    }

    /// One checkpoint.
    pub async fn checkpoint(&self, id: i64) -> Result<Checkpoint> {
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Checkpoint>(
            "SELECT id, zone_id, name, code, building_id, position FROM patrol_checkpoints WHERE id = $1")
            .bind(id).fetch_optional(pool).await?)
        .ok_or(StoreError::NotFound)
    }

    /// The checkpoint whose sticker carries `code`.
    pub async fn checkpoint_by_code(&self, code: &str) -> Result<Checkpoint> {
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Checkpoint>(
            "SELECT id, zone_id, name, code, building_id, position FROM patrol_checkpoints WHERE code = $1 AND active")
            .bind(code).fetch_optional(pool).await?)
        .ok_or(StoreError::NotFound)
    }

    /// A zone's route, in order.
    pub async fn checkpoints(&self, zone_id: i64) -> Result<Vec<Checkpoint>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Checkpoint>(
            "SELECT id, zone_id, name, code, building_id, position FROM patrol_checkpoints WHERE zone_id = $1 AND active ORDER BY position")
            .bind(zone_id).fetch_all(pool).await?))
    }

    /// Creates a plan; its rounds are generated by [`Store::ensure_rounds`].
    pub async fn create_plan(
        &self,
        zone: &Zone,
        name: &str,
        schedule: &Schedule,
        checklist: &[String],
        change: Change,
    ) -> Result<Plan> {
        let times = serde_json::to_string(&schedule.time_texts()).unwrap_or_default();
        let days = serde_json::to_string(&schedule.weekdays).unwrap_or_default();
        let list = serde_json::to_string(checklist).unwrap_or_default();
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO patrol_plans (community_id, zone_id, name, times, weekdays, window_minutes, checklist, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(zone.community_id).bind(zone.id).bind(name).bind(&times).bind(&days)
                .bind(i64::from(schedule.window_minutes)).bind(&list).bind(change.at).fetch_one(&mut *tx).await?;
            let change = Change { community_id: Some(zone.community_id), entity: "patrol_plan".into(), entity_id: id.to_string(),
                after: serde_json::json!({"zone_id": zone.id, "name": name, "times": times, "weekdays": days, "checklist": checklist}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.plan(id).await
    }

    /// One plan.
    pub async fn plan(&self, id: i64) -> Result<Plan> {
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Plan>(
            "SELECT id, community_id, zone_id, name, times, weekdays, window_minutes, checklist, active FROM patrol_plans WHERE id = $1")
            .bind(id).fetch_optional(pool).await?)
        .ok_or(StoreError::NotFound)
    }

    /// Plans of a community.
    pub async fn plans(&self, community_id: i64) -> Result<Vec<Plan>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Plan>(
            "SELECT id, community_id, zone_id, name, times, weekdays, window_minutes, checklist, active FROM patrol_plans \
             WHERE community_id = $1 ORDER BY id")
            .bind(community_id).fetch_all(pool).await?))
    }

    /// Generates the rounds of every active plan from `from` to `to` (Beijing dates); rounds that exist are left
    /// alone, so any node may run this at any time. Returns how many were added.
    pub async fn ensure_rounds(&self, from: NaiveDate, to: NaiveDate) -> Result<u64> {
        let plans: Vec<Plan> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Plan>(
            "SELECT id, community_id, zone_id, name, times, weekdays, window_minutes, checklist, active FROM patrol_plans WHERE active")
            .fetch_all(pool).await?);
        let mut added = 0;
        with_db!(self, write, pool, _pg => {
            let mut tx = pool.begin_write().await?;
            for plan in &plans {
                let Some(schedule) = plan.schedule() else { continue };
                for o in schedule.occurrences(from, to) {
                    added += sqlx::query(
                        "INSERT INTO patrol_rounds (community_id, plan_id, zone_id, date, shift, starts_at, due_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (plan_id, starts_at) DO NOTHING")
                        .bind(plan.community_id).bind(plan.id).bind(plan.zone_id).bind(o.date).bind(o.shift.code())
                        .bind(o.starts_at).bind(o.due_at).execute(&mut *tx).await?.rows_affected();
                }
            }
            tx.commit().await?;
        });
        Ok(added)
    }

    /// Rounds of a community from `from` to `to` (Beijing dates), optionally of one zone, in start order.
    pub async fn rounds(
        &self,
        community_id: i64,
        zone_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Round>> {
        let sql = format!(
            "SELECT {ROUND_COLUMNS} WHERE r.community_id = $1 AND r.date >= $2 AND r.date <= $3 \
             AND ($4 IS NULL OR r.zone_id = $4) ORDER BY r.starts_at, r.zone_id"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Round>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(from).bind(to).bind(zone_id).fetch_all(pool).await?))
    }

    /// One round.
    pub async fn round(&self, id: i64) -> Result<Round> {
        let sql = format!("SELECT {ROUND_COLUMNS} WHERE r.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Round>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// A round's check-ins.
    pub async fn checkins(&self, round_id: i64) -> Result<Vec<Checkin>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Checkin>(
            "SELECT checkpoint_id, user_id, at, method, checklist FROM patrol_checkins WHERE round_id = $1 ORDER BY at")
            .bind(round_id).fetch_all(pool).await?))
    }

    /// Records a check-in; checking in twice at one checkpoint is a conflict.
    pub async fn check_in(
        &self,
        round: &Round,
        checkpoint: &Checkpoint,
        method: &str,
        checklist: &[String],
        change: Change,
    ) -> Result<()> {
        let list = serde_json::to_string(checklist).unwrap_or_default();
        let user = change.actor_id.unwrap_or_default();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("INSERT INTO patrol_checkins (round_id, checkpoint_id, user_id, at, method, checklist) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(round.id).bind(checkpoint.id).bind(user).bind(change.at).bind(method).bind(&list)
                .execute(&mut *tx).await
                .map_err(|e| crate::on_unique(e, "此巡查点本轮已打卡 / already checked in at this checkpoint on this round"))?;
            let change = Change { community_id: Some(round.community_id), entity: "round".into(), entity_id: round.id.to_string(),
                after: serde_json::json!({"checkpoint_id": checkpoint.id, "method": method, "checklist": checklist}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Finishes a round (the caller has checked that it may be).
    pub async fn finish_round(&self, round: &Round, change: Change) -> Result<Round> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE patrol_rounds SET completed_at = $1, completed_by = $2 WHERE id = $3 AND completed_at IS NULL")
                .bind(change.at).bind(change.actor_id).bind(round.id).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("本轮巡查已完成 / this round is already finished".into()));
            }
            let change = Change { community_id: Some(round.community_id), entity: "round".into(), entity_id: round.id.to_string(),
                after: serde_json::json!({"completed_at": change.at}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.round(round.id).await
    }

    /// Flags every round past its deadline and not finished to its zone's leaders, once; returns those flagged.
    pub async fn flag_missed_rounds(&self, now: DateTime<Utc>) -> Result<Vec<Round>> {
        let sql = format!(
            "SELECT {ROUND_COLUMNS} WHERE r.due_at < $1 AND r.completed_at IS NULL AND r.missed_flagged_at IS NULL ORDER BY r.due_at LIMIT 200"
        );
        let missed: Vec<Round> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Round>(sqlx::AssertSqlSafe(sql))
            .bind(now).fetch_all(pool).await?);
        let mut flagged = Vec::new();
        for r in missed {
            let leaders: Vec<i64> =
                self.zone_members(r.zone_id).await?.into_iter().filter(|m| m.leader).map(|m| m.user_id).collect();
            let local = r.starts_at.with_timezone(&crate::beijing());
            let notices = crate::Notices {
                inbox: leaders
                    .iter()
                    .map(|u| {
                        (
                            *u,
                            format!("漏巡：{} {} {}", r.zone_name, r.date, local.format("%H:%M")),
                            format!(
                                "{}（{}）未在期限前完成，已签到 {}/{} 个巡查点 / round missed",
                                r.plan_name, r.zone_name, r.checked, r.checkpoints
                            ),
                            format!("/patrol/rounds/{}", r.id),
                        )
                    })
                    .collect(),
                outside: Vec::new(),
            };
            let won = with_db!(self, write, pool, pg => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query("UPDATE patrol_rounds SET missed_flagged_at = $1 WHERE id = $2 AND missed_flagged_at IS NULL AND completed_at IS NULL")
                    .bind(now).bind(r.id).execute(&mut *tx).await?.rows_affected();
                if n == 1 {
                    let change = Change { entity_id: r.id.to_string(),
                        after: serde_json::json!({"due_at": r.due_at, "checked": r.checked}),
                        ..Change::system(now, Some(r.community_id), "round.missed") };
                    append_event!(tx, pg, &change);
                    write_notices!(tx, &notices, None::<i64>, now);
                }
                tx.commit().await?;
                n == 1
            });
            if won {
                flagged.push(r);
            }
        }
        Ok(flagged)
    }

    /// Records a finding with its photos; one not fixed on the spot opens a case, in the same transaction. A
    /// finding sent again with the same `client_id` (a phone retrying after a lost answer) is returned, not doubled:
    /// the column is unique, so a retry racing the first send loses at the insert and is answered with the winner.
    pub async fn record_finding(&self, new: &NewFinding, change: Change) -> Result<(Finding, bool)> {
        if let Some(known) = self.finding_sent_as(new).await? {
            return Ok((known, false));
        }
        match self.record_findings(std::slice::from_ref(&(new.clone(), change))).await {
            Ok(ids) => Ok((self.finding(ids[0]).await?, true)),
            Err(StoreError::Conflict(m)) => match self.finding_sent_as(new).await? {
                Some(known) => Ok((known, false)),
                None => Err(StoreError::Conflict(m)),
            },
            Err(e) => Err(e),
        }
    }

    /// The finding already recorded under `new`'s `client_id` by the same person in the same community.
    async fn finding_sent_as(&self, new: &NewFinding) -> Result<Option<Finding>> {
        let Some(cid) = &new.client_id else { return Ok(None) };
        let known: Option<i64> = with_db!(self, read, pool, _pg => sqlx::query_scalar("SELECT id FROM patrol_findings WHERE client_id = $1")
            .bind(cid).fetch_optional(pool).await?);
        let Some(id) = known else { return Ok(None) };
        let found = self.finding(id).await?;
        if found.community_id == new.community_id {
            Ok(Some(found))
        } else {
            Err(StoreError::Conflict("此 client_id 已被使用 / this client_id is taken".into()))
        }
    }

    /// Records many findings in one transaction, all or none: a phone's queue sent at once, or patrol records
    /// kept before Wujia. Each carries its own change (and time); each not fixed on the spot opens a case.
    pub async fn record_findings(&self, items: &[(NewFinding, Change)]) -> Result<Vec<i64>> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let mut batch = crate::audit::open_chain!(tx, pg);
            let mut ids = Vec::with_capacity(items.len());
            for (new, change) in items {
                // Same spot, same problem, seen before: a recurrence.
                let earlier: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM patrol_findings WHERE community_id = $1 AND place_key = $2 AND kind = $3 LIMIT 1")
                    .bind(new.community_id).bind(&new.place_key).bind(&new.kind).fetch_optional(&mut *tx).await?;
                let recurrence = earlier.is_some();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO patrol_findings (community_id, zone_id, round_id, kind, place_kind, place_key, place_text, building_id, \
                       unit_id, household_id, note, fixed_on_spot, recurrence, recorded_by, recorded_at, client_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id")
                    .bind(new.community_id).bind(new.zone_id).bind(new.round_id).bind(&new.kind).bind(&new.place_kind)
                    .bind(&new.place_key).bind(&new.place_text).bind(new.building_id).bind(new.unit_id).bind(new.household_id)
                    .bind(&new.note).bind(new.fixed_on_spot).bind(recurrence).bind(change.actor_id.unwrap_or_default())
                    .bind(change.at).bind(&new.client_id)
                    .fetch_one(&mut *tx).await
                    .map_err(|e| crate::on_unique(e, "此问题已记录 / this finding was already recorded"))?;
                for (blob, media, size) in &new.photos {
                    sqlx::query("INSERT INTO finding_photos (finding_id, blob, media_type, size) VALUES ($1, $2, $3, $4)")
                        .bind(id).bind(blob).bind(media).bind(*size).execute(&mut *tx).await?;
                }
                batch.push(&Change { community_id: Some(new.community_id), entity: "finding".into(), entity_id: id.to_string(),
                    after: serde_json::json!({"kind": new.kind, "place": new.place_text, "fixed_on_spot": new.fixed_on_spot,
                        "recurrence": recurrence, "photos": new.photos.len(), "round_id": new.round_id}), ..change.clone() });
                if !new.fixed_on_spot {
                    let case = crate::cases::open_case!(tx, new, id, recurrence, change.at);
                    batch.push(&Change { community_id: Some(new.community_id), action: "case.open".into(), entity: "case".into(),
                        entity_id: case.to_string(), after: serde_json::json!({"finding_id": id, "kind": new.kind, "place": new.place_text}),
                        ..change.clone() });
                }
                ids.push(id);
            }
            crate::audit::write_events!(tx, batch);
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// One finding.
    pub async fn finding(&self, id: i64) -> Result<Finding> {
        let sql = format!("SELECT {FINDING_COLUMNS} WHERE f.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Finding>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Findings of a community, newest first.
    pub async fn findings(&self, community_id: i64, f: &FindingFilter) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS} WHERE f.community_id = $1 AND ($2 IS NULL OR f.kind = $2) AND ($3 IS NULL OR f.zone_id = $3) \
             AND ($4 IS NULL OR f.building_id = $4) AND ($5 IS NULL OR f.recorded_at >= $5) AND ($6 IS NULL OR f.recorded_at < $6) \
             ORDER BY f.recorded_at DESC, f.id DESC LIMIT {}",
            f.limit.clamp(1, 1000)
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Finding>(sqlx::AssertSqlSafe(sql))
            .bind(community_id).bind(&f.kind).bind(f.zone_id).bind(f.building_id).bind(f.from).bind(f.to)
            .fetch_all(pool).await?))
    }

    /// The findings recorded on a round, in the order they were recorded.
    pub async fn round_findings(&self, round_id: i64) -> Result<Vec<Finding>> {
        let sql = format!("SELECT {FINDING_COLUMNS} WHERE f.round_id = $1 ORDER BY f.recorded_at, f.id");
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Finding>(sqlx::AssertSqlSafe(sql))
            .bind(round_id).fetch_all(pool).await?))
    }

    /// A finding's photos.
    pub async fn finding_photos(&self, finding_id: i64) -> Result<Vec<FindingPhoto>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, FindingPhoto>(
            "SELECT blob, media_type FROM finding_photos WHERE finding_id = $1 ORDER BY id")
            .bind(finding_id).fetch_all(pool).await?))
    }

    /// The communities a patrol photo (finding, re-inspection or baseline) belongs to, with its type.
    pub async fn patrol_photo_owners(&self, blob: &str) -> Result<Vec<(i64, String)>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT f.community_id, p.media_type FROM finding_photos p JOIN patrol_findings f ON f.id = p.finding_id WHERE p.blob = $1 \
             UNION ALL SELECT c.community_id, s.photo_type FROM case_steps s JOIN rectification_cases c ON c.id = s.case_id WHERE s.photo_blob = $1 \
             UNION ALL SELECT b.community_id, l.media_type FROM building_baselines l JOIN buildings b ON b.id = l.building_id WHERE l.blob = $1")
            .bind(blob).fetch_all(pool).await?))
    }
}

/// (zone, shift, due, completed) of a round.
type RoundRow = (String, String, DateTime<Utc>, Option<DateTime<Utc>>);
/// (kind, zone, recorded, fixed on the spot, recurrence) of a finding.
type FindingRow = (String, Option<String>, DateTime<Utc>, bool, bool);

/// The rows the patrol figures are computed from.
#[derive(Debug, Clone, Default)]
pub struct PatrolFacts {
    /// Rounds starting in the period.
    pub rounds: Vec<wujia_core::patrol::figures::RoundFact>,
    /// Findings recorded in the period.
    pub findings: Vec<wujia_core::patrol::figures::FindingFact>,
    /// Cases closed in the period: (opened, closed).
    pub closed_cases: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Actions due in the period: (due, Beijing date done).
    pub actions: Vec<(NaiveDate, Option<NaiveDate>)>,
    /// Open illegal-construction cases now.
    pub open_illegal: i64,
}

impl Store {
    /// Everything the patrol figures need, for Beijing dates `from` to `to` inclusive.
    pub async fn patrol_facts(&self, community_id: i64, from: NaiveDate, to: NaiveDate) -> Result<PatrolFacts> {
        use wujia_core::patrol::figures::{FindingFact, RoundFact};
        let start = from
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_local_timezone(crate::beijing())
            .single()
            .map(|t| t.to_utc());
        let end = to
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|t| t.and_local_timezone(crate::beijing()).single())
            .map(|t| t.to_utc());
        let (Some(start), Some(end)) = (start, end) else { return Ok(PatrolFacts::default()) };
        with_db!(self, read, pool, _pg => {
            let rounds: Vec<RoundRow> = sqlx::query_as(
                "SELECT z.name, r.shift, r.due_at, r.completed_at FROM patrol_rounds r JOIN zones z ON z.id = r.zone_id \
                 WHERE r.community_id = $1 AND r.date >= $2 AND r.date <= $3")
                .bind(community_id).bind(from).bind(to).fetch_all(pool).await?;
            let findings: Vec<FindingRow> = sqlx::query_as(
                "SELECT f.kind, z.name, f.recorded_at, f.fixed_on_spot, f.recurrence FROM patrol_findings f LEFT JOIN zones z ON z.id = f.zone_id \
                 WHERE f.community_id = $1 AND f.recorded_at >= $2 AND f.recorded_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_all(pool).await?;
            let closed_cases: Vec<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
                "SELECT opened_at, closed_at FROM rectification_cases WHERE community_id = $1 AND closed_at >= $2 AND closed_at < $3")
                .bind(community_id).bind(start).bind(end).fetch_all(pool).await?;
            let actions: Vec<(NaiveDate, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT due, done_at FROM meeting_actions WHERE community_id = $1 AND due >= $2 AND due <= $3")
                .bind(community_id).bind(from).bind(to).fetch_all(pool).await?;
            let open_illegal: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM rectification_cases WHERE community_id = $1 AND status <> 'closed' \
                 AND kind IN ('window_guard', 'illegal_construction')")
                .bind(community_id).fetch_one(pool).await?;
            Ok(PatrolFacts {
                rounds: rounds.into_iter().map(|(zone, shift, due_at, completed_at)| RoundFact { zone, shift, due_at, completed_at }).collect(),
                findings: findings.into_iter().map(|(kind, zone, at, fixed_on_spot, recurrence)| FindingFact {
                    kind, zone, date: at.with_timezone(&crate::beijing()).date_naive(), fixed_on_spot, recurrence }).collect(),
                closed_cases,
                actions: actions.into_iter().map(|(due, done)| (due, done.map(|d| d.with_timezone(&crate::beijing()).date_naive()))).collect(),
                open_illegal,
            })
        })
    }
}
