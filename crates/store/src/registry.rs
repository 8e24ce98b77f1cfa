//! Compounds, buildings, units, households and residents.

use crate::audit::append_event;
use crate::{Backend, Change, Result, Store, StoreError, on_unique, with_db};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::HashMap;
use wujia_core::registry::{
    AddressQuery, FieldError, PhoneNumber, ResidentDraft, age_on, derived_tags, format_address, prefix_end,
};

/// Inserts a resident row inside transaction `$tx` and evaluates to its id.
macro_rules! insert_resident {
    ($tx:expr, $store:expr, $community:expr, $household:expr, $draft:expr, $origin:expr, $at:expr) => {{
        let draft: &wujia_core::registry::ResidentDraft = $draft;
        let cipher = $store.cipher();
        if let Some(n) = &draft.id_card {
            $crate::registry::refuse_taken_id_card!($tx, cipher.blind_index(n.as_str()), None::<i64>, $community);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO residents (community_id, household_id, name, gender, birth_date, id_card_enc, id_card_index, \
               id_card_masked, phone, phone_tail, origin_id, move_in_date, relation, wedding_date, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
        )
        .bind($community)
        .bind($household)
        .bind(&draft.name)
        .bind(draft.gender.code())
        .bind(draft.birth_date)
        .bind(draft.id_card.as_ref().map(|n| cipher.encrypt(n.as_str())))
        .bind(draft.id_card.as_ref().map(|n| cipher.blind_index(n.as_str())))
        .bind(draft.id_card.as_ref().map(|n| n.masked()))
        .bind(draft.phone.as_ref().map(|p| p.as_str().to_string()))
        .bind(draft.phone.as_ref().map(|p| p.tail().to_string()))
        .bind($origin)
        .bind(draft.move_in_date)
        .bind(draft.relation.code())
        .bind(draft.wedding_date)
        .bind($at)
        .fetch_one(&mut *$tx)
        .await
        .map_err($crate::registry::id_card_raced)?;
        id
    }};
}
pub(crate) use insert_resident;

/// Refuses an ID number (its blind `$index`) that a resident other than `$resident` already holds, saying only
/// whether that resident is in `$community`: see [`StoreError::IdCardTaken`]. Runs inside transaction `$tx`. The
/// unique constraint still decides under concurrency ([`id_card_raced`]); this look-up only chooses the answer.
macro_rules! refuse_taken_id_card {
    ($tx:expr, $index:expr, $resident:expr, $community:expr) => {{
        let holder: Option<i64> =
            sqlx::query_scalar("SELECT community_id FROM residents WHERE id_card_index = $1 AND id <> $2")
                .bind($index)
                .bind($resident.unwrap_or(0_i64))
                .fetch_optional(&mut *$tx)
                .await?;
        if let Some(c) = holder {
            return Err($crate::StoreError::IdCardTaken { in_community: c == $community });
        }
    }};
}
pub(crate) use refuse_taken_id_card;

/// The unique constraint on ID numbers fired after [`refuse_taken_id_card`] found none (two writes raced): the
/// holder is unknown here, so the answer is the one that reveals nothing.
pub(crate) fn id_card_raced(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::IdCardTaken { in_community: false },
        _ => StoreError::Database(e),
    }
}

/// A community and where it belongs.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Community {
    /// Id.
    pub id: i64,
    /// Name, e.g. 望坛新苑.
    pub name: String,
    /// Short code used in readable numbers.
    pub code: String,
    /// Street office.
    pub street: String,
    /// District.
    pub district: String,
}

/// A compound with its counts.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CompoundSummary {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Number on its road.
    pub number: i64,
    /// Name, e.g. 琉璃井路3号院.
    pub name: String,
    /// Buildings in it.
    pub buildings: i64,
    /// Households in it.
    pub households: i64,
}

/// A building with its counts and who looks after it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BuildingSummary {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Compound.
    pub compound_id: i64,
    /// Compound name.
    pub compound_name: String,
    /// Building number.
    pub number: i64,
    /// Floors.
    pub floors: i64,
    /// Units.
    pub units: i64,
    /// Households.
    pub households: i64,
    /// Zone (片区).
    pub zone_id: Option<i64>,
    /// Zone name.
    pub zone_name: Option<String>,
    /// Building social worker's account.
    pub social_worker_id: Option<i64>,
    /// Building social worker's name.
    pub social_worker_name: Option<String>,
}

/// A household in a list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HouseholdBrief {
    /// Id.
    pub id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Room.
    pub room: String,
    /// Full address.
    pub address: String,
    /// Number of residents.
    pub residents: i64,
    /// Head of household's name.
    pub head_name: Option<String>,
}

/// A unit and its households.
#[derive(Debug, Clone, Serialize)]
pub struct UnitWithHouseholds {
    /// Unit id.
    pub id: i64,
    /// Unit number.
    pub number: i64,
    /// Households, by room.
    pub households: Vec<HouseholdBrief>,
}

/// A resident as stored, with the phone in full: the web layer decides what the viewer may see.
#[derive(Debug, Clone, Serialize)]
pub struct ResidentView {
    /// Id.
    pub id: i64,
    /// Household.
    pub household_id: i64,
    /// Community.
    pub community_id: i64,
    /// Building.
    pub building_id: i64,
    /// Household address.
    pub address: String,
    /// Name.
    pub name: String,
    /// `male` or `female`.
    pub gender: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Age today.
    pub age: u32,
    /// Masked ID number.
    pub id_card_masked: Option<String>,
    /// Phone in full.
    pub phone: Option<String>,
    /// Origin community.
    pub origin: Option<String>,
    /// Move-in date.
    pub move_in_date: Option<NaiveDate>,
    /// Relation code.
    pub relation: String,
    /// Wedding date.
    pub wedding_date: Option<NaiveDate>,
    /// Tag codes, manual and derived.
    pub tags: Vec<String>,
    /// Optimistic-lock version.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct ResidentRow {
    id: i64,
    household_id: i64,
    community_id: i64,
    building_id: i64,
    address: String,
    name: String,
    gender: String,
    birth_date: NaiveDate,
    id_card_masked: Option<String>,
    phone: Option<String>,
    origin: Option<String>,
    move_in_date: Option<NaiveDate>,
    relation: String,
    wedding_date: Option<NaiveDate>,
    version: i64,
}

const RESIDENT_SELECT: &str = "SELECT r.id, r.household_id, r.community_id, h.building_id, h.address, r.name, r.gender, \
     r.birth_date, r.id_card_masked, r.phone, o.name AS origin, r.move_in_date, r.relation, r.wedding_date, r.version \
     FROM residents r JOIN households h ON h.id = r.household_id LEFT JOIN origin_communities o ON o.id = r.origin_id";

/// A household with everyone in it.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdDetail {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Building.
    pub building_id: i64,
    /// Compound.
    pub compound_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Full address.
    pub address: String,
    /// Room.
    pub room: String,
    /// Residents, head first.
    pub residents: Vec<ResidentView>,
}

/// A search result.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SearchHit {
    /// Household.
    pub household_id: i64,
    /// Building (for permission checks).
    pub building_id: i64,
    /// Resident, when the match was a person.
    pub resident_id: Option<i64>,
    /// Name of the resident, or the head of household.
    pub name: Option<String>,
    /// Address.
    pub address: String,
}

/// A tag of the community's tag set.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TagInfo {
    /// Id.
    pub id: i64,
    /// Stable code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The registry's figures.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrySummary {
    /// Community.
    pub community_id: i64,
    /// Compounds.
    pub compounds: i64,
    /// Buildings.
    pub buildings: i64,
    /// Households.
    pub households: i64,
    /// Residents.
    pub residents: i64,
    /// Residents by origin community (name → count), every origin listed.
    pub residents_by_origin: Vec<(String, i64)>,
    /// Residents by tag code (manual and derived), every tag listed.
    pub residents_by_tag: Vec<(String, i64)>,
}

/// A resident as an export file shows it, ID number decrypted (the caller masks per role).
#[derive(Debug, Clone)]
pub struct ExportRecord {
    /// Compound name.
    pub compound: String,
    /// Building number.
    pub building: i64,
    /// Building id (for permission checks).
    pub building_id: i64,
    /// Unit number.
    pub unit: i64,
    /// Room.
    pub room: String,
    /// The resident.
    pub resident: ResidentView,
    /// Full ID number.
    pub id_card: Option<String>,
}

impl ExportRecord {
    /// The record's cells in the import template's columns, with the ID number and phone as the reader may see
    /// them (the caller decides full or masked). Only manual tags are written: the derived ones follow from the rest.
    pub fn cells(&self, id_card: String, phone: String) -> Vec<String> {
        let v = &self.resident;
        let relation = wujia_core::registry::Relation::parse(&v.relation).map_or(v.relation.as_str(), |x| x.zh());
        let manual: Vec<&str> = v
            .tags
            .iter()
            .map(String::as_str)
            .filter(|t| !wujia_core::registry::DERIVED_TAGS.iter().any(|(c, _, _)| c == t))
            .collect();
        vec![
            self.compound.clone(),
            self.building.to_string(),
            self.unit.to_string(),
            self.room.clone(),
            v.name.clone(),
            if v.gender == "male" { "男".into() } else { "女".into() },
            v.birth_date.to_string(),
            id_card,
            phone,
            v.origin.clone().unwrap_or_default(),
            v.move_in_date.map(|d| d.to_string()).unwrap_or_default(),
            relation.to_string(),
            v.wedding_date.map(|d| d.to_string()).unwrap_or_default(),
            manual.join("、"),
        ]
    }
}

impl Store {
    /// Every community, by name.
    pub async fn communities(&self) -> Result<Vec<Community>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Community>(
            "SELECT id, name, code, street, district FROM communities ORDER BY id",
        )
        .fetch_all(pool)
        .await?))
    }

    /// True before anything has been loaded.
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 = with_db!(self, read, pool, _pg => sqlx::query_scalar("SELECT COUNT(*) FROM communities").fetch_one(pool).await?);
        Ok(n == 0)
    }

    /// Compounds of a community with counts.
    pub async fn compounds(&self, community_id: i64) -> Result<Vec<CompoundSummary>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, CompoundSummary>(
            "SELECT c.id, c.community_id, c.number, c.name, \
               (SELECT COUNT(*) FROM buildings b WHERE b.compound_id = c.id) AS buildings, \
               (SELECT COUNT(*) FROM households h JOIN buildings b ON b.id = h.building_id WHERE b.compound_id = c.id) AS households \
             FROM compounds c WHERE c.community_id = $1 ORDER BY c.number, c.name",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?))
    }

    const BUILDING_SELECT: &'static str = "SELECT b.id, b.community_id, b.compound_id, c.name AS compound_name, b.number, b.floors, \
           (SELECT COUNT(*) FROM units u WHERE u.building_id = b.id) AS units, \
           (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households, \
           b.zone_id, z.name AS zone_name, b.social_worker_id, w.display_name AS social_worker_name \
         FROM buildings b JOIN compounds c ON c.id = b.compound_id \
         LEFT JOIN zones z ON z.id = b.zone_id LEFT JOIN users w ON w.id = b.social_worker_id";

    /// One compound with its counts.
    pub async fn compound(&self, id: i64) -> Result<CompoundSummary> {
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, CompoundSummary>(
            "SELECT c.id, c.community_id, c.number, c.name, \
               (SELECT COUNT(*) FROM buildings b WHERE b.compound_id = c.id) AS buildings, \
               (SELECT COUNT(*) FROM households h JOIN buildings b ON b.id = h.building_id WHERE b.compound_id = c.id) AS households \
             FROM compounds c WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?)
        .ok_or(StoreError::NotFound)
    }

    /// Adds a compound (院) to a community.
    pub async fn create_compound(&self, community_id: i64, number: i64, name: &str, change: Change) -> Result<i64> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar("INSERT INTO compounds (community_id, number, name) VALUES ($1, $2, $3) RETURNING id")
                .bind(community_id)
                .bind(number)
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| on_unique(e, "该小区已存在 / a compound with this name exists"))?;
            let change = Change {
                community_id: Some(community_id),
                entity: "compound".into(),
                entity_id: id.to_string(),
                after: serde_json::json!({"number": number, "name": name}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Adds a building with its units (numbered 1..=units) to a compound.
    pub async fn create_building(
        &self,
        compound_id: i64,
        number: i64,
        floors: i64,
        units: i64,
        change: Change,
    ) -> Result<i64> {
        let compound = self.compound(compound_id).await?;
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO buildings (community_id, compound_id, number, floors) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(compound.community_id)
            .bind(compound_id)
            .bind(number)
            .bind(floors)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, "该楼栋已存在 / this building exists"))?;
            for u in 1..=units {
                sqlx::query("INSERT INTO units (building_id, number) VALUES ($1, $2)").bind(id).bind(u).execute(&mut *tx).await?;
            }
            let change = Change {
                community_id: Some(compound.community_id),
                entity: "building".into(),
                entity_id: id.to_string(),
                after: serde_json::json!({"compound": compound.name, "number": number, "floors": floors, "units": units}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The community and building of a unit.
    pub async fn unit(&self, id: i64) -> Result<(i64, i64)> {
        with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT b.community_id, b.id FROM units u JOIN buildings b ON b.id = u.building_id WHERE u.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?)
        .ok_or(StoreError::NotFound)
    }

    /// Adds an empty household (a flat) to a unit; the address is derived from the structure.
    pub async fn create_household(&self, unit_id: i64, room: &str, change: Change) -> Result<i64> {
        let place: Option<(i64, i64, i64, String, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT b.community_id, b.id, u.number, c.name, b.number FROM units u \
             JOIN buildings b ON b.id = u.building_id JOIN compounds c ON c.id = b.compound_id WHERE u.id = $1",
        )
        .bind(unit_id)
        .fetch_optional(pool)
        .await?);
        let (community_id, building_id, unit_number, compound, building_number) = place.ok_or(StoreError::NotFound)?;
        let address = format_address(&compound, building_number as u32, unit_number as u32, room);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO households (community_id, building_id, unit_id, room, address, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(community_id)
            .bind(building_id)
            .bind(unit_id)
            .bind(room)
            .bind(&address)
            .bind(change.at)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, "该户已存在 / this household already exists"))?;
            let change = Change {
                community_id: Some(community_id),
                entity: "household".into(),
                entity_id: id.to_string(),
                after: serde_json::json!({"address": address}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Assigns (or clears) a building's social worker, who must be a building social worker of its community.
    pub async fn assign_social_worker(&self, building_id: i64, user_id: Option<i64>, change: Change) -> Result<()> {
        let building = self.building(building_id).await?;
        if let Some(u) = user_id {
            let ok: i64 = with_db!(self, read, pool, _pg => sqlx::query_scalar(
                "SELECT COUNT(*) FROM users u JOIN user_communities uc ON uc.user_id = u.id \
                 WHERE u.id = $1 AND u.role = 'social_worker' AND uc.community_id = $2",
            )
            .bind(u)
            .bind(building.community_id)
            .fetch_one(pool)
            .await?);
            if ok == 0 {
                return Err(StoreError::Invalid(vec![FieldError::new(
                    "user_id",
                    "须为本社区的包楼社工账号 / must be a building social worker of this community",
                )]));
            }
        }
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE buildings SET social_worker_id = $1 WHERE id = $2").bind(user_id).bind(building_id).execute(&mut *tx).await?;
            let change = Change {
                community_id: Some(building.community_id),
                entity: "building".into(),
                entity_id: building_id.to_string(),
                before: serde_json::json!({"social_worker_id": building.social_worker_id}),
                after: serde_json::json!({"social_worker_id": user_id}),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Buildings of a compound.
    pub async fn buildings(&self, compound_id: i64) -> Result<Vec<BuildingSummary>> {
        let sql = format!("{} WHERE b.compound_id = $1 ORDER BY b.number", Self::BUILDING_SELECT);
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, BuildingSummary>(sqlx::AssertSqlSafe(sql))
            .bind(compound_id)
            .fetch_all(pool)
            .await?))
    }

    /// One building.
    pub async fn building(&self, id: i64) -> Result<BuildingSummary> {
        let sql = format!("{} WHERE b.id = $1", Self::BUILDING_SELECT);
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, BuildingSummary>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// The units of a building with their households.
    pub async fn units(&self, building_id: i64) -> Result<Vec<UnitWithHouseholds>> {
        let units: Vec<(i64, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT id, number FROM units WHERE building_id = $1 ORDER BY number",
        )
        .bind(building_id)
        .fetch_all(pool)
        .await?);
        let households: Vec<HouseholdBrief> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, HouseholdBrief>(
            "SELECT h.id, h.unit_id, h.room, h.address, \
               (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id) AS residents, \
               (SELECT r.name FROM residents r WHERE r.household_id = h.id AND r.relation = 'head' ORDER BY r.id LIMIT 1) AS head_name \
             FROM households h WHERE h.building_id = $1 ORDER BY h.unit_id, LENGTH(h.room), h.room",
        )
        .bind(building_id)
        .fetch_all(pool)
        .await?);
        let mut by_unit: HashMap<i64, Vec<HouseholdBrief>> = HashMap::new();
        for h in households {
            by_unit.entry(h.unit_id).or_default().push(h);
        }
        Ok(units
            .into_iter()
            .map(|(id, number)| UnitWithHouseholds { id, number, households: by_unit.remove(&id).unwrap_or_default() })
            .collect())
    }

    async fn tags_of(&self, resident_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in resident_ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT rt.resident_id, t.code FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id \
                 WHERE rt.resident_id IN ({}) ORDER BY t.id",
                placeholders.join(",")
            );
            let rows: Vec<(i64, String)> = with_db!(self, read, pool, _pg => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await?
            });
            for (id, code) in rows {
                out.entry(id).or_default().push(code);
            }
        }
        Ok(out)
    }

    fn view(row: ResidentRow, mut tags: Vec<String>, today: NaiveDate) -> ResidentView {
        tags.extend(derived_tags(row.birth_date, row.wedding_date, today).into_iter().map(String::from));
        ResidentView {
            id: row.id,
            household_id: row.household_id,
            community_id: row.community_id,
            building_id: row.building_id,
            address: row.address,
            name: row.name,
            gender: row.gender,
            age: age_on(row.birth_date, today),
            birth_date: row.birth_date,
            id_card_masked: row.id_card_masked,
            phone: row.phone,
            origin: row.origin,
            move_in_date: row.move_in_date,
            relation: row.relation,
            wedding_date: row.wedding_date,
            tags,
            version: row.version,
        }
    }

    async fn resident_views(&self, rows: Vec<ResidentRow>, today: NaiveDate) -> Result<Vec<ResidentView>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut tags = self.tags_of(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let t = tags.remove(&r.id).unwrap_or_default();
                Self::view(r, t, today)
            })
            .collect())
    }

    /// Everyone living in some buildings, with their tags, by address: a building social worker's households.
    pub async fn residents_in_buildings(&self, building_ids: &[i64], today: NaiveDate) -> Result<Vec<ResidentView>> {
        let mut rows = Vec::new();
        for chunk in building_ids.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "{RESIDENT_SELECT} WHERE h.building_id IN ({}) ORDER BY h.building_id, h.unit_id, LENGTH(h.room), h.room, \
                 CASE WHEN r.relation = 'head' THEN 0 ELSE 1 END, r.birth_date",
                marks.join(",")
            );
            let part: Vec<ResidentRow> = with_db!(self, read, pool, _pg => {
                let mut q = sqlx::query_as::<_, ResidentRow>(sqlx::AssertSqlSafe(sql));
                for b in chunk {
                    q = q.bind(*b);
                }
                q.fetch_all(pool).await?
            });
            rows.extend(part);
        }
        self.resident_views(rows, today).await
    }

    /// Every household's building and the building's name, for figures by building: (household, building, name).
    pub async fn household_buildings(&self, community_id: i64) -> Result<Vec<(i64, i64, String)>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT h.id, b.id, c.name || b.number || '号楼' FROM households h JOIN buildings b ON b.id = h.building_id \
             JOIN compounds c ON c.id = b.compound_id WHERE h.community_id = $1 ORDER BY c.number, b.number, h.id")
            .bind(community_id).fetch_all(pool).await?))
    }

    /// A household with everyone in it, head first.
    pub async fn household(&self, id: i64, today: NaiveDate) -> Result<HouseholdDetail> {
        let head: Option<(i64, i64, i64, i64, String, String)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT h.community_id, h.building_id, b.compound_id, h.unit_id, h.address, h.room \
             FROM households h JOIN buildings b ON b.id = h.building_id WHERE h.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        let (community_id, building_id, compound_id, unit_id, address, room) = head.ok_or(StoreError::NotFound)?;
        let sql = format!(
            "{RESIDENT_SELECT} WHERE r.household_id = $1 ORDER BY CASE WHEN r.relation = 'head' THEN 0 ELSE 1 END, r.birth_date"
        );
        let rows = with_db!(self, read, pool, _pg => sqlx::query_as::<_, ResidentRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(pool)
            .await?);
        let residents = self.resident_views(rows, today).await?;
        Ok(HouseholdDetail { id, community_id, building_id, compound_id, unit_id, address, room, residents })
    }

    /// One resident.
    pub async fn resident(&self, id: i64, today: NaiveDate) -> Result<ResidentView> {
        let sql = format!("{RESIDENT_SELECT} WHERE r.id = $1");
        let row = with_db!(self, read, pool, _pg => sqlx::query_as::<_, ResidentRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)?;
        Ok(self.resident_views(vec![row], today).await?.remove(0))
    }

    /// The full ID number of a resident; the caller has checked permission and this read is recorded.
    pub async fn reveal_id_card(&self, resident_id: i64, change: &Change) -> Result<Option<String>> {
        let sealed: Option<Option<String>> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT id_card_enc FROM residents WHERE id = $1",
        )
        .bind(resident_id)
        .fetch_optional(pool)
        .await?);
        let sealed = sealed.ok_or(StoreError::NotFound)?;
        self.record(change).await?;
        sealed.map(|s| self.cipher().decrypt(&s).ok_or(StoreError::Crypto)).transpose()
    }

    /// Finds households by address text, or residents by name, phone tail, phone or ID number.
    pub async fn search(&self, community_id: i64, text: &str, limit: i64) -> Result<Vec<SearchHit>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let limit = limit.clamp(1, 1000);
        // Bare numbers are phone tails, phones or ID numbers, never rooms.
        let digits = text.chars().all(|c| c.is_ascii_digit() || c == 'X' || c == 'x');
        if !digits && let Some(q) = AddressQuery::parse(text) {
            return self.search_address(community_id, q, limit).await;
        }
        // Exact lookups order by address; name matches by name, which also lets SQLite walk the name index.
        let (clause, order, value) = if digits && text.len() == 4 {
            ("r.phone_tail = $2", "h.address, r.name", text.to_string())
        } else if digits && text.len() == 18 {
            ("r.id_card_index = $2", "h.address, r.name", self.cipher().blind_index(&text.to_ascii_uppercase()))
        } else if let Some(p) = PhoneNumber::parse(text).ok().filter(|_| digits) {
            ("r.phone = $2", "h.address, r.name", p.as_str().to_string())
        } else {
            // Names match from their start first (an index range), anywhere only when nothing starts so.
            let name = text.replace(['%', '_'], "");
            let (starting, values) = match (self.backend(), prefix_end(&name)) {
                // SQLite orders text by code point, so the names starting so are a range; `LIKE` with a
                // parameter would be planned anew on every binding. PostgreSQL's collation orders otherwise.
                (Backend::Sqlite, Some(end)) => {
                    ("r.name >= $2 AND r.name < $3", vec![Param::Text(name.clone()), Param::Text(end)])
                }
                _ => ("r.name LIKE $2", vec![Param::Text(format!("{name}%"))]),
            };
            let hits = self.search_residents(community_id, starting, "r.name, h.address", values, limit).await?;
            if !hits.is_empty() {
                return Ok(hits);
            }
            ("r.name LIKE $2", "r.name, h.address", format!("%{name}%"))
        };
        self.search_residents(community_id, clause, order, vec![Param::Text(value)], limit).await
    }

    async fn search_residents(
        &self,
        community_id: i64,
        clause: &str,
        order: &str,
        values: Vec<Param>,
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        let sql = format!(
            "SELECT r.household_id, h.building_id, r.id AS resident_id, r.name, h.address \
             FROM residents r JOIN households h ON h.id = r.household_id \
             WHERE r.community_id = $1 AND {clause} ORDER BY {order} LIMIT {limit}"
        );
        let mut params = vec![Param::Int(community_id)];
        params.extend(values);
        self.hits(&sql, &params).await
    }

    /// The households at a typed address (`3-7-1-102`, `3号院7号楼1单元102`); anything that is not an address
    /// (a phone, an ID number, a name) finds nothing. For the location of a finding or a request, which must never
    /// turn personal data into a home address.
    pub async fn households_at_address(&self, community_id: i64, text: &str, limit: i64) -> Result<Vec<SearchHit>> {
        let text = text.trim();
        let digits = text.chars().all(|c| c.is_ascii_digit() || c == 'X' || c == 'x');
        match AddressQuery::parse(text) {
            Some(q) if !digits => self.search_address(community_id, q, limit.clamp(1, 1000)).await,
            _ => Ok(Vec::new()),
        }
    }

    async fn search_address(&self, community_id: i64, q: AddressQuery, limit: i64) -> Result<Vec<SearchHit>> {
        // Only the parts the query names become conditions, so that each join can use its unique index.
        let mut sql = String::from(
            "SELECT h.id AS household_id, h.building_id, NULL AS resident_id, \
               (SELECT r.name FROM residents r WHERE r.household_id = h.id AND r.relation = 'head' ORDER BY r.id LIMIT 1) AS name, \
               h.address \
             FROM compounds c JOIN buildings b ON b.compound_id = c.id JOIN units u ON u.building_id = b.id \
               JOIN households h ON h.unit_id = u.id \
             WHERE c.community_id = $1",
        );
        let mut params = vec![Param::Int(community_id)];
        if let Some(road) = &q.road {
            // Not `LIKE`: its plan would be made anew for every road; a community has few compounds to compare.
            params.push(Param::Text(road.clone()));
            sql.push_str(&format!(" AND substr(c.name, 1, length(${0})) = ${0}", params.len()));
        }
        for (column, value) in [("c.number", q.compound), ("b.number", q.building), ("u.number", q.unit)] {
            if let Some(v) = value {
                params.push(Param::Int(i64::from(v)));
                sql.push_str(&format!(" AND {column} = ${}", params.len()));
            }
        }
        if let Some(room) = q.room {
            params.push(Param::Text(room));
            sql.push_str(&format!(" AND h.room = ${}", params.len()));
        }
        sql.push_str(&format!(" ORDER BY c.number, b.number, u.number, LENGTH(h.room), h.room LIMIT {limit}"));
        self.hits(&sql, &params).await
    }

    /// Runs a search statement. The limit is written into the statement: SQLite re-plans a statement whose
    /// `LIMIT` is a parameter each time it is bound.
    async fn hits(&self, sql: &str, params: &[Param]) -> Result<Vec<SearchHit>> {
        Ok(with_db!(self, read, pool, _pg => {
            let mut query = sqlx::query_as::<_, SearchHit>(sqlx::AssertSqlSafe(sql.to_string()));
            for p in params {
                query = match p {
                    Param::Int(v) => query.bind(*v),
                    Param::Text(t) => query.bind(t.clone()),
                };
            }
            query.fetch_all(pool).await?
        }))
    }

    /// The community's tag set.
    pub async fn tags(&self, community_id: i64) -> Result<Vec<TagInfo>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, TagInfo>(
            "SELECT id, code, name_zh, name_en FROM tags WHERE community_id = $1 ORDER BY id",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?))
    }

    /// Adds a tag to the community's set.
    pub async fn create_tag(
        &self,
        community_id: i64,
        code: &str,
        name_zh: &str,
        name_en: &str,
        change: Change,
    ) -> Result<TagInfo> {
        let tag = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tags (community_id, code, name_zh, name_en) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(community_id)
            .bind(code)
            .bind(name_zh)
            .bind(name_en)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| on_unique(e, "a tag with this code or name exists"))?;
            let tag = TagInfo { id, code: code.into(), name_zh: name_zh.into(), name_en: name_en.into() };
            let change = Change { entity_id: id.to_string(), after: serde_json::to_value(&tag).unwrap_or_default(), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            tag
        });
        Ok(tag)
    }

    /// The community's origin communities.
    pub async fn origins(&self, community_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT id, name FROM origin_communities WHERE community_id = $1 ORDER BY id",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?))
    }

    /// Resolves origin and tag names of a draft to ids, reporting unknown ones.
    pub(crate) fn resolve_names(
        draft: &ResidentDraft,
        origins: &[(i64, String)],
        tags: &[TagInfo],
    ) -> Result<(Option<i64>, Vec<i64>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let origin = match &draft.origin {
            None => None,
            Some(name) => match origins.iter().find(|(_, n)| n == name || n.trim_end_matches("社区") == name) {
                Some((id, _)) => Some(*id),
                None => {
                    let known: Vec<&str> = origins.iter().map(|(_, n)| n.as_str()).collect();
                    errors
                        .push(FieldError::new("origin", format!("未知的来源社区「{name}」,应为:{}", known.join("、"))));
                    None
                }
            },
        };
        let mut tag_ids = Vec::new();
        for t in &draft.tags {
            match tags.iter().find(|x| &x.code == t || &x.name_zh == t || x.name_en.eq_ignore_ascii_case(t)) {
                Some(x) if !tag_ids.contains(&x.id) => tag_ids.push(x.id),
                Some(_) => {}
                None => errors.push(FieldError::new("tags", format!("未知标签「{t}」/ unknown tag"))),
            }
        }
        if errors.is_empty() { Ok((origin, tag_ids)) } else { Err(errors) }
    }

    /// Changes a resident if nobody else changed it since `version`.
    pub async fn update_resident(
        &self,
        id: i64,
        version: i64,
        draft: &ResidentDraft,
        change: Change,
        today: NaiveDate,
    ) -> Result<ResidentView> {
        let before = self.resident(id, today).await?;
        let origins = self.origins(before.community_id).await?;
        let tags = self.tags(before.community_id).await?;
        let (origin_id, tag_ids) = Self::resolve_names(draft, &origins, &tags).map_err(StoreError::Invalid)?;
        let id_card = draft
            .id_card
            .as_ref()
            .map(|n| (self.cipher().encrypt(n.as_str()), self.cipher().blind_index(n.as_str()), n.masked()));
        let at = change.at;
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if let Some((_, index, _)) = &id_card {
                refuse_taken_id_card!(tx, index, Some(id), before.community_id);
            }
            let updated = sqlx::query(
                "UPDATE residents SET name = $1, gender = $2, birth_date = $3, \
                   id_card_enc = COALESCE($4, id_card_enc), id_card_index = COALESCE($5, id_card_index), \
                   id_card_masked = COALESCE($6, id_card_masked), phone = $7, phone_tail = $8, origin_id = $9, \
                   move_in_date = $10, relation = $11, wedding_date = $12, version = version + 1, updated_at = $13 \
                 WHERE id = $14 AND version = $15",
            )
            .bind(&draft.name)
            .bind(draft.gender.code())
            .bind(draft.birth_date)
            .bind(id_card.as_ref().map(|c| c.0.clone()))
            .bind(id_card.as_ref().map(|c| c.1.clone()))
            .bind(id_card.as_ref().map(|c| c.2.clone()))
            .bind(draft.phone.as_ref().map(|p| p.as_str().to_string()))
            .bind(draft.phone.as_ref().map(|p| p.tail().to_string()))
            .bind(origin_id)
            .bind(draft.move_in_date)
            .bind(draft.relation.code())
            .bind(draft.wedding_date)
            .bind(at)
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(id_card_raced)?;
            if updated.rows_affected() == 0 {
                return Err(StoreError::Conflict("记录已被他人修改,请刷新后重试 / someone else changed this record; reload and retry".into()));
            }
            sqlx::query("DELETE FROM resident_tags WHERE resident_id = $1").bind(id).execute(&mut *tx).await?;
            for t in &tag_ids {
                sqlx::query("INSERT INTO resident_tags (resident_id, tag_id) VALUES ($1, $2)").bind(id).bind(*t).execute(&mut *tx).await?;
            }
            let change = Change {
                entity: "resident".into(),
                entity_id: id.to_string(),
                community_id: Some(before.community_id),
                before: audit_view(&before),
                after: draft_json(draft),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.resident(id, today).await
    }

    /// Adds a resident to a household.
    pub async fn create_resident(
        &self,
        household_id: i64,
        draft: &ResidentDraft,
        change: Change,
        today: NaiveDate,
    ) -> Result<ResidentView> {
        let household = self.household(household_id, today).await?;
        let origins = self.origins(household.community_id).await?;
        let tags = self.tags(household.community_id).await?;
        let (origin_id, tag_ids) = Self::resolve_names(draft, &origins, &tags).map_err(StoreError::Invalid)?;
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id = insert_resident!(tx, self, household.community_id, household_id, draft, origin_id, change.at);
            for t in &tag_ids {
                sqlx::query("INSERT INTO resident_tags (resident_id, tag_id) VALUES ($1, $2)").bind(id).bind(*t).execute(&mut *tx).await?;
            }
            let change = Change {
                entity: "resident".into(),
                entity_id: id.to_string(),
                community_id: Some(household.community_id),
                before: serde_json::Value::Null,
                after: draft_json(draft),
                ..change
            };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.resident(id, today).await
    }

    /// The registry's figures for a community on `today`.
    pub async fn registry_summary(&self, community_id: i64, today: NaiveDate) -> Result<RegistrySummary> {
        let (compounds, buildings, households, residents): (i64, i64, i64, i64) = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM compounds WHERE community_id = $1), \
                    (SELECT COUNT(*) FROM buildings WHERE community_id = $1), \
                    (SELECT COUNT(*) FROM households WHERE community_id = $1), \
                    (SELECT COUNT(*) FROM residents WHERE community_id = $1)",
        )
        .bind(community_id)
        .fetch_one(pool)
        .await?);
        let residents_by_origin: Vec<(String, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT o.name, (SELECT COUNT(*) FROM residents r WHERE r.origin_id = o.id) \
             FROM origin_communities o WHERE o.community_id = $1 ORDER BY o.id",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?);
        let mut residents_by_tag: Vec<(String, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT t.code, (SELECT COUNT(*) FROM resident_tags rt WHERE rt.tag_id = t.id) \
             FROM tags t WHERE t.community_id = $1 ORDER BY t.id",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?);
        let years_ago =
            |n: i32| today.with_year(today.year() - n).unwrap_or(today - chrono::Duration::days(365 * n as i64));
        let (e60, e80, school, golden): (i64, i64, i64, i64) = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN birth_date <= $2 THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN birth_date <= $3 THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN birth_date > $4 AND birth_date <= $5 THEN 1 ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN wedding_date <= $6 THEN 1 ELSE 0 END), 0) \
             FROM residents WHERE community_id = $1",
        )
        .bind(community_id)
        .bind(years_ago(60))
        .bind(years_ago(80))
        .bind(years_ago(16))
        .bind(years_ago(6))
        .bind(years_ago(50))
        .fetch_one(pool)
        .await?);
        residents_by_tag.extend([
            ("elderly_60".to_string(), e60),
            ("elderly_80".to_string(), e80),
            ("school_age".to_string(), school),
            ("golden_wedding".to_string(), golden),
        ]);
        Ok(RegistrySummary {
            community_id,
            compounds,
            buildings,
            households,
            residents,
            residents_by_origin,
            residents_by_tag,
        })
    }

    /// Every resident of a community for export, optionally only some buildings, in address order.
    pub async fn export_records(
        &self,
        community_id: i64,
        buildings: Option<&[i64]>,
        today: NaiveDate,
    ) -> Result<Vec<ExportRecord>> {
        #[derive(sqlx::FromRow)]
        struct Place {
            id: i64,
            compound: String,
            building: i64,
            unit: i64,
            room: String,
            id_card_enc: Option<String>,
        }
        let sql = format!(
            "{RESIDENT_SELECT} WHERE r.community_id = $1 ORDER BY h.building_id, h.unit_id, LENGTH(h.room), h.room, r.id"
        );
        let rows = with_db!(self, read, pool, _pg => sqlx::query_as::<_, ResidentRow>(sqlx::AssertSqlSafe(sql))
            .bind(community_id)
            .fetch_all(pool)
            .await?);
        let rows: Vec<ResidentRow> =
            rows.into_iter().filter(|r| buildings.is_none_or(|b| b.contains(&r.building_id))).collect();
        let places: Vec<Place> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Place>(
            "SELECT r.id, c.name AS compound, b.number AS building, u.number AS unit, h.room, r.id_card_enc \
             FROM residents r JOIN households h ON h.id = r.household_id JOIN units u ON u.id = h.unit_id \
               JOIN buildings b ON b.id = h.building_id JOIN compounds c ON c.id = b.compound_id \
             WHERE r.community_id = $1",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?);
        let mut places: HashMap<i64, Place> = places.into_iter().map(|p| (p.id, p)).collect();
        let views = self.resident_views(rows, today).await?;
        views
            .into_iter()
            .map(|v| {
                let p = places.remove(&v.id).ok_or(StoreError::NotFound)?;
                let id_card = p.id_card_enc.map(|s| self.cipher().decrypt(&s).ok_or(StoreError::Crypto)).transpose()?;
                Ok(ExportRecord {
                    compound: p.compound,
                    building: p.building,
                    building_id: v.building_id,
                    unit: p.unit,
                    room: p.room,
                    resident: v,
                    id_card,
                })
            })
            .collect()
    }
}

/// The audit form of a resident: personal numbers only masked.
pub(crate) fn audit_view(v: &ResidentView) -> serde_json::Value {
    serde_json::json!({
        "name": v.name, "gender": v.gender, "birth_date": v.birth_date, "id_card": v.id_card_masked,
        "phone": v.phone.as_deref().and_then(|p| PhoneNumber::parse(p).ok()).map(|p| p.masked()),
        "origin": v.origin, "move_in_date": v.move_in_date, "relation": v.relation, "wedding_date": v.wedding_date,
        "tags": v.tags, "household_id": v.household_id,
    })
}

/// The audit form of a draft, masked like [`audit_view`].
pub(crate) fn draft_json(d: &ResidentDraft) -> serde_json::Value {
    serde_json::json!({
        "name": d.name, "gender": d.gender.code(), "birth_date": d.birth_date,
        "id_card": d.id_card.as_ref().map(|n| n.masked()), "phone": d.phone.as_ref().map(|p| p.masked()),
        "origin": d.origin, "move_in_date": d.move_in_date, "relation": d.relation.code(),
        "wedding_date": d.wedding_date, "tags": d.tags,
    })
}

/// A bind value of a search statement, in the order of its numbered placeholders.
enum Param {
    Int(i64),
    Text(String),
}
