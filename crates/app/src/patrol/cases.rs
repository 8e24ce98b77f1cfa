//! Rectification cases (整改) and the zero-illegal-construction board (零违建), with building baselines.
//!
//! Who may see a case is [`may_view_case`] (the property company sees only the cases handed to it), who may record
//! a step is [`may_record_case_step`], and the steps offered are exactly [`available_steps`]: decided here once for
//! the API and the pages.

use super::FindingView;
use super::findings::with_photos;
use crate::period::optional_date;
use crate::{App, AppError, Caller, Result, photos};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use wujia_core::accounts::{Action, Scope};
use wujia_core::patrol::FindingType;
use wujia_core::patrol::cases::{
    CaseCommand, CaseError, CaseStatus, CaseStep, HandledBy, VisitOutcome, available_steps, decide,
    may_record_case_step, may_view_case,
};
use wujia_store::{Case, CaseUpdate, StoreError};

/// A case refused by the rules: their messages begin with the field at fault.
fn refused(e: CaseError) -> AppError {
    AppError::refused(e, "action")
}

/// A rectification case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Readable number, e.g. `WT-ZG-2024-0001`.
    pub number: String,
    /// The finding that opened it.
    pub finding_id: i64,
    /// Type code of the finding.
    #[schema(value_type = String, example = "window_guard")]
    pub kind: FindingType,
    /// Where, in words.
    pub place_text: String,
    /// Building.
    pub building_id: Option<i64>,
    /// Household.
    pub household_id: Option<i64>,
    /// `noticed`, `visiting`, `agreed`, `handling`, `reinspected` or `closed`.
    #[schema(value_type = String, example = "agreed")]
    pub status: CaseStatus,
    /// Deadline agreed with the household.
    pub agreed_deadline: Option<NaiveDate>,
    /// `household`, `property` or `law_enforcement`.
    #[schema(value_type = Option<String>)]
    pub handled_by: Option<HandledBy>,
    /// The service request it belongs with.
    pub request_id: Option<i64>,
    /// The same problem was found at this spot before.
    pub recurrence: bool,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Closed (销号).
    pub closed_at: Option<DateTime<Utc>>,
    /// Version, to send back with a step.
    pub version: i64,
}

impl TryFrom<Case> for CaseView {
    type Error = AppError;

    /// A code the product does not know, read from the database, is a fault.
    fn try_from(c: Case) -> Result<Self> {
        let broken = |what: &str, code: &str| AppError::Internal(format!("case {} has unknown {what} {code:?}", c.id));
        let kind = FindingType::parse(&c.kind).ok_or_else(|| broken("type", &c.kind))?;
        let status = CaseStatus::parse(&c.status).ok_or_else(|| broken("status", &c.status))?;
        let handled_by = match c.handled_by.as_deref() {
            Some(code) => Some(HandledBy::parse(code).ok_or_else(|| broken("handler", code))?),
            None => None,
        };
        Ok(Self {
            id: c.id,
            community_id: c.community_id,
            number: c.number,
            finding_id: c.finding_id,
            kind,
            place_text: c.place_text,
            building_id: c.building_id,
            household_id: c.household_id,
            status,
            agreed_deadline: c.agreed_deadline,
            handled_by,
            request_id: c.request_id,
            recurrence: c.recurrence,
            opened_at: c.opened_at,
            closed_at: c.closed_at,
            version: c.version,
        })
    }
}

/// A step recorded on a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    /// `notice`, `visit`, `handle`, `reinspect`, `close` or `link`.
    pub kind: String,
    /// Visit outcome, handler, re-inspection result or the linked request's number.
    pub outcome: Option<String>,
    /// What was said or done.
    pub note: String,
    /// Deadline agreed at this step.
    pub deadline: Option<NaiveDate>,
    /// The photo's address.
    pub photo: Option<String>,
    /// Who.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The request a case is linked with, by its number.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkedRequest {
    /// Id.
    pub id: i64,
    /// Readable number.
    pub number: String,
}

/// A building as it was delivered, to compare against.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BaselineView {
    /// Id.
    pub id: i64,
    /// What it looked like.
    pub note: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The photo's address.
    pub photo: Option<String>,
}

fn photo_url(blob: &str) -> String {
    format!("/api/v1/patrol/photos/{blob}")
}

/// A case with its steps, the finding that opened it, its building's baselines, and the steps the caller may record
/// now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    /// The case.
    #[serde(flatten)]
    pub case: CaseView,
    /// Steps, oldest first.
    pub steps: Vec<StepView>,
    /// The finding that opened it.
    pub finding: FindingView,
    /// The finding's photos' addresses.
    pub finding_photos: Vec<String>,
    /// Visits made.
    pub visits: usize,
    /// The steps the caller may record now.
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<CaseStep>,
    /// The linked request.
    pub request: Option<LinkedRequest>,
    /// The building's baselines.
    pub baselines: Vec<BaselineView>,
}

/// A case the caller may see; any other reads as absent.
async fn visible_case(app: &App, caller: &Caller, id: i64) -> Result<(Case, CaseView)> {
    let c = app.store.case(id).await?;
    let view = CaseView::try_from(c.clone())?;
    if !may_view_case(&caller.actor, view.community_id, view.handled_by) {
        return Err(AppError::NotFound);
    }
    Ok((c, view))
}

/// `?open=&building_id=&community_id=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// Only open cases (default true).
    pub open: Option<bool>,
    /// One building.
    pub building_id: Option<i64>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Cases the caller may see: open ones oldest first.
pub async fn cases(app: &App, caller: &Caller, q: &CasesQuery) -> Result<Vec<CaseView>> {
    let c = caller.community(q.community_id)?;
    caller.require(Action::ViewPatrol, Scope::community(c))?;
    let mut out = Vec::new();
    for case in app.store.cases(c, q.open.unwrap_or(true), q.building_id, 500).await? {
        let view = CaseView::try_from(case)?;
        if may_view_case(&caller.actor, view.community_id, view.handled_by) {
            out.push(view);
        }
    }
    Ok(out)
}

/// A case with everything its page shows.
pub async fn case(app: &App, caller: &Caller, id: i64) -> Result<CaseDetail> {
    let (_, view) = visible_case(app, caller, id).await?;
    let actions = available_steps(&caller.actor, view.community_id, view.handled_by, view.status);
    let steps: Vec<StepView> = app
        .store
        .case_steps(id)
        .await?
        .into_iter()
        .map(|s| StepView {
            kind: s.kind,
            outcome: s.outcome,
            note: s.note,
            deadline: s.deadline,
            photo: s.photo_blob.as_deref().map(photo_url),
            actor: s.actor,
            at: s.at,
        })
        .collect();
    let finding = with_photos(app, vec![app.store.finding(view.finding_id).await?]).await?.remove(0);
    let request = match view.request_id {
        Some(r) => {
            let r = app.store.request(r).await?;
            Some(LinkedRequest { id: r.id, number: r.number })
        }
        None => None,
    };
    let baselines = match view.building_id {
        Some(b) => baselines_of(app, b).await?,
        None => Vec::new(),
    };
    Ok(CaseDetail {
        visits: steps.iter().filter(|s| s.kind == "visit").count(),
        finding_photos: finding.photos.clone(),
        case: view,
        steps,
        finding,
        actions,
        request,
        baselines,
    })
}

/// A step to record on a case.
#[derive(Debug, Clone, Default)]
pub struct StepReport {
    /// `visit`, `handle`, `reinspect`, `close` or `link`.
    pub action: Option<String>,
    /// Visit outcome: `refused`, `explained` or `agreed`.
    pub outcome: Option<String>,
    /// Deadline agreed, a Beijing date.
    pub deadline: Option<String>,
    /// `household`, `property` or `law_enforcement`.
    pub handled_by: Option<String>,
    /// The re-inspection passed.
    pub passed: bool,
    /// The request to link, by id …
    pub request_id: Option<i64>,
    /// … or by its number.
    pub request_number: Option<String>,
    /// What was said or done.
    pub note: Option<String>,
    /// The case's version as last read.
    pub version: Option<i64>,
    /// Photos as uploaded (one at most).
    pub photos: Vec<Vec<u8>>,
}

/// Checks a step with the case rules and records it.
pub async fn record_step(app: &App, caller: &Caller, id: i64, report: StepReport) -> Result<CaseDetail> {
    let (c, view) = visible_case(app, caller, id).await?;
    let action = report.action.as_deref().unwrap_or_default();
    if !may_record_case_step(&caller.actor, view.community_id, view.handled_by, action == "reinspect") {
        return Err(AppError::Forbidden);
    }
    if report.version.is_some_and(|v| v != c.version) {
        return Err(AppError::Conflict("案件已被他人更新，请刷新 / the case was changed by someone else".into()));
    }
    let note = report.note.unwrap_or_default();
    if note.chars().count() > 1000 {
        return Err(AppError::field("note", "说明最多 1000 字 / at most 1000 characters"));
    }
    if report.photos.len() > 1 {
        return Err(AppError::field("photo", "每一步最多 1 张照片 / one photo per step"));
    }
    let community = view.community_id;
    let (command, kind, outcome, deadline, handled_by, request_id) = match action {
        "visit" => {
            let outcome = report.outcome.as_deref().and_then(VisitOutcome::parse).ok_or_else(|| {
                AppError::field("outcome", "请选择走访结果：拒绝、已解释或同意 / choose refused, explained or agreed")
            })?;
            let deadline = optional_date("deadline", report.deadline.as_deref())?;
            (CaseCommand::Visit { outcome, deadline }, "visit", Some(outcome.code().to_string()), deadline, None, None)
        }
        "handle" => {
            let by = report.handled_by.as_deref().and_then(HandledBy::parse).ok_or_else(|| {
                AppError::field(
                    "handled_by",
                    "请选择处置方：住户、物业或执法 / choose household, property or law enforcement",
                )
            })?;
            (CaseCommand::Handle { by }, "handle", Some(by.code().to_string()), None, Some(by.code().to_string()), None)
        }
        "reinspect" => {
            let passed = report.passed;
            let command = CaseCommand::Reinspect { passed, photo: !report.photos.is_empty() };
            (command, "reinspect", Some(if passed { "passed" } else { "failed" }.to_string()), None, None, None)
        }
        "close" => (CaseCommand::Close, "close", None, None, None, None),
        "link" => return link(app, caller, &c, &view, report.request_id, report.request_number, note).await,
        _ => {
            return Err(AppError::field(
                "action",
                "请选择操作：走访、处置、复查、销号或关联诉求 / choose visit, handle, reinspect, close or link",
            ));
        }
    };
    let next = decide(view.status, &command, app.clock.today()).map_err(refused)?;
    // The photo is checked and kept only once the step is allowed.
    let photo = match report.photos.into_iter().next() {
        Some(p) => {
            let kept = photos::keep(&app.blobs, &app.store, photos::take_in(p).await?).await?;
            Some((kept.blob.clone(), kept.media_type().to_string()))
        }
        None => None,
    };
    let update = CaseUpdate {
        kind: kind.into(),
        outcome,
        note,
        deadline,
        photo,
        status: next.code().into(),
        handled_by,
        request_id,
    };
    let change = caller.change(app.clock.now(), &format!("case.{kind}"), Some(community));
    app.store.update_case(&c, &update, change).await?;
    case(app, caller, id).await
}

/// Links the service request the case belongs with, by its id or by the number people read off it.
async fn link(
    app: &App,
    caller: &Caller,
    c: &Case,
    view: &CaseView,
    request_id: Option<i64>,
    request_number: Option<String>,
    note: String,
) -> Result<CaseDetail> {
    if view.status == CaseStatus::Closed {
        return Err(refused(CaseError::Closed));
    }
    let unknown = || AppError::field("request_id", "诉求不存在 / unknown request");
    let found = match (request_id, request_number.as_deref().map(str::trim).filter(|n| !n.is_empty())) {
        (Some(rid), _) => app.store.request(rid).await.map_err(|e| match e {
            StoreError::NotFound => unknown(),
            other => other.into(),
        })?,
        (None, Some(number)) => app.store.request_by_number(view.community_id, number).await.map_err(|e| match e {
            StoreError::NotFound => {
                AppError::field("request_number", "找不到这个诉求编号 / no request with this number")
            }
            other => other.into(),
        })?,
        (None, None) => return Err(AppError::field("request_id", "请填写诉求编号 / give the request number")),
    };
    // A request of another community reads as unknown: its existence is not the caller's to learn.
    if found.community_id != view.community_id {
        return Err(unknown());
    }
    let update = CaseUpdate {
        kind: "link".into(),
        outcome: Some(found.number.clone()),
        note,
        deadline: None,
        photo: None,
        status: c.status.clone(),
        handled_by: None,
        request_id: Some(found.id),
    };
    let change = caller.change(app.clock.now(), "case.link", Some(view.community_id));
    app.store.update_case(c, &update, change).await?;
    case(app, caller, c.id).await
}

/// A building on the board.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BoardBuildingView {
    /// Compound.
    pub compound_name: String,
    /// Building.
    pub building_id: i64,
    /// Its number.
    pub building_number: i64,
    /// Open illegal-construction cases.
    pub open_cases: i64,
    /// When the oldest of them opened.
    pub oldest: DateTime<Utc>,
    /// Its age in days.
    pub oldest_days: i64,
    /// Recurrences among them.
    pub recurrences: i64,
}

/// The zero-illegal-construction board.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Board {
    /// Open illegal-construction cases in the community.
    pub open: i64,
    /// By building, most first.
    pub buildings: Vec<BoardBuildingView>,
    /// Open cases at the end of each of the last twelve weeks.
    #[schema(value_type = Vec<Object>)]
    pub trend: Vec<(NaiveDate, i64)>,
    /// Closed in the last 30 days.
    pub closed_30_days: i64,
}

/// The zero-illegal-construction board of a community: open cases by compound and building with their age, and the
/// trend over twelve weeks. Counts, so everyone who sees patrols sees them.
pub async fn board(app: &App, caller: &Caller, community_id: Option<i64>) -> Result<Board> {
    let c = caller.community(community_id)?;
    caller.require(Action::ViewPatrol, Scope::community(c))?;
    let now = app.clock.now();
    let b = app.store.zero_board(c, now).await?;
    let buildings = b
        .buildings
        .into_iter()
        .map(|x| BoardBuildingView {
            oldest_days: (now - x.oldest).num_days(),
            compound_name: x.compound_name,
            building_id: x.building_id,
            building_number: x.building_number,
            open_cases: x.open_cases,
            oldest: x.oldest,
            recurrences: x.recurrences,
        })
        .collect();
    Ok(Board { open: b.open, buildings, trend: b.trend, closed_30_days: b.closed_30_days })
}

async fn baselines_of(app: &App, building: i64) -> Result<Vec<BaselineView>> {
    Ok(app
        .store
        .baselines(building)
        .await?
        .into_iter()
        .map(|b| BaselineView {
            id: b.id,
            note: b.note,
            recorded_at: b.recorded_at,
            photo: b.blob.as_deref().map(photo_url),
        })
        .collect())
}

/// A building's baselines, to compare cases against.
pub async fn baselines(app: &App, caller: &Caller, building_id: i64) -> Result<Vec<BaselineView>> {
    let b = app.store.building(building_id).await?;
    caller.require(Action::ViewPatrol, Scope::building(b.community_id, building_id))?;
    baselines_of(app, building_id).await
}

/// Records a building's delivery-day baseline: what it looked like, with an optional photo.
pub async fn add_baseline(
    app: &App,
    caller: &Caller,
    building_id: i64,
    note: Option<&str>,
    photos: Vec<Vec<u8>>,
) -> Result<Vec<BaselineView>> {
    let b = app.store.building(building_id).await?;
    caller.require(Action::ManagePatrol, Scope::building(b.community_id, building_id))?;
    let note = note.map(str::trim).unwrap_or_default();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(AppError::field("note", "请描述交付时的样子（最多 500 字）/ describe the building as delivered"));
    }
    if photos.len() > 1 {
        return Err(AppError::field("photo", "每次 1 张照片 / one photo at a time"));
    }
    let photo = match photos.into_iter().next() {
        Some(p) => {
            let kept = photos::keep(&app.blobs, &app.store, photos::take_in(p).await?).await?;
            Some((kept.blob.clone(), kept.media_type().to_string()))
        }
        None => None,
    };
    let change = caller.change(app.clock.now(), "building.baseline", Some(b.community_id));
    app.store.add_baseline(building_id, b.community_id, note, photo, change).await?;
    baselines_of(app, building_id).await
}
