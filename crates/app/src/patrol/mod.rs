//! Patrols (吾家有治): zones and squads, checkpoints, plans, today's rounds on a phone, check-ins, findings with
//! photos, and the order pillar's figures.
//!
//! Who may walk a zone is decided here for every face: staff and social workers any zone of their community, patrol
//! members and volunteers only their squad's. Those who may neither see patrols nor walk the round read it as absent.

mod cases;
mod findings;
mod meetings;
mod views;

pub use cases::{
    BaselineView, Board, BoardBuildingView, CaseDetail, CaseView, CasesQuery, LinkedRequest, StepReport, StepView,
    add_baseline, baselines, board, case, cases, record_step,
};
pub use findings::{FindingReport, FindingsQuery, finding, findings, may_see_photo, record_finding};
pub use meetings::{
    ActionProgress, ActionStatus, ActionView, ActionsQuery, Attended, Attendee, MeetingDetail, MeetingStatus,
    MeetingView, Minutes, NewAction, NewMeeting, actions, calendar_meetings, calendar_rounds, hold, meeting, meetings,
    own_party, party_shown, record_progress, schedule,
};
pub use views::{
    AddedCheckpoint, CheckedIn, CheckinMethod, CheckinView, CheckpointView, FindingView, MemberView, NewZoneView,
    PatrolSummary, PlanView, Recorded, RoundDetail, RoundView, Scan, Sticker, ZoneView,
};

use crate::period::{PeriodQuery, date, optional_date};
use crate::{App, AppError, Caller, Result};
use chrono::{Duration, NaiveDate};
use rand::RngCore;
use serde::Deserialize;
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::patrol::FindingType;
use wujia_core::patrol::plans::{Schedule, may_check_in, may_finish};
use wujia_store::Round;

/// Photos one finding may carry.
pub const FINDING_PHOTOS: usize = 4;

/// The longest period of rounds one query reads, in days.
const ROUNDS_SPAN_DAYS: i64 = 92;

/// The community the caller works in, if they may see or walk patrols there.
pub fn community(caller: &Caller, requested: Option<i64>) -> Result<i64> {
    let c = caller.community(requested)?;
    if caller.can(Action::ViewPatrol, Scope::community(c)) || caller.can(Action::PatrolRounds, Scope::community(c)) {
        Ok(c)
    } else {
        Err(AppError::Forbidden)
    }
}

/// May this caller walk rounds of this zone?
async fn may_walk(app: &App, caller: &Caller, community: i64, zone: i64) -> Result<()> {
    caller.require(Action::PatrolRounds, Scope::community(community))?;
    if matches!(caller.role(), Role::Patrol | Role::Volunteer)
        && !app.store.zones_of(caller.user.id).await?.contains(&zone)
    {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// A round the caller may see: those who see patrols see every round, others only those they may walk.
async fn visible_round(app: &App, caller: &Caller, id: i64) -> Result<Round> {
    let r = app.store.round(id).await?;
    if !caller.can(Action::ViewPatrol, Scope::community(r.community_id)) {
        may_walk(app, caller, r.community_id, r.zone_id).await.map_err(|_| AppError::NotFound)?;
    }
    Ok(r)
}

/// Zones of a community with their squads and routes.
pub async fn zones(app: &App, caller: &Caller, community_id: Option<i64>) -> Result<Vec<ZoneView>> {
    let c = community(caller, community_id)?;
    let mut out = Vec::new();
    for z in app.store.zones(c).await? {
        let members = app.store.zone_members(z.id).await?.into_iter().map(Into::into).collect();
        let checkpoints = app.store.checkpoints(z.id).await?.into_iter().map(Into::into).collect();
        out.push(ZoneView { id: z.id, name: z.name, members, checkpoints });
    }
    Ok(out)
}

/// A zone to create.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewZone {
    /// Name, e.g. 一片区（1–3号院）.
    pub name: String,
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// Creates a zone.
pub async fn create_zone(app: &App, caller: &Caller, new: &NewZone) -> Result<NewZoneView> {
    let c = caller.community(new.community_id)?;
    caller.require(Action::ManagePatrol, Scope::community(c))?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(AppError::field("name", "请填写片区名称（最多 40 字）/ name the zone (at most 40 characters)"));
    }
    let z = app.store.create_zone(c, name, caller.change(app.clock.now(), "zone.create", Some(c))).await?;
    Ok(NewZoneView { id: z.id, community_id: z.community_id, name: z.name })
}

/// Adds an account to a zone's squad, or changes whether it leads.
pub async fn set_member(app: &App, caller: &Caller, zone_id: i64, user_id: i64, leader: bool) -> Result<()> {
    let z = app.store.zone(zone_id).await?;
    caller.require(Action::ManagePatrol, Scope::community(z.community_id))?;
    let change = caller.change(app.clock.now(), "zone.member", Some(z.community_id));
    app.store.set_zone_member(&z, user_id, leader, change).await?;
    Ok(())
}

/// The accounts a squad may take in: staff, social workers, patrol members and volunteers of the community, for
/// those who manage or see patrols there.
pub async fn squad_candidates(app: &App, caller: &Caller, community_id: i64) -> Result<Vec<wujia_store::User>> {
    caller.require(Action::ViewPatrol, Scope::community(community_id))?;
    let roles = [Role::Staff, Role::SocialWorker, Role::Patrol, Role::Volunteer];
    Ok(app.store.community_accounts(community_id, &roles).await?)
}

/// A checkpoint to add to a zone's route.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewCheckpoint {
    /// Name, e.g. 3号院7号楼1单元.
    pub name: String,
    /// The building it stands at.
    pub building_id: Option<i64>,
}

/// Adds a checkpoint at the end of a zone's route, with a fresh code for its QR sticker.
pub async fn add_checkpoint(app: &App, caller: &Caller, zone_id: i64, new: &NewCheckpoint) -> Result<AddedCheckpoint> {
    let z = app.store.zone(zone_id).await?;
    caller.require(Action::ManagePatrol, Scope::community(z.community_id))?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::field(
            "name",
            "请填写巡查点名称（最多 60 字）/ name the checkpoint (at most 60 characters)",
        ));
    }
    let mut code = [0u8; 8];
    rand::rng().fill_bytes(&mut code);
    let code = hex::encode(code);
    let change = caller.change(app.clock.now(), "checkpoint.create", Some(z.community_id));
    let cp = app.store.create_checkpoint(&z, name, new.building_id, &code, change).await?;
    let scan_url = format!("/patrol/scan/{}", cp.code);
    Ok(AddedCheckpoint { checkpoint: cp.into(), scan_url })
}

/// A plan to create.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewPlan {
    /// The zone patrolled.
    pub zone_id: i64,
    /// Name, e.g. 早晚巡查.
    pub name: String,
    /// Start times, Beijing time, e.g. `["07:30", "19:00"]`.
    pub times: Vec<String>,
    /// ISO weekdays, 1 = Monday … 7 = Sunday; default every day.
    pub weekdays: Option<Vec<u8>>,
    /// Minutes to finish a round (default 120).
    pub window_minutes: Option<u32>,
    /// Finding type codes to check; default all.
    pub checklist: Option<Vec<String>>,
}

/// Creates a plan and generates its rounds for the coming week (later ones are generated every day).
pub async fn create_plan(app: &App, caller: &Caller, new: &NewPlan) -> Result<PlanView> {
    let z = match app.store.zone(new.zone_id).await {
        Ok(z) => z,
        Err(wujia_store::StoreError::NotFound) => return Err(AppError::field("zone_id", "片区不存在 / unknown zone")),
        Err(e) => return Err(e.into()),
    };
    caller.require(Action::ManagePatrol, Scope::community(z.community_id))?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::field("name", "请填写计划名称 / name the plan"));
    }
    let weekdays = new.weekdays.clone().unwrap_or_else(|| (1..=7).collect());
    let schedule = Schedule::parse(&new.times, &weekdays, new.window_minutes.unwrap_or(120))
        .map_err(|e| AppError::field(e.field(), e.message()))?;
    let checklist: Vec<String> = match &new.checklist {
        None => FindingType::checklist().into_iter().map(|t| t.code().to_string()).collect(),
        Some(list) => {
            if let Some(bad) = list.iter().find(|c| FindingType::parse(c).is_none()) {
                return Err(AppError::field("checklist", format!("未知检查项 {bad} / unknown item")));
            }
            list.clone()
        }
    };
    let change = caller.change(app.clock.now(), "patrol_plan.create", Some(z.community_id));
    let plan = app.store.create_plan(&z, name, &schedule, &checklist, change).await?;
    let today = app.clock.today();
    app.store.ensure_rounds(today, today + Duration::days(7)).await?;
    plan.try_into()
}

/// Plans of a community.
pub async fn plans(app: &App, caller: &Caller, community_id: Option<i64>) -> Result<Vec<PlanView>> {
    let c = community(caller, community_id)?;
    app.store.plans(c).await?.into_iter().map(TryInto::try_into).collect()
}

/// `?date=&from=&to=&zone_id=&mine=&community_id=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundsQuery {
    /// One Beijing date (`2024-06-03`); default today.
    pub date: Option<String>,
    /// From this date (with `to`).
    pub from: Option<String>,
    /// To this date, inclusive.
    pub to: Option<String>,
    /// One zone.
    pub zone_id: Option<i64>,
    /// Only the zones the caller patrols.
    pub mine: Option<bool>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Rounds of a day or a period, each with where it stands now; squad members see their own zones' only.
pub async fn rounds(app: &App, caller: &Caller, q: &RoundsQuery) -> Result<Vec<RoundView>> {
    let c = community(caller, q.community_id)?;
    let today = app.clock.today();
    let (from, to) = match (optional_date("date", q.date.as_deref())?, &q.from, &q.to) {
        (Some(d), _, _) => (d, d),
        (None, Some(f), Some(t)) => (date("from", f)?, date("to", t)?),
        _ => (today, today),
    };
    if to < from || (to - from).num_days() > ROUNDS_SPAN_DAYS {
        return Err(AppError::field("to", "期间应在 93 天以内且不早于开始日期 / at most 93 days, not before from"));
    }
    let mut rounds = app.store.rounds(c, q.zone_id, from, to).await?;
    let squad_only = !caller.can(Action::ViewPatrol, Scope::community(c));
    if q.mine.unwrap_or(false) || squad_only {
        let mine = app.store.zones_of(caller.user.id).await?;
        rounds.retain(|r| mine.contains(&r.zone_id));
    }
    let now = app.clock.now();
    Ok(rounds.into_iter().map(|r| RoundView::at(r, now)).collect())
}

/// A round with its route, check-ins, checklist and findings.
pub async fn round(app: &App, caller: &Caller, id: i64) -> Result<RoundDetail> {
    let r = visible_round(app, caller, id).await?;
    let plan: PlanView = app.store.plan(r.plan_id).await?.try_into()?;
    let checkpoints = app.store.checkpoints(r.zone_id).await?.into_iter().map(Into::into).collect();
    let checkins = app.store.checkins(id).await?.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
    let findings = findings::with_photos(app, app.store.round_findings(id).await?).await?;
    Ok(RoundDetail {
        round: RoundView::at(r, app.clock.now()),
        checkpoints,
        checkins,
        checklist: plan.checklist,
        findings,
    })
}

/// A check-in: the checkpoint tapped on the list, or the code read from its QR sticker.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct CheckIn {
    /// The checkpoint tapped on the list …
    pub checkpoint_id: Option<i64>,
    /// … or the code read from its QR sticker.
    pub code: Option<String>,
    /// Checklist items that are fine here (type codes).
    #[serde(default)]
    pub checklist: Vec<String>,
}

/// Checks in at a checkpoint of the round's zone.
pub async fn check_in(app: &App, caller: &Caller, id: i64, c: &CheckIn) -> Result<CheckedIn> {
    let r = app.store.round(id).await?;
    may_walk(app, caller, r.community_id, r.zone_id).await?;
    let unknown = |field: &str, message: &str| {
        let (field, message) = (field.to_string(), message.to_string());
        move |e: wujia_store::StoreError| match e {
            wujia_store::StoreError::NotFound => AppError::field(&field, message),
            other => other.into(),
        }
    };
    let (cp, method) = match (c.code.as_deref().map(str::trim), c.checkpoint_id) {
        (Some(code), _) if !code.is_empty() => (
            app.store
                .checkpoint_by_code(code)
                .await
                .map_err(unknown("code", "无法识别的巡查点二维码 / unknown checkpoint code"))?,
            CheckinMethod::Qr,
        ),
        (_, Some(cp)) => (
            app.store.checkpoint(cp).await.map_err(unknown("checkpoint_id", "巡查点不存在 / unknown checkpoint"))?,
            CheckinMethod::Tap,
        ),
        _ => return Err(AppError::field("checkpoint_id", "请选择或扫描巡查点 / choose or scan a checkpoint")),
    };
    if cp.zone_id != r.zone_id {
        let field = if method == CheckinMethod::Qr { "code" } else { "checkpoint_id" };
        return Err(AppError::field(field, "该巡查点不属于本片区 / this checkpoint belongs to another zone"));
    }
    if let Some(bad) = c.checklist.iter().find(|c| FindingType::parse(c).is_none()) {
        return Err(AppError::field("checklist", format!("未知检查项 {bad} / unknown item")));
    }
    let now = app.clock.now();
    may_check_in(r.starts_at, r.due_at, r.completed_at.is_some(), now)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let change = caller.change(now, "round.checkin", Some(r.community_id));
    app.store.check_in(&r, &cp, method.code(), &c.checklist, change).await?;
    let round = RoundView::at(app.store.round(id).await?, now);
    Ok(CheckedIn { round, checkpoint: cp.into() })
}

/// Finishes a round once every checkpoint is checked in.
pub async fn finish(app: &App, caller: &Caller, id: i64) -> Result<RoundView> {
    let r = app.store.round(id).await?;
    may_walk(app, caller, r.community_id, r.zone_id).await?;
    let checked = usize::try_from(r.checked).unwrap_or(0);
    let total = usize::try_from(r.checkpoints).unwrap_or(0);
    let now = app.clock.now();
    may_finish(r.starts_at, r.due_at, r.completed_at.is_some(), checked, total, now)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let done = app.store.finish_round(&r, caller.change(now, "round.finish", Some(r.community_id))).await?;
    Ok(RoundView::at(done, now))
}

/// What a checkpoint's QR sticker opens, for someone who may walk its zone.
pub async fn scan(app: &App, caller: &Caller, code: &str) -> Result<Scan> {
    let cp = app.store.checkpoint_by_code(code).await?;
    let zone = app.store.zone(cp.zone_id).await?;
    may_walk(app, caller, zone.community_id, zone.id).await?;
    let (today, now) = (app.clock.today(), app.clock.now());
    let rounds = app.store.rounds(zone.community_id, Some(zone.id), today, today).await?;
    let round = rounds
        .into_iter()
        .find(|r| may_check_in(r.starts_at, r.due_at, r.completed_at.is_some(), now).is_ok())
        .map(|r| RoundView::at(r, now));
    Ok(Scan { zone: zone.name, checkpoint: cp.into(), round })
}

/// A checkpoint's sticker, for those who manage patrols.
pub async fn sticker(app: &App, caller: &Caller, checkpoint_id: i64) -> Result<Sticker> {
    let cp = app.store.checkpoint(checkpoint_id).await?;
    let zone = app.store.zone(cp.zone_id).await?;
    caller.require(Action::ManagePatrol, Scope::community(zone.community_id))?;
    Ok(Sticker { zone: zone.name, checkpoint: cp.into() })
}

/// The order pillar's figures for a period: round completion by zone and shift, findings by type, zone and week,
/// the share fixed on the spot, time to rectify, recurrences, joint-meeting actions done on time, and the open
/// illegal-construction cases now. They are counts, so whoever sees patrols or the community's figures sees them.
pub async fn summary(app: &App, caller: &Caller, q: &PeriodQuery) -> Result<PatrolSummary> {
    let c = caller.community(q.community_id)?;
    let scope = Scope::community(c);
    if !caller.can(Action::ViewPatrol, scope) {
        caller.require(Action::ViewSummary, scope)?;
    }
    let (from, to) = q.dates(app.clock.today(), 29)?;
    figures(app, c, from, to).await
}

async fn figures(app: &App, c: i64, from: NaiveDate, to: NaiveDate) -> Result<PatrolSummary> {
    if (to - from).num_days() > 731 {
        return Err(AppError::field("to", "期间应在两年以内且不早于开始日期 / at most two years, not before from"));
    }
    let facts = app.store.patrol_facts(c, from, to).await?;
    let figures = wujia_core::patrol::figures::figures(
        &facts.rounds,
        &facts.findings,
        &facts.closed_cases,
        &facts.actions,
        app.clock.now(),
    );
    Ok(PatrolSummary { figures, from, to, community_id: c, open_illegal_construction_cases: facts.open_illegal })
}
