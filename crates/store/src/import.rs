//! Importing residents and households from a checked file: all rows or none, and idempotent.

use crate::audit::append_event;
use crate::registry::{draft_json, insert_resident};
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use wujia_core::registry::{ResidentDraft, format_address};
use wujia_core::transfer::{ImportRow, RowError, column_title};

/// What an import did, or would do on a dry run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    /// Households created.
    pub households_created: usize,
    /// Residents created.
    pub residents_created: usize,
    /// Residents whose record changed.
    pub residents_updated: usize,
    /// Rows that matched a resident exactly.
    pub unchanged: usize,
    /// True when nothing was written.
    pub dry_run: bool,
}

#[derive(sqlx::FromRow, Clone)]
struct Existing {
    id: i64,
    household_id: i64,
    id_card_index: Option<String>,
    name: String,
    gender: String,
    birth_date: NaiveDate,
    phone: Option<String>,
    origin_id: Option<i64>,
    move_in_date: Option<NaiveDate>,
    relation: String,
    wedding_date: Option<NaiveDate>,
}

enum Target {
    Household(i64),
    /// A household the import creates: (unit id, room).
    New(i64, String),
}

enum Plan {
    Create,
    Update(Existing),
    Unchanged,
}

struct Step<'a> {
    row: &'a ImportRow,
    target: Target,
    building_id: i64,
    address: String,
    origin_id: Option<i64>,
    tag_ids: Vec<i64>,
    plan: Plan,
}

impl Store {
    /// Imports checked rows into a community. Every row is resolved against the registry first; if any
    /// row has an error (here, or among `file_errors` found while reading the file), all errors are
    /// returned in row order and nothing is written. `progress(done, total)` is called while writing.
    pub async fn import_residents(
        &self,
        community_id: i64,
        rows: &[ImportRow],
        file_errors: Vec<RowError>,
        dry_run: bool,
        change: Change,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<ImportReport> {
        let compounds: Vec<(i64, String)> = with_db!(self, read, pool, _pg => sqlx::query_as("SELECT id, name FROM compounds WHERE community_id = $1").bind(community_id).fetch_all(pool).await?);
        let buildings: Vec<(i64, i64, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as("SELECT id, compound_id, number FROM buildings WHERE community_id = $1").bind(community_id).fetch_all(pool).await?);
        let units: Vec<(i64, i64, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT u.id, u.building_id, u.number FROM units u JOIN buildings b ON b.id = u.building_id WHERE b.community_id = $1",
        ).bind(community_id).fetch_all(pool).await?);
        let households: Vec<(i64, i64, String, String)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT id, unit_id, room, address FROM households WHERE community_id = $1",
        ).bind(community_id).fetch_all(pool).await?);
        let existing: Vec<Existing> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Existing>(
            "SELECT id, household_id, id_card_index, name, gender, birth_date, phone, origin_id, move_in_date, relation, wedding_date \
             FROM residents WHERE community_id = $1",
        ).bind(community_id).fetch_all(pool).await?);
        // ID numbers are unique across the deployment, so look them up everywhere.
        let elsewhere: Vec<(String, String)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT r.id_card_index, h.address FROM residents r JOIN households h ON h.id = r.household_id \
             WHERE r.community_id <> $1 AND r.id_card_index IS NOT NULL",
        ).bind(community_id).fetch_all(pool).await?);
        let tag_rows: Vec<(i64, i64)> = with_db!(self, read, pool, _pg => sqlx::query_as(
            "SELECT rt.resident_id, rt.tag_id FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id WHERE r.community_id = $1",
        ).bind(community_id).fetch_all(pool).await?);
        let origins = self.origins(community_id).await?;
        let tags = self.tags(community_id).await?;

        let compound_by_name: HashMap<&str, i64> = compounds.iter().map(|(id, n)| (n.as_str(), *id)).collect();
        let building_by_key: HashMap<(i64, i64), i64> = buildings.iter().map(|(id, c, n)| ((*c, *n), *id)).collect();
        let unit_by_key: HashMap<(i64, i64), i64> = units.iter().map(|(id, b, n)| ((*b, *n), *id)).collect();
        let household_by_key: HashMap<(i64, &str), i64> =
            households.iter().map(|(id, u, r, _)| ((*u, r.as_str()), *id)).collect();
        let address_of: HashMap<i64, &str> = households.iter().map(|(id, _, _, a)| (*id, a.as_str())).collect();
        let by_index: HashMap<&str, &Existing> =
            existing.iter().filter_map(|e| e.id_card_index.as_deref().map(|i| (i, e))).collect();
        let by_name: HashMap<(i64, &str), &Existing> =
            existing.iter().map(|e| ((e.household_id, e.name.as_str()), e)).collect();
        let elsewhere: HashMap<&str, &str> = elsewhere.iter().map(|(i, a)| (i.as_str(), a.as_str())).collect();
        let mut tags_of: HashMap<i64, BTreeSet<i64>> = HashMap::new();
        for (r, t) in tag_rows {
            tags_of.entry(r).or_default().insert(t);
        }

        let mut errors = Vec::new();
        let mut steps = Vec::with_capacity(rows.len());
        let err = |row: usize, field: &str, message: String| RowError { row, column: column_title(field), message };
        for row in rows {
            let k = &row.household;
            let Some(&compound) = compound_by_name.get(k.compound.as_str()) else {
                let known: Vec<&str> = compounds.iter().map(|(_, n)| n.as_str()).collect();
                errors.push(err(
                    row.row,
                    "compound",
                    format!("未知的小区「{}」,应为:{}", k.compound, known.join("、")),
                ));
                continue;
            };
            let Some(&building) = building_by_key.get(&(compound, i64::from(k.building))) else {
                errors.push(err(
                    row.row,
                    "building",
                    format!("{}没有{}号楼 / unknown building", k.compound, k.building),
                ));
                continue;
            };
            let Some(&unit) = unit_by_key.get(&(building, i64::from(k.unit))) else {
                errors.push(err(
                    row.row,
                    "unit",
                    format!("{}{}号楼没有{}单元 / unknown unit", k.compound, k.building, k.unit),
                ));
                continue;
            };
            let (origin_id, tag_ids) = match Self::resolve_names(&row.resident, &origins, &tags) {
                Ok(v) => v,
                Err(fe) => {
                    errors.extend(fe.into_iter().map(|e| err(row.row, &e.field, e.message)));
                    continue;
                }
            };
            let target = match household_by_key.get(&(unit, k.room.as_str())) {
                Some(&h) => Target::Household(h),
                None => Target::New(unit, k.room.clone()),
            };
            let index = row.resident.id_card.as_ref().map(|n| self.cipher().blind_index(n.as_str()));
            let matched = match (&index, &target) {
                (Some(i), _) => {
                    if let Some(addr) = elsewhere.get(i.as_str()) {
                        errors.push(err(
                            row.row,
                            "id_card",
                            format!("该身份证号已登记在其他社区({addr})/ registered in another community"),
                        ));
                        continue;
                    }
                    by_index.get(i.as_str()).copied()
                }
                (None, Target::Household(h)) => by_name.get(&(*h, row.resident.name.as_str())).copied(),
                (None, Target::New(..)) => None,
            };
            let plan = match matched {
                None => Plan::Create,
                Some(e) => {
                    if let Target::Household(h) = target
                        && h != e.household_id
                    {
                        let at = address_of.get(&e.household_id).copied().unwrap_or("?");
                        errors.push(err(
                            row.row,
                            "id_card",
                            format!("该身份证号已登记在 {at} / already registered at another address"),
                        ));
                        continue;
                    }
                    if matches!(target, Target::New(..)) {
                        let at = address_of.get(&e.household_id).copied().unwrap_or("?");
                        errors.push(err(
                            row.row,
                            "id_card",
                            format!("该身份证号已登记在 {at} / already registered at another address"),
                        ));
                        continue;
                    }
                    let new_tags: BTreeSet<i64> = tag_ids.iter().copied().collect();
                    let old_tags = tags_of.get(&e.id).cloned().unwrap_or_default();
                    if same(e, &row.resident, origin_id) && new_tags == old_tags {
                        Plan::Unchanged
                    } else {
                        Plan::Update(e.clone())
                    }
                }
            };
            let address = format_address(&k.compound, k.building, k.unit, &k.room);
            steps.push(Step { row, target, building_id: building, address, origin_id, tag_ids, plan });
        }
        errors.extend(file_errors);
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(StoreError::Rows(errors));
        }
        let mut report = ImportReport { rows: rows.len(), dry_run, ..Default::default() };
        let mut new_households: HashMap<(i64, String), i64> = HashMap::new();
        for s in &steps {
            if let Target::New(u, r) = &s.target
                && new_households.insert((*u, r.clone()), 0).is_none()
            {
                report.households_created += 1;
            }
            match s.plan {
                Plan::Create => report.residents_created += 1,
                Plan::Update(_) => report.residents_updated += 1,
                Plan::Unchanged => report.unchanged += 1,
            }
        }
        if dry_run || (report.residents_created == 0 && report.residents_updated == 0) {
            return Ok(report);
        }
        let total = steps.len();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin().await?;
            for (done, s) in steps.iter().enumerate() {
                if done % 1000 == 0 {
                    progress(done, total);
                }
                let household = match &s.target {
                    Target::Household(h) => *h,
                    Target::New(u, r) => {
                        let slot = new_households.get_mut(&(*u, r.clone())).expect("planned");
                        if *slot == 0 {
                            *slot = sqlx::query_scalar(
                                "INSERT INTO households (community_id, building_id, unit_id, room, address, origin_id, move_in_date, created_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                            )
                            .bind(community_id).bind(s.building_id).bind(*u).bind(r).bind(&s.address)
                            .bind(s.origin_id).bind(s.row.resident.move_in_date).bind(change.at)
                            .fetch_one(&mut *tx).await
                            .map_err(|e| crate::on_unique(e, "household exists"))?;
                            let c = Change { community_id: Some(community_id), action: "household.import".into(), entity: "household".into(),
                                entity_id: slot.to_string(), before: serde_json::Value::Null, after: serde_json::json!({"address": s.address}), ..change.clone() };
                            append_event!(tx, pg, &c);
                        }
                        *slot
                    }
                };
                let draft: &ResidentDraft = &s.row.resident;
                let (id, before) = match &s.plan {
                    Plan::Unchanged => continue,
                    Plan::Create => (insert_resident!(tx, self, community_id, household, draft, s.origin_id, change.at), serde_json::Value::Null),
                    Plan::Update(e) => {
                        let cipher = self.cipher();
                        sqlx::query(
                            "UPDATE residents SET name = $1, gender = $2, birth_date = $3, \
                               id_card_enc = COALESCE($4, id_card_enc), id_card_index = COALESCE($5, id_card_index), id_card_masked = COALESCE($6, id_card_masked), \
                               phone = $7, phone_tail = $8, origin_id = $9, move_in_date = $10, relation = $11, wedding_date = $12, \
                               version = version + 1, updated_at = $13 WHERE id = $14",
                        )
                        .bind(&draft.name).bind(draft.gender.code()).bind(draft.birth_date)
                        .bind(draft.id_card.as_ref().map(|n| cipher.encrypt(n.as_str())))
                        .bind(draft.id_card.as_ref().map(|n| cipher.blind_index(n.as_str())))
                        .bind(draft.id_card.as_ref().map(|n| n.masked()))
                        .bind(draft.phone.as_ref().map(|p| p.as_str().to_string()))
                        .bind(draft.phone.as_ref().map(|p| p.tail().to_string()))
                        .bind(s.origin_id).bind(draft.move_in_date).bind(draft.relation.code()).bind(draft.wedding_date)
                        .bind(change.at).bind(e.id)
                        .execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM resident_tags WHERE resident_id = $1").bind(e.id).execute(&mut *tx).await?;
                        (e.id, serde_json::json!({"name": e.name, "household_id": e.household_id}))
                    }
                };
                for t in &s.tag_ids {
                    sqlx::query("INSERT INTO resident_tags (resident_id, tag_id) VALUES ($1, $2)").bind(id).bind(*t).execute(&mut *tx).await?;
                }
                let c = Change { community_id: Some(community_id), entity: "resident".into(), entity_id: id.to_string(), before, after: draft_json(draft), ..change.clone() };
                append_event!(tx, pg, &c);
            }
            tx.commit().await?;
        });
        progress(total, total);
        Ok(report)
    }
}

fn same(e: &Existing, d: &ResidentDraft, origin_id: Option<i64>) -> bool {
    e.name == d.name
        && e.gender == d.gender.code()
        && e.birth_date == d.birth_date
        && e.phone.as_deref() == d.phone.as_ref().map(|p| p.as_str())
        && e.origin_id == origin_id
        && e.move_in_date == d.move_in_date
        && e.relation == d.relation.code()
        && e.wedding_date == d.wedding_date
}
