//! Findings: what a patrol found, where, with photos. Not fixed on the spot, a finding opens a rectification case
//! in the same transaction.

use super::{FINDING_PHOTOS, FindingView, Recorded, may_walk};
use crate::period::{beijing_start, optional_date};
use crate::registry::{self, AddressMatch};
use crate::{App, AppError, Caller, Result, photos};
use chrono::Duration;
use serde::Deserialize;
use wujia_core::accounts::{Action, Scope};
use wujia_core::patrol::{FindingType, Place};
use wujia_store::{Finding, FindingFilter, NewFinding, StoreError};

/// A finding as reported from a phone or a form.
#[derive(Debug, Clone, Default)]
pub struct FindingReport {
    /// Type code.
    pub kind: Option<String>,
    /// The round it was found on.
    pub round_id: Option<i64>,
    /// A household typed as an address (`3-7-1-102`, `3号院7号楼1单元102`).
    pub address: Option<String>,
    /// A household chosen.
    pub household_id: Option<i64>,
    /// A unit chosen.
    pub unit_id: Option<i64>,
    /// A building chosen.
    pub building_id: Option<i64>,
    /// A public place, in words.
    pub place_text: Option<String>,
    /// The community, when neither a round nor a building says.
    pub community_id: Option<i64>,
    /// Note.
    pub note: Option<String>,
    /// Put right on the spot.
    pub fixed_on_spot: bool,
    /// The phone's own id for it, so that sending again records it once.
    pub client_id: Option<String>,
    /// Photos as uploaded.
    pub photos: Vec<Vec<u8>>,
}

/// A lookup by an id the caller typed: an unknown id is the caller's mistake in that field.
fn named(field: &'static str, message: &'static str) -> impl FnOnce(StoreError) -> AppError {
    move |e| match e {
        StoreError::NotFound => AppError::field(field, message),
        other => other.into(),
    }
}

/// Checks a finding and records it, with its photos.
pub async fn record_finding(app: &App, caller: &Caller, report: FindingReport) -> Result<Recorded> {
    let kind = report
        .kind
        .as_deref()
        .and_then(FindingType::parse)
        .ok_or_else(|| AppError::field("kind", "请选择问题类型 / choose the kind of problem"))?;
    let round = match report.round_id {
        Some(id) => Some(app.store.round(id).await.map_err(named("round_id", "巡查轮次不存在 / unknown round"))?),
        None => None,
    };
    // A household typed as an address on the phone is looked up by address only, and only for someone who may
    // record findings there: a phone, an ID number or a name never becomes a home.
    let typed = match report.address.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(text) => {
            let c = match &round {
                Some(r) => r.community_id,
                None => caller.community(report.community_id)?,
            };
            match registry::household_at_address(app, caller, c, Action::PatrolRounds, text).await? {
                AddressMatch::Nobody => {
                    return Err(AppError::field(
                        "address",
                        "找不到这个住户地址，请写成 1-2-1-101 或 1号院2号楼1单元101，公共区域请写在地点里 / no household at this \
                         address: write it as 1-2-1-101, or name a public place",
                    ));
                }
                found => Some(found.household("address")?),
            }
        }
        None => None,
    };
    // A household or unit chosen implies its building; look them up so that ids cannot be mixed across places.
    let household = match typed.or(report.household_id) {
        Some(h) => Some(
            app.store
                .household(h, app.clock.today())
                .await
                .map_err(named("household_id", "住户不存在 / unknown household"))?,
        ),
        None => None,
    };
    let (building_id, unit_id) = match &household {
        Some(h) => (Some(h.building_id), Some(h.unit_id)),
        None => match report.unit_id {
            Some(u) => {
                let (_, b) = app.store.unit(u).await.map_err(named("unit_id", "单元不存在 / unknown unit"))?;
                (Some(b), Some(u))
            }
            None => (report.building_id, None),
        },
    };
    let building = match building_id {
        Some(b) => Some(app.store.building(b).await.map_err(named("building_id", "楼栋不存在 / unknown building"))?),
        None => None,
    };
    let (place, text) = Place::from_parts(
        report.place_text.as_deref().filter(|t| !t.trim().is_empty()),
        building_id,
        unit_id,
        household.as_ref().map(|h| h.id),
    )
    .map_err(|e| AppError::field("place", e.to_string()))?;
    let community = match (&round, &building) {
        (Some(r), _) => r.community_id,
        (None, Some(b)) => b.community_id,
        (None, None) => caller.community(report.community_id)?,
    };
    if building.as_ref().is_some_and(|b| b.community_id != community) {
        return Err(AppError::field("building_id", "楼栋不在本社区 / the building is in another community"));
    }
    let zone_id = round.as_ref().map(|r| r.zone_id).or_else(|| building.as_ref().and_then(|b| b.zone_id));
    match zone_id {
        Some(z) if round.is_some() => may_walk(app, caller, community, z).await?,
        _ => caller.require(Action::PatrolRounds, Scope::community(community))?,
    }
    let note = report.note.unwrap_or_default();
    if note.chars().count() > 500 {
        return Err(AppError::field("note", "备注最多 500 字 / at most 500 characters"));
    }
    if report.client_id.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(AppError::field("client_id", "最多 64 个字符 / at most 64 characters"));
    }
    if report.photos.len() > FINDING_PHOTOS {
        return Err(AppError::field("photo", "每条问题最多 4 张照片 / at most 4 photos per finding"));
    }
    // Every photo is checked before anything is kept, so a bad photo leaves nothing behind.
    let mut cleaned = Vec::with_capacity(report.photos.len());
    for p in report.photos {
        cleaned.push(photos::take_in(p).await?);
    }
    let mut kept = Vec::with_capacity(cleaned.len());
    for clean in cleaned {
        let k = photos::keep(&app.blobs, &app.store, clean).await?;
        kept.push((k.blob.clone(), k.media_type().to_string(), k.size));
    }
    let place_text = match (&household, &building) {
        (Some(h), _) => h.address.clone(),
        (None, Some(b)) if text.is_empty() => format!("{}{}号楼", b.compound_name, b.number),
        (None, Some(b)) => format!("{}{}号楼 · {text}", b.compound_name, b.number),
        _ => text,
    };
    let community_code = app
        .store
        .communities()
        .await?
        .into_iter()
        .find(|c| c.id == community)
        .map(|c| c.code)
        .ok_or_else(|| AppError::Internal(format!("community {community} of a finding is not in the register")))?;
    let new = NewFinding {
        community_id: community,
        zone_id,
        round_id: round.as_ref().map(|r| r.id),
        kind: kind.code().into(),
        illegal: kind.is_illegal_construction(),
        place_kind: place.kind().into(),
        place_key: place.key(),
        place_text,
        building_id,
        unit_id,
        household_id: household.as_ref().map(|h| h.id),
        note,
        fixed_on_spot: report.fixed_on_spot,
        client_id: report.client_id,
        photos: kept,
        community_code,
    };
    let change = caller.change(app.clock.now(), "finding.create", Some(community));
    let (f, created) = app.store.record_finding(&new, change).await?;
    let finding = with_photos(app, vec![f]).await?.remove(0);
    Ok(Recorded { finding, created })
}

/// Findings with the addresses of their photos.
pub(super) async fn with_photos(app: &App, found: Vec<Finding>) -> Result<Vec<FindingView>> {
    let mut out = Vec::with_capacity(found.len());
    for f in found {
        let photos = app.store.finding_photos(f.id).await?;
        out.push(FindingView::new(f, photos.into_iter().map(|p| p.blob))?);
    }
    Ok(out)
}

/// `?kind=&zone_id=&building_id=&from=&to=&limit=&community_id=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    /// Type code.
    pub kind: Option<String>,
    /// Zone.
    pub zone_id: Option<i64>,
    /// Building.
    pub building_id: Option<i64>,
    /// From this Beijing date.
    pub from: Option<String>,
    /// To this Beijing date, inclusive.
    pub to: Option<String>,
    /// At most (default 100).
    pub limit: Option<i64>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Findings, newest first.
pub async fn findings(app: &App, caller: &Caller, q: &FindingsQuery) -> Result<Vec<FindingView>> {
    let c = caller.community(q.community_id)?;
    caller.require(Action::ViewPatrol, Scope::community(c))?;
    let kind = q.kind.clone().filter(|k| !k.is_empty());
    if let Some(k) = kind.as_deref().filter(|k| FindingType::parse(k).is_none()) {
        return Err(AppError::field("kind", format!("未知问题类型 {k} / unknown kind")));
    }
    let filter = FindingFilter {
        kind,
        zone_id: q.zone_id,
        building_id: q.building_id,
        from: optional_date("from", q.from.as_deref())?.map(beijing_start),
        to: optional_date("to", q.to.as_deref())?.map(|d| beijing_start(d + Duration::days(1))),
        limit: q.limit.unwrap_or(100),
    };
    with_photos(app, app.store.findings(c, &filter).await?).await
}

/// One finding, for those who see patrols or who recorded it.
pub async fn finding(app: &App, caller: &Caller, id: i64) -> Result<FindingView> {
    let f = app.store.finding(id).await?;
    if !caller.can(Action::ViewPatrol, Scope::community(f.community_id)) && f.recorded_by != caller.user.id {
        return Err(AppError::NotFound);
    }
    Ok(with_photos(app, vec![f]).await?.remove(0))
}

/// May the caller see this patrol photo (of a finding, a re-inspection or a baseline)? Those who may see or walk
/// patrols of one of its communities may; to anyone else it does not exist.
pub async fn may_see_photo(app: &App, caller: &Caller, blob: &str) -> Result<()> {
    let owners = app.store.patrol_photo_owners(blob).await?;
    let allowed = owners.iter().any(|(c, _)| {
        caller.can(Action::ViewPatrol, Scope::community(*c)) || caller.can(Action::PatrolRounds, Scope::community(*c))
    });
    if allowed { Ok(()) } else { Err(AppError::NotFound) }
}
