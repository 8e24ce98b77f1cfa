//! Importing residents and households from a checked file: all rows or none, and idempotent.

use crate::audit::{open_chain, write_events};
use crate::registry::draft_json;
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
        // ID numbers are unique across the deployment, so look them up everywhere (only whether, never where).
        let elsewhere: Vec<String> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT id_card_index FROM residents WHERE community_id <> $1 AND id_card_index IS NOT NULL",
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
        let elsewhere: BTreeSet<&str> = elsewhere.iter().map(String::as_str).collect();
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
                    // Held in another community: the same answer as a single entry gets, without its place.
                    if elsewhere.contains(i.as_str()) {
                        errors.push(err(row.row, "id_card", crate::ID_CARD_NOT_REGISTRABLE.to_string()));
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
        let cipher = self.cipher();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let mut events = open_chain!(tx, pg);
            let event = |entity: &str, id: i64, before: serde_json::Value, after: serde_json::Value| Change {
                community_id: Some(community_id),
                entity: entity.into(),
                entity_id: id.to_string(),
                before,
                after,
                ..change.clone()
            };
            // New households first, ids allocated up front so that many rows go in one statement.
            let mut fresh: Vec<(&Step, i64)> = Vec::new();
            let mut household_of: HashMap<(i64, &str), i64> = HashMap::new();
            let new_steps: Vec<&Step> = steps
                .iter()
                .filter(|s| matches!(&s.target, Target::New(u, r) if household_of.insert((*u, r.as_str()), 0).is_none()))
                .collect();
            let ids = allocate_ids!(tx, pg, "households", new_steps.len());
            for (s, id) in new_steps.into_iter().zip(ids) {
                if let Target::New(u, r) = &s.target {
                    household_of.insert((*u, r.as_str()), id);
                }
                fresh.push((s, id));
            }
            for chunk in fresh.chunks(400) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO households (id, community_id, building_id, unit_id, room, address, origin_id, move_in_date, created_at) ",
                );
                qb.push_values(chunk, |mut b, (s, id)| {
                    let (unit, room) = match &s.target {
                        Target::New(u, r) => (*u, r.clone()),
                        Target::Household(_) => unreachable!("only new households are listed"),
                    };
                    b.push_bind(*id).push_bind(community_id).push_bind(s.building_id).push_bind(unit).push_bind(room)
                        .push_bind(s.address.clone()).push_bind(s.origin_id).push_bind(s.row.resident.move_in_date).push_bind(change.at);
                });
                qb.build().execute(&mut *tx).await.map_err(|e| crate::on_unique(e, "household exists"))?;
            }
            for (s, id) in &fresh {
                events.push(&Change { action: "household.import".into(), ..event("household", *id, serde_json::Value::Null, serde_json::json!({"address": s.address})) });
            }
            let household_id = |s: &Step| match &s.target {
                Target::Household(h) => *h,
                Target::New(u, r) => household_of[&(*u, r.as_str())],
            };
            // Residents to create, many per statement.
            let creates: Vec<&Step> = steps.iter().filter(|s| matches!(s.plan, Plan::Create)).collect();
            let ids = allocate_ids!(tx, pg, "residents", creates.len());
            let creates: Vec<(&Step, i64)> = creates.into_iter().zip(ids).collect();
            let mut done = 0;
            for chunk in creates.chunks(200) {
                progress(done, total);
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO residents (id, community_id, household_id, name, gender, birth_date, id_card_enc, id_card_index, \
                     id_card_masked, phone, phone_tail, origin_id, move_in_date, relation, wedding_date, created_at, updated_at) ",
                );
                qb.push_values(chunk, |mut b, (s, id)| {
                    let d = &s.row.resident;
                    b.push_bind(*id).push_bind(community_id).push_bind(household_id(s)).push_bind(d.name.clone())
                        .push_bind(d.gender.code()).push_bind(d.birth_date)
                        .push_bind(d.id_card.as_ref().map(|n| cipher.encrypt(n.as_str())))
                        .push_bind(d.id_card.as_ref().map(|n| cipher.blind_index(n.as_str())))
                        .push_bind(d.id_card.as_ref().map(|n| n.masked()))
                        .push_bind(d.phone.as_ref().map(|p| p.as_str().to_string()))
                        .push_bind(d.phone.as_ref().map(|p| p.tail().to_string()))
                        .push_bind(s.origin_id).push_bind(d.move_in_date).push_bind(d.relation.code()).push_bind(d.wedding_date)
                        .push_bind(change.at).push_bind(change.at);
                });
                qb.build().execute(&mut *tx).await.map_err(crate::registry::id_card_raced)?;
                let tags: Vec<(i64, i64)> = chunk.iter().flat_map(|(s, id)| s.tag_ids.iter().map(move |t| (*id, *t))).collect();
                if !tags.is_empty() {
                    let mut qb = sqlx::QueryBuilder::new("INSERT INTO resident_tags (resident_id, tag_id) ");
                    qb.push_values(&tags, |mut b, (r, t)| {
                        b.push_bind(*r).push_bind(*t);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for (s, id) in chunk {
                    events.push(&event("resident", *id, serde_json::Value::Null, draft_json(&s.row.resident)));
                }
                done += chunk.len();
            }
            // Changed residents, one by one: there are few.
            for s in &steps {
                let Plan::Update(e) = &s.plan else { continue };
                let draft: &ResidentDraft = &s.row.resident;
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
                for t in &s.tag_ids {
                    sqlx::query("INSERT INTO resident_tags (resident_id, tag_id) VALUES ($1, $2)").bind(e.id).bind(*t).execute(&mut *tx).await?;
                }
                let before = serde_json::json!({"name": e.name, "household_id": e.household_id});
                events.push(&event("resident", e.id, before, draft_json(draft)));
            }
            write_events!(tx, events);
            tx.commit().await?;
        });
        if report.residents_created > 1000 {
            self.analyze().await?;
        }
        progress(total, total);
        Ok(report)
    }
}

/// Ids for `$n` new rows of `$table`, taken inside transaction `$tx` so that rows can be inserted in batches:
/// from the identity sequence on PostgreSQL, after the largest id on SQLite (whose single writer holds the lock).
macro_rules! allocate_ids {
    ($tx:expr, $pg:expr, $table:literal, $n:expr) => {{
        let n = $n as i64;
        if n == 0 {
            Vec::<i64>::new()
        } else if $pg {
            sqlx::query_scalar::<_, i64>(concat!(
                "SELECT nextval(pg_get_serial_sequence('",
                $table,
                "', 'id')) FROM generate_series(1, $1)"
            ))
            .bind(n)
            .fetch_all(&mut *$tx)
            .await?
        } else {
            let max: i64 =
                sqlx::query_scalar(concat!("SELECT COALESCE(MAX(id), 0) FROM ", $table)).fetch_one(&mut *$tx).await?;
            (max + 1..=max + n).collect()
        }
    }};
}
use allocate_ids;

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
