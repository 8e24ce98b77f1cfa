//! The tri-party joint meeting (联席会): scheduled, held with attendance, minutes and resolutions, each resolution an
//! action owned by one party with a person and a due date; and the progress the parties report on them.
//!
//! Everyone who sees patrols sees the meetings; the property company and the developer see and update their own
//! party's actions, staff every action.

use crate::period::{beijing_time, optional_date};
use crate::{App, AppError, Caller, FieldIssue, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::patrol::meetings::{ActionItem, AgendaItem, Party, agenda};
use wujia_store::{Meeting, MeetingAction, StoreError};

/// The party a property or developer account answers for.
pub fn own_party(caller: &Caller) -> Option<Party> {
    match caller.role() {
        Role::Property => Some(Party::Property),
        Role::Developer => Some(Party::Developer),
        _ => None,
    }
}

/// The party whose items a caller is shown: the property company and the developer always their own, others the
/// one they ask for (or all).
pub fn party_shown(caller: &Caller, requested: Option<&str>) -> Result<Option<Party>> {
    if let Some(own) = own_party(caller) {
        return Ok(Some(own));
    }
    match requested.map(str::trim).filter(|p| !p.is_empty()) {
        Some(code) => Party::parse(code).map(Some).ok_or_else(|| {
            AppError::field("party", "责任方应为 community、property、developer 或 street / unknown party")
        }),
        None => Ok(None),
    }
}

/// Whether a meeting is still to come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// Scheduled.
    Planned,
    /// Held, with its minutes.
    Held,
}

impl MeetingStatus {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Held => "held",
        }
    }
}

/// A joint meeting.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Title, e.g. 2024年6月联席会.
    pub title: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Place.
    pub place: String,
    /// Planned or held.
    pub status: MeetingStatus,
    /// Minutes, once held.
    pub minutes: String,
    /// When it was recorded as held.
    pub held_at: Option<DateTime<Utc>>,
}

impl TryFrom<&Meeting> for MeetingView {
    type Error = AppError;

    fn try_from(m: &Meeting) -> Result<Self> {
        let status = match m.status.as_str() {
            "planned" => MeetingStatus::Planned,
            "held" => MeetingStatus::Held,
            other => return Err(AppError::Internal(format!("meeting {} has unknown status {other:?}", m.id))),
        };
        Ok(Self {
            id: m.id,
            community_id: m.community_id,
            title: m.title.clone(),
            starts_at: m.starts_at,
            place: m.place.clone(),
            status,
            minutes: m.minutes.clone(),
            held_at: m.held_at,
        })
    }
}

/// Someone who attended, for a party.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attended {
    /// `community`, `property`, `developer` or `street`.
    #[schema(value_type = String, example = "property")]
    pub party: Party,
    /// Name.
    pub name: String,
}

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Still to be done.
    Open,
    /// Done.
    Done,
}

/// A resolution of a meeting, owned by one party.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Meeting.
    pub meeting_id: i64,
    /// What is to be done.
    pub title: String,
    /// Owning party: `community`, `property`, `developer` or `street`.
    #[schema(value_type = String, example = "property")]
    pub party: Party,
    /// Person answerable.
    pub owner: String,
    /// Due date.
    pub due: NaiveDate,
    /// Open or done.
    pub status: ActionStatus,
    /// What has been done so far.
    pub progress: String,
    /// A case it settles.
    pub case_id: Option<i64>,
    /// Done.
    pub done_at: Option<DateTime<Utc>>,
    /// Version, to send back with progress.
    pub version: i64,
    /// The caller may record progress on it now.
    pub editable: bool,
}

impl ActionView {
    /// An action as `caller` sees it. A party or status code the product does not know is a fault.
    fn for_caller(caller: &Caller, a: MeetingAction) -> Result<Self> {
        let broken =
            |what: &str, code: &str| AppError::Internal(format!("action {} has unknown {what} {code:?}", a.id));
        let party = Party::parse(&a.party).ok_or_else(|| broken("party", &a.party))?;
        let status = match a.status.as_str() {
            "open" => ActionStatus::Open,
            "done" => ActionStatus::Done,
            other => return Err(broken("status", other)),
        };
        let editable = status == ActionStatus::Open && may_update(caller, a.community_id, party);
        Ok(Self {
            id: a.id,
            community_id: a.community_id,
            meeting_id: a.meeting_id,
            title: a.title,
            party,
            owner: a.owner,
            due: a.due,
            status,
            progress: a.progress,
            case_id: a.case_id,
            done_at: a.done_at,
            version: a.version,
            editable,
        })
    }

    /// Open past its due date on `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status == ActionStatus::Open && self.due < today
    }
}

/// Staff update every action; the property company and the developer their own party's.
fn may_update(caller: &Caller, community: i64, party: Party) -> bool {
    let scope = Scope::community(community);
    caller.can(Action::ManagePatrol, scope)
        || (caller.can(Action::UpdateMeetingActions, scope) && own_party(caller) == Some(party))
}

fn actions_for(caller: &Caller, list: Vec<MeetingAction>) -> Result<Vec<ActionView>> {
    list.into_iter().map(|a| ActionView::for_caller(caller, a)).collect()
}

/// A meeting with its attendance, its agenda (built now while planned; as it stood when held) and its actions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingDetail {
    /// The meeting.
    #[serde(flatten)]
    pub meeting: MeetingView,
    /// Who attended.
    pub attendance: Vec<Attended>,
    /// Carried actions, open cases and overdue requests, in that order.
    #[schema(value_type = Vec<Object>)]
    pub agenda: Vec<AgendaItem>,
    /// Its resolutions.
    pub actions: Vec<ActionView>,
}

/// A meeting to schedule.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewMeeting {
    /// Title, e.g. 2024年6月联席会.
    pub title: String,
    /// Start, Beijing time: `2024-06-20T14:00`.
    pub starts_at: String,
    /// Place.
    pub place: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Schedules a joint meeting.
pub async fn schedule(app: &App, caller: &Caller, new: &NewMeeting) -> Result<MeetingView> {
    let c = caller.community(new.community_id)?;
    caller.require(Action::ManagePatrol, Scope::community(c))?;
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        return Err(AppError::field(
            "title",
            "请填写会议名称（最多 100 字）/ name the meeting (at most 100 characters)",
        ));
    }
    let at = beijing_time("starts_at", &new.starts_at)?;
    let place = new.place.as_deref().map(str::trim).filter(|p| !p.is_empty()).unwrap_or("社区议事厅");
    let m = app
        .store
        .create_meeting(c, title, at, place, caller.change(app.clock.now(), "meeting.create", Some(c)))
        .await?;
    MeetingView::try_from(&m)
}

/// Joint meetings, newest first.
pub async fn meetings(app: &App, caller: &Caller, community_id: Option<i64>) -> Result<Vec<MeetingView>> {
    let c = caller.community(community_id)?;
    caller.require(Action::ViewPatrol, Scope::community(c))?;
    app.store.meetings(c).await?.iter().map(MeetingView::try_from).collect()
}

/// A meeting, for those who see patrols of its community.
pub async fn meeting(app: &App, caller: &Caller, id: i64) -> Result<MeetingDetail> {
    let m = app.store.meeting(id).await?;
    if !caller.can(Action::ViewPatrol, Scope::community(m.community_id)) {
        return Err(AppError::NotFound);
    }
    let broken = |what: &str| AppError::Internal(format!("meeting {id} has an unreadable {what}"));
    let agenda = match &m.agenda {
        Some(kept) => serde_json::from_str(kept).map_err(|_| broken("agenda"))?,
        None => current_agenda(app, m.community_id, m.starts_at).await?,
    };
    let attendance = serde_json::from_str(&m.attendance).map_err(|_| broken("attendance"))?;
    let actions = actions_for(caller, app.store.actions_of_meeting(id).await?)?;
    Ok(MeetingDetail { meeting: MeetingView::try_from(&m)?, attendance, agenda, actions })
}

/// The agenda of a meeting at `at`, from what is open now.
async fn current_agenda(app: &App, community: i64, at: DateTime<Utc>) -> Result<Vec<AgendaItem>> {
    let at = at.max(app.clock.now());
    let (actions, cases, late) = app.store.agenda_inputs(community, at).await?;
    Ok(agenda(&actions, &cases, &late, at, at.with_timezone(&Shanghai).date_naive()))
}

/// One attendee as typed.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Attendee {
    /// `community`, `property`, `developer` or `street`.
    pub party: String,
    /// Name.
    pub name: String,
}

/// A resolution as typed.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewAction {
    /// What is to be done.
    pub title: String,
    /// Owning party.
    pub party: String,
    /// Person answerable.
    pub owner: String,
    /// Due date.
    pub due: Option<String>,
    /// A case it settles.
    pub case_id: Option<i64>,
}

/// The minutes of a meeting.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Minutes {
    /// Who attended.
    pub attendance: Vec<Attendee>,
    /// Minutes.
    pub minutes: String,
    /// Resolutions.
    #[serde(default)]
    pub actions: Vec<NewAction>,
}

/// Records a meeting as held: attendance, minutes, and resolutions as actions; the agenda is kept as it stood.
/// Every problem is reported at once, each naming its row (`actions[1].owner`).
pub async fn hold(app: &App, caller: &Caller, id: i64, b: &Minutes) -> Result<MeetingDetail> {
    let m = app.store.meeting(id).await?;
    if !caller.can(Action::ViewPatrol, Scope::community(m.community_id)) {
        return Err(AppError::NotFound);
    }
    caller.require(Action::ManagePatrol, Scope::community(m.community_id))?;
    let mut issues = Vec::new();
    let mut attendance = Vec::new();
    for (i, a) in b.attendance.iter().enumerate() {
        match Party::parse(a.party.trim()) {
            Some(party) if !a.name.trim().is_empty() => attendance.push(Attended { party, name: a.name.trim().into() }),
            _ => issues
                .push(FieldIssue::new(&format!("attendance[{i}]"), "请填写参会方和姓名 / give the party and the name")),
        }
    }
    if b.minutes.trim().is_empty() {
        issues.push(FieldIssue::new("minutes", "请填写会议纪要 / write the minutes"));
    }
    let mut actions = Vec::new();
    for (i, a) in b.actions.iter().enumerate() {
        let due = match optional_date("due", a.due.as_deref()) {
            Ok(d) => d,
            Err(_) => {
                issues.push(FieldIssue::new(
                    &format!("actions[{i}].due"),
                    "日期格式应为 2024-06-03 / a date like 2024-06-03",
                ));
                continue;
            }
        };
        match ActionItem::parse(&a.title, &a.party, &a.owner, due) {
            Ok(item) => actions.push((item, a.case_id)),
            Err(errs) => issues
                .extend(errs.into_iter().map(|e| FieldIssue::new(&format!("actions[{i}].{}", e.field), e.message))),
        }
    }
    if !issues.is_empty() {
        return Err(AppError::Validation(issues));
    }
    for (i, (_, case)) in actions.iter().enumerate() {
        if let Some(c) = case {
            let same_community = match app.store.case(*c).await {
                Ok(found) => found.community_id == m.community_id,
                Err(StoreError::NotFound) => false,
                Err(e) => return Err(e.into()),
            };
            if !same_community {
                return Err(AppError::field(&format!("actions[{i}].case_id"), "案件不存在 / unknown case"));
            }
        }
    }
    let agenda = serde_json::to_value(current_agenda(app, m.community_id, m.starts_at).await?)
        .map_err(|e| AppError::Internal(format!("agenda: {e}")))?;
    let attendance = serde_json::to_value(&attendance).map_err(|e| AppError::Internal(format!("attendance: {e}")))?;
    let change = caller.change(app.clock.now(), "meeting.hold", Some(m.community_id));
    app.store.hold_meeting(&m, &attendance, b.minutes.trim(), &agenda, &actions, change).await?;
    meeting(app, caller, id).await
}

/// `?party=&open=&community_id=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionsQuery {
    /// One party's actions. Property and developer accounts always see their own party's.
    pub party: Option<String>,
    /// Only open actions (default true).
    pub open: Option<bool>,
    /// The community.
    pub community_id: Option<i64>,
}

/// Joint-meeting actions, open ones by due date.
pub async fn actions(app: &App, caller: &Caller, q: &ActionsQuery) -> Result<Vec<ActionView>> {
    let c = caller.community(q.community_id)?;
    caller.require(Action::ViewPatrol, Scope::community(c))?;
    let party = party_shown(caller, q.party.as_deref())?;
    let list = app.store.meeting_actions(c, q.open.unwrap_or(true), party.map(Party::code)).await?;
    actions_for(caller, list)
}

/// Progress on an action.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ActionProgress {
    /// What has been done so far.
    pub progress: String,
    /// Done.
    #[serde(default)]
    pub done: bool,
    /// The version last read.
    pub version: i64,
}

/// Records progress on an action; property and developer accounts update their own party's.
pub async fn record_progress(app: &App, caller: &Caller, id: i64, b: &ActionProgress) -> Result<ActionView> {
    let a = app.store.meeting_action(id).await?;
    let scope = Scope::community(a.community_id);
    if !caller.can(Action::ViewPatrol, scope) {
        return Err(AppError::NotFound);
    }
    let party = Party::parse(&a.party)
        .ok_or_else(|| AppError::Internal(format!("action {id} has unknown party {:?}", a.party)))?;
    if !may_update(caller, a.community_id, party) {
        return Err(AppError::Forbidden);
    }
    let text = b.progress.trim();
    if text.is_empty() || text.chars().count() > 500 {
        return Err(AppError::field(
            "progress",
            "请填写进展（最多 500 字）/ describe the progress (at most 500 characters)",
        ));
    }
    if b.version != a.version {
        return Err(AppError::Conflict("事项已被他人更新，请刷新 / the action was changed by someone else".into()));
    }
    let change = caller.change(app.clock.now(), "meeting_action.update", Some(a.community_id));
    let saved = app.store.update_meeting_action(&a, text, b.done, change).await?;
    ActionView::for_caller(caller, saved)
}

/// The caller's patrol rounds from a week ago to four weeks ahead, for a calendar feed.
pub async fn calendar_rounds(app: &App, caller: &Caller) -> Result<Vec<wujia_store::Round>> {
    let zones = app.store.zones_of(caller.user.id).await?;
    let today = app.clock.today();
    let mut out = Vec::new();
    for c in &caller.actor.communities {
        let rounds = app.store.rounds(*c, None, today - chrono::Duration::days(7), today + chrono::Duration::days(28));
        out.extend(rounds.await?.into_iter().filter(|r| zones.contains(&r.zone_id)));
    }
    Ok(out)
}

/// The joint meetings of the caller's communities where it sees patrols, for a calendar feed.
pub async fn calendar_meetings(app: &App, caller: &Caller) -> Result<Vec<MeetingView>> {
    let mut out = Vec::new();
    for c in &caller.actor.communities {
        if caller.can(Action::ViewPatrol, Scope::community(*c)) {
            out.extend(app.store.meetings(*c).await?.iter().map(MeetingView::try_from).collect::<Result<Vec<_>>>()?);
        }
    }
    Ok(out)
}
