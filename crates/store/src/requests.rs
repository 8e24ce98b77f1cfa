//! Resident requests: the catalogue, the working calendar, numbering, and the requests with their workflow.

use crate::audit::append_event;
use crate::notifications::write_notices;
use crate::{Change, Result, Store, StoreError, with_db};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use wujia_core::requests::{
    CalendarEntry, DayKind, Limit, Sla, Urgency, WorkCalendar, default_catalogue, shipped_arrangements,
};

/// A category of the catalogue.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Parent category.
    pub parent_id: Option<i64>,
    /// Stable code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Default handler kind.
    pub handler: String,
    /// Urgency code.
    pub urgency: String,
    /// `minutes` or `working_days`.
    pub respond_unit: String,
    /// Response limit.
    pub respond_value: i64,
    /// `minutes` or `working_days`.
    pub resolve_unit: String,
    /// Resolution limit.
    pub resolve_value: i64,
    /// JSON array of questions.
    pub questions: String,
    /// Offered on forms.
    pub active: bool,
}

fn limit(unit: &str, value: i64) -> Limit {
    let v = value.clamp(0, i64::from(u32::MAX)) as u32;
    if unit == "working_days" { Limit::WorkingDays(v) } else { Limit::Minutes(v) }
}

fn unit_value(l: Limit) -> (&'static str, i64) {
    match l {
        Limit::Minutes(m) => ("minutes", i64::from(m)),
        Limit::WorkingDays(d) => ("working_days", i64::from(d)),
    }
}

impl Category {
    /// The category's time limits.
    pub fn sla(&self) -> Sla {
        Sla {
            respond: limit(&self.respond_unit, self.respond_value),
            resolve: limit(&self.resolve_unit, self.resolve_value),
        }
    }

    /// True for a leaf (a category a request can be filed under).
    pub fn is_leaf(&self) -> bool {
        self.code.split('.').count() == 3
    }
}

/// A request as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RequestRow {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Readable number, e.g. `WT-2024-000123`.
    pub number: String,
    /// Category.
    pub category_id: i64,
    /// Channel code.
    pub channel: String,
    /// Status code.
    pub status: String,
    /// What the resident asked.
    pub description: String,
    /// The household, when known.
    pub household_id: Option<i64>,
    /// The building, when known.
    pub building_id: Option<i64>,
    /// Where: the household address or a place.
    pub location: String,
    /// Who asked.
    pub contact_name: String,
    /// Their phone.
    pub contact_phone: Option<String>,
    /// Answers to the category's questions (JSON object).
    pub answers: String,
    /// 12345 order number.
    pub external_no: Option<String>,
    /// The account that took it in.
    pub submitted_by: Option<i64>,
    /// Lead handler.
    pub lead_id: Option<i64>,
    /// Co-handlers (JSON array).
    pub co_handlers: String,
    /// Why the clock is paused.
    pub paused_reason: Option<String>,
    /// Since when.
    pub paused_at: Option<DateTime<Utc>>,
    /// Received.
    pub received_at: DateTime<Utc>,
    /// Response deadline.
    pub respond_due: DateTime<Utc>,
    /// Resolution deadline.
    pub resolve_due: DateTime<Utc>,
    /// First contact.
    pub responded_at: Option<DateTime<Utc>>,
    /// Resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// What was done.
    pub resolution: Option<String>,
    /// Follow-up: solved code.
    pub followup_solved: Option<String>,
    /// Follow-up: satisfaction code.
    pub followup_satisfaction: Option<String>,
    /// When followed up.
    pub followed_up_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Times reopened.
    pub reopen_count: i64,
    /// Optimistic-lock version.
    pub version: i64,
    /// The batch it was merged into, if any.
    pub batch_id: Option<i64>,
}

/// A request about to be taken in.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// Community.
    pub community_id: i64,
    /// Category.
    pub category_id: i64,
    /// Channel code.
    pub channel: String,
    /// What the resident asked.
    pub description: String,
    /// Household.
    pub household_id: Option<i64>,
    /// Building.
    pub building_id: Option<i64>,
    /// Where.
    pub location: String,
    /// Who asked.
    pub contact_name: String,
    /// Their phone.
    pub contact_phone: Option<String>,
    /// Answers (JSON object text).
    pub answers: String,
    /// 12345 order number.
    pub external_no: Option<String>,
    /// Taken in by.
    pub submitted_by: Option<i64>,
    /// Received.
    pub received_at: DateTime<Utc>,
}

/// A request ready to be written: what was taken in, its deadlines, what it tells whom, and its change.
#[derive(Debug, Clone)]
pub struct RequestToWrite {
    /// What was taken in.
    pub request: NewRequest,
    /// Response deadline.
    pub respond_due: DateTime<Utc>,
    /// Resolution deadline.
    pub resolve_due: DateTime<Utc>,
    /// Who hears of it; `{number}` and `{id}` are filled in on insert.
    pub notices: crate::Notices,
    /// The audit change (its entity and `after` are filled in on insert).
    pub change: Change,
}

/// Filters for the queue.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Only these statuses.
    pub statuses: Vec<String>,
    /// Only this category (or its descendants, by code prefix).
    pub category_code: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this building.
    pub building_id: Option<i64>,
    /// Only these buildings (a building social worker's own); ignored when empty.
    pub building_ids: Vec<i64>,
    /// Only requests this account leads or co-handles.
    pub handler: Option<i64>,
    /// Only this household's.
    pub household_id: Option<i64>,
    /// Received from.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub to: Option<DateTime<Utc>>,
    /// At most.
    pub limit: i64,
}

/// The values of a queue query's placeholders: `order` lists (placeholder, kind, index) in numbered order, the index
/// pointing into the list of its kind (`t` text, `i` integer, `d` time).
struct Binds<'a> {
    order: &'a [(usize, char, usize)],
    texts: &'a [String],
    ints: &'a [(usize, i64)],
    times: &'a [(usize, DateTime<Utc>)],
}

pub(crate) const REQUEST_COLUMNS: &str = "r.id, r.community_id, r.number, r.category_id, r.channel, r.status, r.description, r.household_id, \
     r.building_id, r.location, r.contact_name, r.contact_phone, r.answers, r.external_no, r.submitted_by, r.lead_id, \
     r.co_handlers, r.paused_reason, r.paused_at, r.received_at, r.respond_due, r.resolve_due, r.responded_at, \
     r.resolved_at, r.resolution, r.followup_solved, r.followup_satisfaction, r.followed_up_at, r.closed_at, \
     r.reopen_count, r.version, r.batch_id";

/// Numbers and inserts `$items` (`&[RequestToWrite]`) inside transaction `$tx`, with their events and notices,
/// in a handful of statements whatever their number; evaluates to their rows in the order of the items.
macro_rules! insert_requests {
    ($tx:expr, $pg:expr, $items:expr) => {{
        let items: &[RequestToWrite] = $items;
        let mut communities: Vec<i64> = items.iter().map(|i| i.request.community_id).collect();
        communities.sort_unstable();
        communities.dedup();
        let mut qb = sqlx::QueryBuilder::new("SELECT id, code FROM communities WHERE id IN (");
        let mut ids = qb.separated(", ");
        for id in &communities {
            ids.push_bind(*id);
        }
        qb.push(")");
        let codes: HashMap<i64, String> = qb.build_query_as::<(i64, String)>().fetch_all(&mut *$tx).await?.into_iter().collect();
        // One step of each counter the batch uses: the numbers stay gap-free and in the order of the items.
        let keys: Vec<(i64, i32)> = items
            .iter()
            .map(|i| (i.request.community_id, i.request.received_at.with_timezone(&chrono_tz_shanghai()).year()))
            .collect();
        let mut counts: BTreeMap<(i64, i32), i64> = BTreeMap::new();
        for key in &keys {
            *counts.entry(*key).or_default() += 1;
        }
        let mut next: HashMap<(i64, i32), i64> = HashMap::new();
        for (&(community, year), &n) in &counts {
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO request_counters (community_id, year, last) VALUES ($1, $2, $3) \
                 ON CONFLICT (community_id, year) DO UPDATE SET last = request_counters.last + $3 RETURNING last",
            )
            .bind(community)
            .bind(i64::from(year))
            .bind(n)
            .fetch_one(&mut *$tx)
            .await?;
            next.insert((community, year), last - n + 1);
        }
        let mut numbers = Vec::with_capacity(items.len());
        for key in &keys {
            let code = codes.get(&key.0).ok_or(StoreError::NotFound)?;
            let seq = next.entry(*key).or_default();
            numbers.push(wujia_core::requests::request_number(code, key.1, *seq));
            *seq += 1;
        }
        let returning = format!(" RETURNING {}", REQUEST_COLUMNS.replace("r.", ""));
        let mut inserted: HashMap<(i64, String), RequestRow> = HashMap::with_capacity(items.len());
        for (chunk, numbers) in items.chunks(INSERT_CHUNK).zip(numbers.chunks(INSERT_CHUNK)) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO service_requests (community_id, number, category_id, channel, status, description, household_id, \
                   building_id, location, contact_name, contact_phone, answers, external_no, submitted_by, received_at, \
                   respond_due, resolve_due, updated_at) ",
            );
            qb.push_values(chunk.iter().zip(numbers), |mut b, (item, number)| {
                let n = &item.request;
                b.push_bind(n.community_id)
                    .push_bind(number.clone())
                    .push_bind(n.category_id)
                    .push_bind(n.channel.clone())
                    .push("'received'")
                    .push_bind(n.description.clone())
                    .push_bind(n.household_id)
                    .push_bind(n.building_id)
                    .push_bind(n.location.clone())
                    .push_bind(n.contact_name.clone())
                    .push_bind(n.contact_phone.clone())
                    .push_bind(n.answers.clone())
                    .push_bind(n.external_no.clone())
                    .push_bind(n.submitted_by)
                    .push_bind(n.received_at)
                    .push_bind(item.respond_due)
                    .push_bind(item.resolve_due)
                    .push_bind(n.received_at);
            });
            qb.push(&returning);
            for row in qb.build_query_as::<RequestRow>().fetch_all(&mut *$tx).await? {
                inserted.insert((row.community_id, row.number.clone()), row);
            }
        }
        // RETURNING promises no order: the rows are matched to the items by their numbers.
        let mut rows = Vec::with_capacity(items.len());
        for (item, number) in items.iter().zip(&numbers) {
            rows.push(inserted.remove(&(item.request.community_id, number.clone())).ok_or(StoreError::NotFound)?);
        }
        let mut chain = $crate::audit::open_chain!($tx, $pg);
        let mut notices = Vec::with_capacity(items.len());
        for (item, row) in items.iter().zip(&rows) {
            let n = &item.request;
            chain.push(&Change {
                community_id: Some(n.community_id),
                entity: "request".into(),
                entity_id: row.id.to_string(),
                after: serde_json::json!({"number": row.number, "category_id": n.category_id, "channel": n.channel,
                    "description": n.description, "location": n.location, "external_no": n.external_no,
                    "respond_due": item.respond_due, "resolve_due": item.resolve_due}),
                ..item.change.clone()
            });
            notices.push((item.notices.for_request(&row.number, row.id), row.id, item.change.at));
        }
        $crate::audit::write_events!($tx, chain);
        $crate::notifications::write_request_notices!($tx, &notices);
        rows
    }};
}

/// Rows per multi-row insert: well within the bound parameters SQLite (32,766) and PostgreSQL (65,535) allow.
const INSERT_CHUNK: usize = 500;

/// Adds a published answer to the knowledge base inside transaction `$tx`, with its event; evaluates to its id.
macro_rules! insert_knowledge_in {
    ($tx:expr, $pg:expr, $community:expr, $category:expr, $title:expr, $answer:expr, $change:expr) => {{
        let (community_id, category_id, title, answer, change): (i64, Option<i64>, &str, &str, Change) =
            ($community, $category, $title, $answer, $change);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO knowledge (community_id, category_id, title, answer, published, created_by, created_at) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $6) RETURNING id",
        )
        .bind(community_id)
        .bind(category_id)
        .bind(title)
        .bind(answer)
        .bind(change.actor_id)
        .bind(change.at)
        .fetch_one(&mut *$tx)
        .await?;
        let change = Change {
            community_id: Some(community_id),
            entity: "knowledge".into(),
            entity_id: id.to_string(),
            after: serde_json::json!({"title": title, "answer": answer, "category_id": category_id}),
            ..change
        };
        append_event!($tx, $pg, &change);
        id
    }};
}

/// One workflow step of a request, decided and ready to write: the row before and after, its event and notices.
#[derive(Debug, Clone)]
pub struct RequestUpdate {
    /// The row as it was read (its version is checked when writing).
    pub before: RequestRow,
    /// The row after the step.
    pub after: RequestRow,
    /// The step's event.
    pub change: Change,
    /// Who hears of it.
    pub notices: crate::Notices,
}

/// Writes one workflow step of a request inside transaction `$tx`: the row if it is still at `before.version`
/// (a conflict otherwise), its event and its notices.
macro_rules! update_request_in {
    ($tx:expr, $pg:expr, $before:expr, $after:expr, $change:expr, $notices:expr) => {{
        let (before, after, change): (&RequestRow, &RequestRow, Change) = ($before, $after, $change);
        let notices: &crate::Notices = $notices;
        let n = sqlx::query(
            "UPDATE service_requests SET status = $1, lead_id = $2, co_handlers = $3, paused_reason = $4, paused_at = $5, \
               respond_due = $6, resolve_due = $7, responded_at = $8, resolved_at = $9, resolution = $10, followup_solved = $11, \
               followup_satisfaction = $12, followed_up_at = $13, closed_at = $14, reopen_count = $15, building_id = $16, \
               version = version + 1, updated_at = $17 WHERE id = $18 AND version = $19",
        )
        .bind(&after.status)
        .bind(after.lead_id)
        .bind(&after.co_handlers)
        .bind(&after.paused_reason)
        .bind(after.paused_at)
        .bind(after.respond_due)
        .bind(after.resolve_due)
        .bind(after.responded_at)
        .bind(after.resolved_at)
        .bind(&after.resolution)
        .bind(&after.followup_solved)
        .bind(&after.followup_satisfaction)
        .bind(after.followed_up_at)
        .bind(after.closed_at)
        .bind(after.reopen_count)
        .bind(after.building_id)
        .bind(change.at)
        .bind(before.id)
        .bind(before.version)
        .execute(&mut *$tx)
        .await?;
        if n.rows_affected() == 0 {
            return Err(StoreError::Conflict("诉求已被他人处理,请刷新后重试 / someone else acted on this request first; reload".into()));
        }
        let at = change.at;
        let change = Change { community_id: Some(before.community_id), entity: "request".into(), entity_id: before.id.to_string(), ..change };
        append_event!($tx, $pg, &change);
        write_notices!($tx, notices, Some(before.id), at);
    }};
}

/// A stored day kind; an unknown code is a fault, never a guess.
fn day_kind(code: &str) -> Result<DayKind> {
    DayKind::from_code(code)
        .filter(|k| k.code() == code)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown calendar day kind {code:?}").into()).into())
}

/// The first day of `year` and of the year after.
fn year_bounds(year: i32) -> (NaiveDate, NaiveDate) {
    let first = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(NaiveDate::MAX);
    (first(year), first(year + 1))
}

impl Store {
    /// Seeds the default catalogue on a fresh database, and the shipped holiday arrangement of every year the
    /// database has not recorded. Idempotent; nodes starting together on PostgreSQL seed once.
    pub(crate) async fn ensure_request_defaults(&self) -> Result<()> {
        let mut seeded = Vec::new();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            if pg {
                // Nodes starting together seed once: the second waits here and then finds the rows.
                sqlx::query("SELECT pg_advisory_xact_lock(20230421)").execute(&mut *tx).await?;
            }
            let categories: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_categories").fetch_one(&mut *tx).await?;
            if categories == 0 {
                let mut ids: HashMap<&str, i64> = HashMap::new();
                for c in default_catalogue() {
                    let sla = c.urgency.default_sla();
                    let (ru, rv) = unit_value(sla.respond);
                    let (su, sv) = unit_value(sla.resolve);
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO request_categories (parent_id, code, name_zh, name_en, handler, urgency, respond_unit, respond_value, \
                           resolve_unit, resolve_value, questions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    )
                    .bind(c.parent.and_then(|p| ids.get(p).copied()))
                    .bind(c.code)
                    .bind(c.name_zh)
                    .bind(c.name_en)
                    .bind(c.handler.code())
                    .bind(c.urgency.code())
                    .bind(ru)
                    .bind(rv)
                    .bind(su)
                    .bind(sv)
                    .bind(serde_json::to_string(c.questions).unwrap_or_else(|_| "[]".into()))
                    .fetch_one(&mut *tx)
                    .await?;
                    ids.insert(c.code, id);
                }
            }
            // Every shipped year the database has not recorded gets the shipped entries, once: an existing database
            // gains the newer notices, and a year already recorded (seeded before, or an admin's) is left alone.
            let recorded: Vec<i32> = sqlx::query_scalar("SELECT year FROM calendar_years").fetch_all(&mut *tx).await?;
            for y in shipped_arrangements().iter().filter(|y| !recorded.contains(&y.year)) {
                let claimed = sqlx::query("INSERT INTO calendar_years (year, source) VALUES ($1, 'shipped') ON CONFLICT (year) DO NOTHING")
                    .bind(y.year)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if claimed == 0 {
                    continue;
                }
                for e in &y.entries {
                    sqlx::query("INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) ON CONFLICT (day) DO NOTHING")
                        .bind(e.date)
                        .bind(e.kind.code())
                        .bind(&e.name)
                        .execute(&mut *tx)
                        .await?;
                }
                seeded.push(y.year);
            }
            tx.commit().await?;
        });
        if !seeded.is_empty() {
            tracing::info!(years = ?seeded, "recorded the shipped holiday arrangements");
        }
        Ok(())
    }

    /// The whole catalogue, parents before children.
    pub async fn categories(&self) -> Result<Vec<Category>> {
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as::<_, Category>("SELECT * FROM request_categories ORDER BY code").fetch_all(pool).await?),
        )
    }

    /// One category.
    pub async fn category(&self, id: i64) -> Result<Category> {
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Category>("SELECT * FROM request_categories WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// Adds a category under a parent (or at the top); its limits follow its urgency until edited.
    pub async fn create_category(&self, new: &NewCategory<'_>, change: Change) -> Result<Category> {
        let NewCategory { parent_id, code, name_zh, name_en, handler, urgency } = *new;
        let sla = urgency.default_sla();
        let (ru, rv) = unit_value(sla.respond);
        let (su, sv) = unit_value(sla.resolve);
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO request_categories (parent_id, code, name_zh, name_en, handler, urgency, respond_unit, respond_value, \
                   resolve_unit, resolve_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(parent_id).bind(code).bind(name_zh).bind(name_en).bind(handler).bind(urgency.code()).bind(ru).bind(rv).bind(su).bind(sv)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| crate::on_unique(e, "该类别代码已存在 / a category with this code exists"))?;
            let change = Change { entity: "category".into(), entity_id: id.to_string(),
                after: serde_json::json!({"code": code, "name_zh": name_zh, "handler": handler, "urgency": urgency.code()}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.category(id).await
    }

    /// Replaces a category's editable fields.
    pub async fn update_category(&self, c: &Category, change: Change) -> Result<Category> {
        let before = self.category(c.id).await?;
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE request_categories SET name_zh = $1, name_en = $2, handler = $3, urgency = $4, respond_unit = $5, respond_value = $6, \
                   resolve_unit = $7, resolve_value = $8, questions = $9, active = $10 WHERE id = $11",
            )
            .bind(&c.name_zh).bind(&c.name_en).bind(&c.handler).bind(&c.urgency).bind(&c.respond_unit).bind(c.respond_value)
            .bind(&c.resolve_unit).bind(c.resolve_value).bind(&c.questions).bind(c.active).bind(c.id)
            .execute(&mut *tx)
            .await?;
            let change = Change { entity: "category".into(), entity_id: c.id.to_string(),
                before: serde_json::to_value(&before).unwrap_or_default(), after: serde_json::to_value(c).unwrap_or_default(), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        self.category(c.id).await
    }

    /// Calendar entries between two dates.
    pub async fn calendar_entries(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CalendarEntry>> {
        let rows: Vec<(NaiveDate, String, String)> = with_db!(self, read, pool, _pg => sqlx::query_as(
                "SELECT day, kind, name FROM calendar_days WHERE day >= $1 AND day < $2 ORDER BY day")
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(|(date, kind, name)| Ok(CalendarEntry { date, kind: day_kind(&kind)?, name })).collect()
    }

    /// Declares a day a holiday or a make-up working day, or (with `None`) returns it to the weekday rule. Declaring
    /// a day records its year as arranged; removing the last entry of a year an admin recorded forgets the year
    /// again (a shipped year stays recorded, so it is not seeded over the admin's removals).
    pub async fn set_calendar_day(
        &self,
        day: NaiveDate,
        kind: Option<DayKind>,
        name: &str,
        change: Change,
    ) -> Result<()> {
        let year = day.year();
        let (from, to) = year_bounds(year);
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM calendar_days WHERE day = $1").bind(day).execute(&mut *tx).await?;
            if let Some(k) = kind {
                sqlx::query("INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3)")
                    .bind(day)
                    .bind(k.code())
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO calendar_years (year, source) VALUES ($1, 'admin') ON CONFLICT (year) DO NOTHING")
                    .bind(year)
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query(
                    "DELETE FROM calendar_years WHERE year = $1 AND source = 'admin' \
                     AND NOT EXISTS (SELECT 1 FROM calendar_days WHERE day >= $2 AND day < $3)")
                    .bind(year)
                    .bind(from)
                    .bind(to)
                    .execute(&mut *tx)
                    .await?;
            }
            let change = Change { entity: "calendar_day".into(), entity_id: day.to_string(),
                after: serde_json::json!({"kind": kind, "name": name}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records many entries at once (a holiday span, an imported official list), all or none: each date takes the
    /// kind and name given, and each year touched is recorded as arranged. One audit event lists them. Returns the
    /// years touched.
    pub async fn import_calendar(&self, entries: &[CalendarEntry], change: Change) -> Result<Vec<i32>> {
        let mut years: Vec<i32> = entries.iter().map(|e| e.date.year()).collect();
        years.sort_unstable();
        years.dedup();
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            for e in entries {
                sqlx::query(
                    "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) \
                     ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name")
                    .bind(e.date)
                    .bind(e.kind.code())
                    .bind(&e.name)
                    .execute(&mut *tx)
                    .await?;
            }
            for y in &years {
                sqlx::query("INSERT INTO calendar_years (year, source) VALUES ($1, 'admin') ON CONFLICT (year) DO NOTHING")
                    .bind(*y)
                    .execute(&mut *tx)
                    .await?;
            }
            let ids: Vec<String> = years.iter().map(i32::to_string).collect();
            let change = Change { entity: "calendar".into(), entity_id: ids.join(","),
                after: serde_json::json!({"entries": entries}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
        });
        Ok(years)
    }

    /// The years whose holiday arrangement is recorded.
    pub async fn calendar_years(&self) -> Result<BTreeSet<i32>> {
        let years: Vec<i32> = with_db!(self, read, pool, _pg => sqlx::query_scalar("SELECT year FROM calendar_years ORDER BY year").fetch_all(pool).await?);
        Ok(years.into_iter().collect())
    }

    /// The working calendar of the years `first..=last` as stored, covering those of them that are recorded:
    /// what counting a deadline from those years needs (a few dozen days, where the whole calendar is hundreds).
    pub async fn calendar_of_years(&self, first: i32, last: i32) -> Result<WorkCalendar> {
        let (from, _) = year_bounds(first);
        let (_, to) = year_bounds(last);
        let rows: Vec<(NaiveDate, String)> = with_db!(self, read, pool, _pg => sqlx::query_as(
                "SELECT day, kind FROM calendar_days WHERE day >= $1 AND day < $2 ORDER BY day")
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?);
        let years: Vec<i32> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
                "SELECT year FROM calendar_years WHERE year >= $1 AND year <= $2 ORDER BY year")
            .bind(first)
            .bind(last)
            .fetch_all(pool)
            .await?);
        let entries = rows.into_iter().map(|(d, k)| Ok((d, day_kind(&k)?))).collect::<Result<Vec<_>>>()?;
        Ok(WorkCalendar::new(entries).covering(years))
    }

    /// The working calendar as stored, with the years it covers.
    pub async fn calendar(&self) -> Result<WorkCalendar> {
        let rows: Vec<(NaiveDate, String)> = with_db!(self, read, pool, _pg => sqlx::query_as("SELECT day, kind FROM calendar_days ORDER BY day").fetch_all(pool).await?);
        let entries = rows.into_iter().map(|(d, k)| Ok((d, day_kind(&k)?))).collect::<Result<Vec<_>>>()?;
        Ok(WorkCalendar::new(entries).covering(self.calendar_years().await?))
    }

    /// Takes in many requests in one transaction, all or none: 12345 imports, and concurrent intakes committed
    /// together (group commit). The statements are per batch, not per request: one read of the communities'
    /// codes, one counter update per community and year, and many rows per insert. Rows come back in the
    /// order of `items`.
    pub async fn create_requests(&self, items: &[RequestToWrite]) -> Result<Vec<RequestRow>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // An async block, so that a failed statement ends the attempt (`?`) and not the whole function.
        let attempt: Result<Vec<RequestRow>> = async {
            with_db!(self, write, pool, pg => {
                let mut tx = pool.begin_write().await?;
                let rows = insert_requests!(tx, pg, items);
                tx.commit().await?;
                Ok(rows)
            })
        }
        .await;
        match attempt {
            Err(StoreError::Database(e)) if is_taken_order(&e) => Err(self.name_taken_order(items, e).await),
            other => other,
        }
    }

    /// The conflict naming the first order of `items` already taken in (or taken twice in the batch), after a
    /// batch failed on the order-number constraint.
    async fn name_taken_order(&self, items: &[RequestToWrite], cause: sqlx::Error) -> StoreError {
        let mut seen = BTreeSet::new();
        for item in items {
            let Some(no) = item.request.external_no.as_deref() else { continue };
            if !seen.insert((item.request.community_id, no)) {
                return taken_order(no);
            }
            let known: std::result::Result<Option<i64>, sqlx::Error> = with_db!(self, read, pool, _pg => sqlx::query_scalar(
                "SELECT id FROM service_requests WHERE community_id = $1 AND external_no = $2")
                .bind(item.request.community_id)
                .bind(no)
                .fetch_optional(pool)
                .await);
            match known {
                Ok(Some(_)) => return taken_order(no),
                Ok(None) => {}
                Err(e) => return StoreError::Database(e),
            }
        }
        StoreError::Database(cause)
    }

    /// The 12345 order numbers a community already holds (each once: `service_requests_external_no_once`).
    pub async fn known_external_numbers(&self, community_id: i64) -> Result<Vec<String>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_scalar(
            "SELECT external_no FROM service_requests \
             WHERE community_id = $1 AND external_no IS NOT NULL AND channel = 'hotline_12345'",
        )
        .bind(community_id)
        .fetch_all(pool)
        .await?))
    }

    /// The request with a readable number in a community.
    pub async fn request_by_number(&self, community_id: i64, number: &str) -> Result<RequestRow> {
        let sql =
            format!("SELECT {REQUEST_COLUMNS} FROM service_requests r WHERE r.community_id = $1 AND r.number = $2");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(number).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// One request.
    pub async fn request(&self, id: i64) -> Result<RequestRow> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM service_requests r WHERE r.id = $1");
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Requests of a community, open ones by what breaches first, then the rest newest first.
    pub async fn requests(&self, community_id: i64, f: &RequestFilter) -> Result<Vec<RequestRow>> {
        let mut sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests r JOIN request_categories c ON c.id = r.category_id WHERE r.community_id = $1"
        );
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        let mut texts: Vec<String> = Vec::new();
        let mut ints: Vec<(usize, i64)> = Vec::new();
        let mut times: Vec<(usize, DateTime<Utc>)> = Vec::new();
        // Each placeholder records its position so that binding follows the numbering.
        let mut order: Vec<(usize, char, usize)> = Vec::new();
        if !f.statuses.is_empty() {
            let marks: Vec<String> = f
                .statuses
                .iter()
                .map(|s| {
                    let i = next();
                    order.push((i, 't', texts.len()));
                    texts.push(s.clone());
                    format!("${i}")
                })
                .collect();
            sql.push_str(&format!(" AND r.status IN ({})", marks.join(",")));
        }
        if let Some(code) = &f.category_code {
            let i = next();
            order.push((i, 't', texts.len()));
            texts.push(format!("{code}%"));
            sql.push_str(&format!(" AND c.code LIKE ${i}"));
        }
        if let Some(ch) = &f.channel {
            let i = next();
            order.push((i, 't', texts.len()));
            texts.push(ch.clone());
            sql.push_str(&format!(" AND r.channel = ${i}"));
        }
        for (column, value) in [("r.building_id", f.building_id), ("r.household_id", f.household_id)] {
            if let Some(v) = value {
                let i = next();
                order.push((i, 'i', ints.len()));
                ints.push((i, v));
                sql.push_str(&format!(" AND {column} = ${i}"));
            }
        }
        if !f.building_ids.is_empty() {
            let marks: Vec<String> = f
                .building_ids
                .iter()
                .map(|b| {
                    let i = next();
                    order.push((i, 'i', ints.len()));
                    ints.push((i, *b));
                    format!("${i}")
                })
                .collect();
            sql.push_str(&format!(" AND r.building_id IN ({})", marks.join(",")));
        }
        if let Some(h) = f.handler {
            let i = next();
            order.push((i, 'i', ints.len()));
            ints.push((i, h));
            let j = next();
            order.push((j, 't', texts.len()));
            texts.push(format!("%,{h},%"));
            // co_handlers is a JSON array such as [3,9]; compare with commas around every element.
            sql.push_str(&format!(
                " AND (r.lead_id = ${i} OR ',' || REPLACE(REPLACE(r.co_handlers, '[', ''), ']', '') || ',' LIKE ${j})"
            ));
        }
        for (cmp, value) in [(">=", f.from), ("<", f.to)] {
            if let Some(t) = value {
                let i = next();
                order.push((i, 'd', times.len()));
                times.push((i, t));
                sql.push_str(&format!(" AND r.received_at {cmp} ${i}"));
            }
        }
        order.sort_by_key(|o| o.0);
        // Open requests first by what breaches first, then the rest newest first: two queries that each follow an
        // index (status and deadline; received time) instead of sorting every request of the community. The limits
        // are written into the statements: SQLite re-plans a statement whose `LIMIT` is a parameter on every binding.
        const OPEN: &str = "('received','responded','dispatched','in_progress')";
        let limit = f.limit.clamp(1, 1000);
        let open_sql = format!("{sql} AND r.status IN {OPEN} ORDER BY r.resolve_due, r.id LIMIT {limit}");
        let binds = Binds { order: &order, texts: &texts, ints: &ints, times: &times };
        let mut rows = self.request_page(open_sql, community_id, &binds).await?;
        let rest = limit - rows.len() as i64;
        if rest > 0 {
            let closed_sql =
                format!("{sql} AND r.status NOT IN {OPEN} ORDER BY r.received_at DESC, r.id DESC LIMIT {rest}");
            rows.extend(self.request_page(closed_sql, community_id, &binds).await?);
        }
        Ok(rows)
    }

    /// Runs one page query of [`Store::requests`], binding its placeholders in their numbered order.
    async fn request_page(&self, sql: String, community_id: i64, b: &Binds<'_>) -> Result<Vec<RequestRow>> {
        Ok(with_db!(self, read, pool, _pg => {
            let mut q = sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql)).bind(community_id);
            for (_, kind, idx) in b.order {
                q = match kind {
                    't' => q.bind(b.texts[*idx].clone()),
                    'i' => q.bind(b.ints[*idx].1),
                    _ => q.bind(b.times[*idx].1),
                };
            }
            q.fetch_all(pool).await?
        }))
    }

    /// Open requests whose clock is running and that may still have a deadline alert to raise, in every
    /// community, with the alerts already raised for each. A request whose running limits have all raised their
    /// overdue alert is not read again, so the job's work follows the requests still inside their limits, not
    /// every open request there has ever been.
    pub async fn requests_awaiting_alerts(&self) -> Result<Vec<(RequestRow, Vec<String>)>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests r \
             WHERE r.status IN ('received', 'responded', 'dispatched', 'in_progress') AND r.paused_reason IS NULL \
               AND ((r.responded_at IS NULL AND NOT EXISTS (SELECT 1 FROM request_alerts a \
                       WHERE a.request_id = r.id AND a.kind = 'respond_overdue')) \
                 OR (r.resolved_at IS NULL AND NOT EXISTS (SELECT 1 FROM request_alerts a \
                       WHERE a.request_id = r.id AND a.kind = 'resolve_overdue')))"
        );
        let rows: Vec<RequestRow> = with_db!(self, read, pool, _pg => sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?);
        let mut raised: HashMap<i64, Vec<String>> = HashMap::new();
        for chunk in rows.chunks(500) {
            let found: Vec<(i64, String)> = with_db!(self, read, pool, _pg => {
                let mut qb = sqlx::QueryBuilder::new("SELECT request_id, kind FROM request_alerts WHERE request_id IN (");
                let mut ids = qb.separated(", ");
                for r in chunk {
                    ids.push_bind(r.id);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(pool).await?
            });
            for (id, kind) in found {
                raised.entry(id).or_default().push(kind);
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let kinds = raised.remove(&r.id).unwrap_or_default();
                (r, kinds)
            })
            .collect())
    }

    /// Every request received in a period (for figures), in no particular order.
    pub async fn all_requests(&self, community_id: i64, f: &RequestFilter) -> Result<Vec<RequestRow>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM service_requests r WHERE r.community_id = $1 \
             AND ($2 IS NULL OR r.received_at >= $2) AND ($3 IS NULL OR r.received_at < $3)"
        );
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql))
            .bind(community_id)
            .bind(f.from)
            .bind(f.to)
            .fetch_all(pool)
            .await?))
    }

    /// Writes a request's new workflow state if nobody changed it since `version`, with its event.
    pub async fn update_request(
        &self,
        before: &RequestRow,
        after: &RequestRow,
        change: Change,
        notices: &crate::Notices,
    ) -> Result<RequestRow> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            update_request_in!(tx, pg, before, after, change, notices);
            tx.commit().await?;
        });
        self.request(before.id).await
    }
}

/// Asia/Shanghai, where request numbers take their year.
fn chrono_tz_shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The urgency of a category code, for callers that only hold the text.
pub fn urgency_of(code: &str) -> Urgency {
    Urgency::from_code(code).unwrap_or(Urgency::General)
}

/// A category about to be added.
#[derive(Debug, Clone, Copy)]
pub struct NewCategory<'a> {
    /// Parent (none for top level).
    pub parent_id: Option<i64>,
    /// Full code.
    pub code: &'a str,
    /// Chinese name.
    pub name_zh: &'a str,
    /// English name.
    pub name_en: &'a str,
    /// Handler kind code.
    pub handler: &'a str,
    /// Urgency, which sets the default limits.
    pub urgency: Urgency,
}

/// An answer staff reuse (知识库), visible to residents when published.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Knowledge {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Category it answers.
    pub category_id: Option<i64>,
    /// The question.
    pub title: String,
    /// The answer.
    pub answer: String,
    /// Visible to residents.
    pub published: bool,
    /// Written.
    pub created_at: DateTime<Utc>,
}

/// Requests about one matter, answered once.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Batch {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// The matter.
    pub title: String,
    /// The published answer.
    pub answer: Option<String>,
    /// The knowledge-base entry made from it.
    pub knowledge_id: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Answered.
    pub answered_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Adds an answer to the knowledge base.
    pub async fn create_knowledge(
        &self,
        community_id: i64,
        category_id: Option<i64>,
        title: &str,
        answer: &str,
        change: Change,
    ) -> Result<Knowledge> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id = insert_knowledge_in!(tx, pg, community_id, category_id, title, answer, change);
            tx.commit().await?;
            id
        });
        with_db!(self, read, pool, _pg => sqlx::query_as::<_, Knowledge>(
            "SELECT id, community_id, category_id, title, answer, published, created_at FROM knowledge WHERE id = $1",
        )
        .bind(id)
        .fetch_one(pool)
        .await)
        .map_err(StoreError::from)
    }

    /// Published answers of a community, optionally of one category (and its descendants) or matching text.
    pub async fn knowledge(
        &self,
        community_id: i64,
        category_code: Option<&str>,
        text: Option<&str>,
    ) -> Result<Vec<Knowledge>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Knowledge>(
            "SELECT k.id, k.community_id, k.category_id, k.title, k.answer, k.published, k.created_at FROM knowledge k \
             LEFT JOIN request_categories c ON c.id = k.category_id \
             WHERE k.community_id = $1 AND k.published AND ($2 IS NULL OR c.code LIKE $2) \
               AND ($3 IS NULL OR k.title LIKE $3 OR k.answer LIKE $3) ORDER BY k.id DESC LIMIT 100",
        )
        .bind(community_id)
        .bind(category_code.map(|c| format!("{c}%")))
        .bind(text.map(|t| format!("%{}%", t.replace(['%', '_'], ""))))
        .fetch_all(pool)
        .await?))
    }

    /// Merges open, unmerged requests of a community into a batch; all or none.
    pub async fn create_batch(
        &self,
        community_id: i64,
        title: &str,
        request_ids: &[i64],
        change: Change,
    ) -> Result<i64> {
        with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO request_batches (community_id, title, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(community_id)
            .bind(title)
            .bind(change.actor_id)
            .bind(change.at)
            .fetch_one(&mut *tx)
            .await?;
            for r in request_ids {
                let n = sqlx::query(
                    "UPDATE service_requests SET batch_id = $1, version = version + 1 WHERE id = $2 AND community_id = $3 \
                     AND batch_id IS NULL AND status IN ('received', 'responded', 'dispatched', 'in_progress')",
                )
                .bind(id)
                .bind(*r)
                .bind(community_id)
                .execute(&mut *tx)
                .await?;
                if n.rows_affected() != 1 {
                    return Err(StoreError::Invalid(vec![wujia_core::registry::FieldError::new(
                        "request_ids",
                        format!("诉求 {r} 不存在、已办结或已合并 / request {r} is unknown, finished or already merged"),
                    )]));
                }
            }
            let change = Change { community_id: Some(community_id), entity: "request_batch".into(), entity_id: id.to_string(),
                after: serde_json::json!({"title": title, "requests": request_ids}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// A batch and its requests.
    pub async fn batch(&self, id: i64) -> Result<(Batch, Vec<RequestRow>)> {
        let batch = with_db!(self, read, pool, _pg => sqlx::query_as::<_, Batch>(
            "SELECT id, community_id, title, answer, knowledge_id, created_at, answered_at FROM request_batches WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?)
        .ok_or(StoreError::NotFound)?;
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM service_requests r WHERE r.batch_id = $1 ORDER BY r.id");
        let rows = with_db!(self, read, pool, _pg => sqlx::query_as::<_, RequestRow>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(pool).await?);
        Ok((batch, rows))
    }

    /// Answers a batch in one transaction: every request's workflow steps (`updates`, in order), optionally the
    /// answer published to the knowledge base (`publish`: its category and event), and the batch itself. Nothing is
    /// written when any request changed meanwhile or the batch was answered by someone else. Returns the knowledge
    /// entry's id.
    pub async fn answer_batch(
        &self,
        id: i64,
        answer: &str,
        publish: Option<(Option<i64>, Change)>,
        updates: &[RequestUpdate],
        change: Change,
    ) -> Result<Option<i64>> {
        let knowledge_id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let (community_id, title): (i64, String) =
                sqlx::query_as("SELECT community_id, title FROM request_batches WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
            let knowledge_id = match publish {
                Some((category_id, k)) => Some(insert_knowledge_in!(tx, pg, community_id, category_id, &title, answer, k)),
                None => None,
            };
            for u in updates {
                update_request_in!(tx, pg, &u.before, &u.after, u.change.clone(), &u.notices);
            }
            let n = sqlx::query(
                "UPDATE request_batches SET answer = $1, knowledge_id = $2, answered_at = $3 WHERE id = $4 AND answered_at IS NULL",
            )
            .bind(answer)
            .bind(knowledge_id)
            .bind(change.at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if n.rows_affected() == 0 {
                return Err(StoreError::Conflict("这批诉求已答复 / this batch is answered already".into()));
            }
            let change = Change { entity: "request_batch".into(), entity_id: id.to_string(),
                after: serde_json::json!({"answer": answer, "knowledge_id": knowledge_id}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            knowledge_id
        });
        Ok(knowledge_id)
    }
}

/// A photo of a request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Photo {
    /// Id.
    pub id: i64,
    /// The request.
    pub request_id: i64,
    /// The blob's SHA-256.
    pub blob: String,
    /// MIME type.
    pub media_type: String,
    /// Bytes.
    pub size: i64,
    /// `intake` (what the resident saw) or `resolution` (what was done).
    pub stage: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Records a photo of a request (the blob is already stored).
    pub async fn add_photo(
        &self,
        request: &RequestRow,
        blob: &str,
        media_type: &str,
        size: i64,
        stage: &str,
        change: Change,
    ) -> Result<Photo> {
        let id = with_db!(self, write, pool, pg => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO request_photos (request_id, blob, media_type, size, stage, uploaded_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(request.id)
            .bind(blob)
            .bind(media_type)
            .bind(size)
            .bind(stage)
            .bind(change.actor_id)
            .bind(change.at)
            .fetch_one(&mut *tx)
            .await?;
            let change = Change { community_id: Some(request.community_id), entity: "request".into(), entity_id: request.id.to_string(),
                after: serde_json::json!({"photo": blob, "stage": stage, "size": size}), ..change };
            append_event!(tx, pg, &change);
            tx.commit().await?;
            id
        });
        self.photos(request.id).await?.into_iter().find(|p| p.id == id).ok_or(StoreError::NotFound)
    }

    /// A request's photos, oldest first.
    pub async fn photos(&self, request_id: i64) -> Result<Vec<Photo>> {
        Ok(with_db!(self, read, pool, _pg => sqlx::query_as::<_, Photo>(
            "SELECT id, request_id, blob, media_type, size, stage, created_at FROM request_photos WHERE request_id = $1 ORDER BY id",
        )
        .bind(request_id)
        .fetch_all(pool)
        .await?))
    }

    /// The requests a blob is a photo of (to decide who may see it).
    pub async fn photo_owners(&self, blob: &str) -> Result<Vec<(i64, String)>> {
        Ok(
            with_db!(self, read, pool, _pg => sqlx::query_as("SELECT request_id, media_type FROM request_photos WHERE blob = $1")
            .bind(blob)
            .fetch_all(pool)
            .await?),
        )
    }
}

/// A 12345 order number the community already holds (the unique index `service_requests_external_no_once`, or on
/// SQLite its columns) is a conflict naming the order: another import or entry took it in first.
fn is_taken_order(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            db.constraint() == Some("service_requests_external_no_once") || db.message().contains("external_no")
        }
        _ => false,
    }
}

fn taken_order(no: &str) -> StoreError {
    StoreError::Conflict(format!(
        "工单 {no} 已收入(另一次导入或录入在先),本次未写入 / order {no} is already taken in (another import \
         or entry came first); nothing was written"
    ))
}
