//! Requests as the public reads them (Open311 GeoReport v2 `GET requests`, `requests/{id}`, `tokens/{id}`):
//! anyone, without a key, in the communities that leave public reads on; a client with a key in its own
//! communities always. The record is the public one whoever reads it: no names, phones or e-mail addresses, the
//! place at building level at most (core's rules).

use crate::{App, AppError, Caller, Result};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::requests::{PublicReads, Status, public_place, without_contacts};
use wujia_store::{Category, RequestFilter, RequestRow, StoreError};

/// At most this many records in one answer.
pub const MAX_RECORDS: i64 = 1000;

/// The window a list covers when the reader gives no dates (GeoReport: the most recent 90 days).
pub const DEFAULT_DAYS: i64 = 90;

/// Who is reading.
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    /// Anyone, without a key.
    Anyone,
    /// A client that presented a valid key: the account behind it.
    Client(&'a Caller),
}

impl Reader<'_> {
    /// Whether the reader holds a key of `community`.
    fn keyed_in(&self, community: i64) -> bool {
        match self {
            Self::Anyone => false,
            Self::Client(c) => c.role() == Role::Admin || c.actor.communities.contains(&community),
        }
    }
}

/// What a list asks for, parsed.
#[derive(Debug, Clone, Default)]
pub struct PublicQuery {
    /// The community (GeoReport's `jurisdiction_id`); every readable one when absent.
    pub jurisdiction: Option<i64>,
    /// Only these services; all when empty.
    pub service_codes: Vec<String>,
    /// Only open (`Some(true)`) or closed (`Some(false)`) requests.
    pub open: Option<bool>,
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received at or before.
    pub to: Option<DateTime<Utc>>,
}

/// A service a request can be filed under (an active leaf of the catalogue), as anyone may read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The category's id, which a request is taken in under.
    pub category_id: i64,
    /// Stable dotted code, e.g. `property.repair.elevator`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Urgency code.
    pub urgency: String,
    /// The top-level group's Chinese name.
    pub group: String,
    /// The questions a request of this service answers, in order.
    pub questions: Vec<String>,
}

/// The services, in catalogue order.
pub async fn services(app: &App) -> Result<Vec<Service>> {
    let all = super::catalogue(app).await?;
    let name = |id: Option<i64>| all.iter().find(|c| Some(c.id) == id);
    Ok(all
        .iter()
        .filter(|c| c.active && c.leaf)
        .map(|c| {
            let parent = name(c.parent_id);
            let group = parent.and_then(|p| name(p.parent_id)).or(parent);
            Service {
                category_id: c.id,
                code: c.code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                urgency: c.urgency.clone(),
                group: group.map(|g| g.name_zh.clone()).unwrap_or_default(),
                questions: c
                    .questions
                    .iter()
                    .map(|q| q.as_str().map_or_else(|| q.to_string(), str::to_string))
                    .collect(),
            }
        })
        .collect())
}

/// One service by its code; absent when no active leaf has it.
pub async fn service(app: &App, code: &str) -> Result<Service> {
    services(app).await?.into_iter().find(|s| s.code == code).ok_or(AppError::NotFound)
}

/// A request as anyone may read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicRequest {
    /// The readable number, e.g. `WT-2024-000123`.
    pub number: String,
    /// Open until closed.
    pub open: bool,
    /// What was done, contacts left out.
    pub status_notes: String,
    /// The service (leaf category) code.
    pub service_code: String,
    /// The service's name.
    pub service_name: String,
    /// What was asked, contacts left out.
    pub description: String,
    /// Who answers: the community, never a person.
    pub agency: String,
    /// When it was received.
    pub requested_at: DateTime<Utc>,
    /// The last step.
    pub updated_at: DateTime<Utc>,
    /// When it is due to be resolved.
    pub expected_at: DateTime<Utc>,
    /// Where, at building level at most.
    pub place: String,
}

/// The communities `reader` may read in, each with its name; `jurisdiction` narrows to one. An unknown
/// jurisdiction is absent; one that keeps reads to its key holders is forbidden to everyone else.
async fn readable(app: &App, reader: Reader<'_>, jurisdiction: Option<i64>) -> Result<Vec<(i64, String)>> {
    let names: HashMap<i64, String> = app.store.communities().await?.into_iter().map(|c| (c.id, c.name)).collect();
    let settings = app.store.open311_public_reads().await?;
    let admitted = |id: i64, open: bool| PublicReads::from_flag(open).admits(reader.keyed_in(id));
    match jurisdiction {
        Some(j) => {
            let (id, open) = settings.into_iter().find(|(id, _)| *id == j).ok_or(AppError::NotFound)?;
            if !admitted(id, open) {
                return Err(AppError::Forbidden);
            }
            Ok(vec![(id, names.get(&id).cloned().unwrap_or_default())])
        }
        None => Ok(settings
            .into_iter()
            .filter(|(id, open)| admitted(*id, *open))
            .map(|(id, _)| (id, names.get(&id).cloned().unwrap_or_default()))
            .collect()),
    }
}

fn record(r: &RequestRow, categories: &[Category], agency: &str) -> Result<PublicRequest> {
    let status = Status::from_code(&r.status)
        .ok_or_else(|| AppError::Internal(format!("request {} has an unknown status {:?}", r.id, r.status)))?;
    let category = categories
        .iter()
        .find(|c| c.id == r.category_id)
        .ok_or_else(|| AppError::Internal(format!("request {} has an unknown category {}", r.id, r.category_id)))?;
    Ok(PublicRequest {
        number: r.number.clone(),
        open: status.is_open(),
        status_notes: r.resolution.as_deref().map(without_contacts).unwrap_or_default(),
        service_code: category.code.clone(),
        service_name: category.name_zh.clone(),
        description: without_contacts(&r.description),
        agency: agency.to_string(),
        requested_at: r.received_at,
        updated_at: r.closed_at.or(r.followed_up_at).or(r.resolved_at).or(r.responded_at).unwrap_or(r.received_at),
        expected_at: r.resolve_due,
        place: public_place(&r.location),
    })
}

/// Requests received in the window, newest first, in the communities the reader may read.
pub async fn list(app: &App, reader: Reader<'_>, q: &PublicQuery) -> Result<Vec<PublicRequest>> {
    let communities = readable(app, reader, q.jurisdiction).await?;
    let from = match (q.from, q.to) {
        (None, None) => Some(app.clock.now() - Duration::days(DEFAULT_DAYS)),
        (from, _) => from,
    };
    let statuses = match q.open {
        None => vec![],
        Some(open) => Status::ALL.iter().filter(|s| s.is_open() == open).map(|s| s.code().to_string()).collect(),
    };
    let f = RequestFilter {
        statuses,
        from,
        // The store's end is exclusive; GeoReport's includes it.
        to: q.to.map(|t| t + Duration::seconds(1)),
        limit: MAX_RECORDS,
        ..Default::default()
    };
    let categories = app.store.categories().await?;
    let mut rows = Vec::new();
    for (id, name) in &communities {
        for r in app.store.requests(*id, &f).await? {
            let wanted = q.service_codes.is_empty()
                || categories.iter().any(|c| c.id == r.category_id && q.service_codes.contains(&c.code));
            if wanted {
                rows.push(record(&r, &categories, name)?);
            }
        }
    }
    rows.sort_by(|a, b| b.requested_at.cmp(&a.requested_at).then_with(|| a.number.cmp(&b.number)));
    rows.truncate(usize::try_from(MAX_RECORDS).unwrap_or(usize::MAX));
    Ok(rows)
}

/// The requests with these numbers, in the order asked; numbers not found are left out.
pub async fn numbered(
    app: &App,
    reader: Reader<'_>,
    jurisdiction: Option<i64>,
    numbers: &[&str],
) -> Result<Vec<PublicRequest>> {
    let communities = readable(app, reader, jurisdiction).await?;
    let categories = app.store.categories().await?;
    let mut found: Vec<PublicRequest> = Vec::new();
    for number in numbers {
        for (id, name) in &communities {
            match app.store.request_by_number(*id, number).await {
                Ok(r) if !found.iter().any(|f| f.number == r.number) => found.push(record(&r, &categories, name)?),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(found)
}

/// One request by its number; absent when no readable community has it.
pub async fn one(app: &App, reader: Reader<'_>, jurisdiction: Option<i64>, number: &str) -> Result<PublicRequest> {
    numbered(app, reader, jurisdiction, &[number]).await?.into_iter().next().ok_or(AppError::NotFound)
}

/// A community's Open311 public-read setting.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PublicReadsSetting {
    /// The community.
    pub community_id: i64,
    /// Its name.
    pub community_name: String,
    /// True when anyone may read its requests' public records through Open311 without a key.
    pub public_reads: bool,
}

/// The setting of every community whose accounts and keys the caller manages.
pub async fn settings(app: &App, caller: &Caller) -> Result<Vec<PublicReadsSetting>> {
    let names: HashMap<i64, String> = app.store.communities().await?.into_iter().map(|c| (c.id, c.name)).collect();
    Ok(app
        .store
        .open311_public_reads()
        .await?
        .into_iter()
        .filter(|(id, _)| caller.can(Action::ManageAccounts, Scope::community(*id)))
        .map(|(id, open)| PublicReadsSetting {
            community_id: id,
            community_name: names.get(&id).cloned().unwrap_or_default(),
            public_reads: open,
        })
        .collect())
}

/// Turns a community's public reads on or off (admins of the community); the change is in the audit log.
pub async fn set(app: &App, caller: &Caller, community_id: i64, open: bool) -> Result<PublicReadsSetting> {
    caller.require(Action::ManageAccounts, Scope::community(community_id))?;
    let change = caller.change(app.clock.now(), "community.open311_public_reads", Some(community_id));
    app.store.update_open311_public_reads(community_id, open, change).await?;
    settings(app, caller).await?.into_iter().find(|s| s.community_id == community_id).ok_or(AppError::NotFound)
}
