//! Resident requests (接诉即办): taking in, the queue, one request with its history, the workflow, the three rates.
//!
//! Who may see a request and how much of its contact they are shown is decided by
//! [`wujia_core::requests::may_view_request`] and [`wujia_core::requests::contact_disclosure`], here, for every face.

pub mod hotline;
pub mod public;
mod views;

pub use views::{CategoryView, RateDefinitions, RequestDetail, RequestView, RequestsSummary, TimelineEntry};

use crate::intake::Draft;
use crate::{App, AppError, Caller, FieldIssue, Result, notify};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use wujia_core::accounts::{Action, Role, Scope};
use wujia_core::registry::PhoneNumber;
use wujia_core::requests::{
    CallbackPhone, Channel, Command, Disclosure, Limit, RequestActor, RequestParties, RequestState, Status,
    WorkCalendar, available, contact_disclosure, decide, may_view_request,
};
use wujia_store::{Category, NewRequest, RequestFilter, RequestRow, RequestUpdate, StoreError};

/// A request to take in, from any channel.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"category_id": 12, "description": "东门路灯不亮了，晚上回家看不清路。", "channel": "phone", "location": "东门"}))]
pub struct TakeIn {
    /// A leaf category of the catalogue.
    pub category_id: i64,
    /// What the resident needs.
    pub description: String,
    /// Channel: set by staff (`phone`, `walk_in`, `wechat`, `reception_day`, `patrol`, `hotline_12345`); residents use `portal`.
    pub channel: Option<String>,
    /// The household, when the request concerns one.
    pub household_id: Option<i64>,
    /// Where, when not a household (e.g. 地下车库 B2).
    pub location: Option<String>,
    /// Who asked (defaults to the resident's account name).
    pub contact_name: Option<String>,
    /// A phone to call back.
    pub contact_phone: Option<String>,
    /// Answers to the category's questions.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// The city's 12345 order number (channel `hotline_12345`).
    pub external_no: Option<String>,
    /// The community; defaults to the caller's first.
    pub community_id: Option<i64>,
}

/// What the queue shows, parsed.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only these statuses; empty for all.
    pub statuses: Vec<Status>,
    /// Category code or prefix.
    pub category: Option<String>,
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Only this building.
    pub building_id: Option<i64>,
    /// Only requests the caller leads or co-handles.
    pub mine: bool,
    /// Only the buildings the caller looks after as their building social worker.
    pub my_buildings: bool,
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub to: Option<DateTime<Utc>>,
    /// At most this many (the store clamps it).
    pub limit: i64,
    /// The community; the caller's first by default.
    pub community_id: Option<i64>,
}

/// The period of a summary, in Beijing days.
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    /// From, inclusive; the beginning of records when absent.
    pub from: Option<NaiveDate>,
    /// To, exclusive; tomorrow when absent (everything received up to now).
    pub to: Option<NaiveDate>,
    /// The community; the caller's first by default.
    pub community_id: Option<i64>,
}

fn issue(field: &str, message: &str) -> FieldIssue {
    FieldIssue::new(field, message)
}

/// The co-handlers of a stored request; a value that is not a list of ids is a fault, never an empty list.
fn co_handlers(r: &RequestRow) -> Result<Vec<i64>> {
    serde_json::from_str(&r.co_handlers)
        .map_err(|e| AppError::Internal(format!("request {} has unreadable co-handlers: {e}", r.id)))
}

fn parties<'a>(r: &RequestRow, co: &'a [i64]) -> RequestParties<'a> {
    RequestParties {
        community: r.community_id,
        building: r.building_id,
        household: r.household_id,
        lead: r.lead_id,
        co_handlers: co,
    }
}

/// Whether `caller` may see the request at all.
pub fn may_view(caller: &Caller, r: &RequestRow) -> Result<bool> {
    Ok(may_view_request(&caller.actor, &parties(r, &co_handlers(r)?)))
}

fn masked(phone: &str) -> String {
    match PhoneNumber::parse(phone) {
        Ok(n) => n.masked(),
        Err(_) => {
            let tail: String = phone.chars().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect();
            format!("****{tail}")
        }
    }
}

/// How a view is being read: decides whether a full contact is shown and whether the read is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// One request, opened by the caller: full contact where the rules allow, and the read audited.
    One,
    /// A list: minimum necessary, so contacts are masked except for the household's own.
    List,
    /// The answer to the caller's own write: the write's event is the record.
    Written,
}

/// Shapes a stored request for `caller`; returns the view and whether a full contact was shown to someone other
/// than the household (to be audited).
fn view(caller: &Caller, r: RequestRow, reading: Reading) -> Result<(RequestView, bool)> {
    let co = co_handlers(&r)?;
    let disclosure = contact_disclosure(&caller.actor, &parties(&r, &co));
    let full = match reading {
        Reading::List => disclosure == Disclosure::Own,
        Reading::One | Reading::Written => disclosure.is_full(),
    };
    let audited = reading == Reading::One && disclosure == Disclosure::Audited && r.contact_phone.is_some();
    let answers = match serde_json::from_str::<serde_json::Value>(&r.answers) {
        Ok(serde_json::Value::Object(m)) => m,
        Ok(_) | Err(_) => {
            return Err(AppError::Internal(format!("request {} has unreadable answers", r.id)));
        }
    };
    let phone = r.contact_phone.as_deref().map(|p| if full { p.to_string() } else { masked(p) });
    let is_masked = phone.is_some() && !full;
    Ok((RequestView::of(r, co, answers, phone, is_masked), audited))
}

/// Writes the audit event for a full read of a request's contact.
async fn record_contact_read(app: &App, caller: &Caller, v: &RequestView) -> Result<()> {
    let mut change = caller.change(app.clock.now(), "request.read_contact", Some(v.community_id));
    change.entity = "request".into();
    change.entity_id = v.id.to_string();
    change.after = serde_json::json!({"fields": ["contact_phone"], "number": v.number});
    app.store.record(&change).await?;
    Ok(())
}

/// The deadline of `limit` from `start`. When it was counted across a year without a holiday arrangement it
/// follows the weekend rule there and may be wrong: the deadline stands, and the log says so.
pub(crate) fn deadline(calendar: &WorkCalendar, limit: Limit, start: DateTime<Utc>) -> DateTime<Utc> {
    let counted = limit.deadline_checked(calendar, start);
    if !counted.unarranged_years.is_empty() {
        tracing::warn!(
            years = ?counted.unarranged_years, %start, due = %counted.at,
            "a working-day deadline was counted across a year without a holiday arrangement (weekends only); \
             record the year at /admin/calendar"
        );
    }
    counted.at
}

/// The catalogue with each category's time limits, parents before children.
pub async fn categories(app: &App, _caller: &Caller) -> Result<Vec<CategoryView>> {
    catalogue(app).await
}

/// The catalogue, for anyone (it is public: Open311 lists it as its services).
async fn catalogue(app: &App) -> Result<Vec<CategoryView>> {
    app.store
        .categories()
        .await?
        .into_iter()
        .map(|c| {
            let questions = serde_json::from_str(&c.questions)
                .map_err(|e| AppError::Internal(format!("category {} has unreadable questions: {e}", c.id)))?;
            Ok(CategoryView::of(c, questions))
        })
        .collect()
}

/// A category that exists; absent is `None`, a failed lookup an error.
async fn category(app: &App, id: i64) -> Result<Option<Category>> {
    match app.store.category(id).await {
        Ok(c) => Ok(Some(c)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Checks and records a new request for the caller; `fixed` is the channel of the interface it came through
/// (Open311, 12345 imports), which the caller cannot choose.
pub async fn take_in(app: &App, caller: &Caller, b: &TakeIn, fixed: Option<Channel>) -> Result<RequestView> {
    let now = app.clock.now();
    let resident = matches!(caller.role(), Role::Resident | Role::Volunteer);
    let mut issues = Vec::new();
    let household_id = if resident { caller.actor.household } else { b.household_id };
    let household = match household_id {
        Some(h) => match app.store.household(h, app.clock.today()).await {
            Ok(h) => Some(h),
            Err(StoreError::NotFound) => return Err(AppError::field("household_id", "住户不存在 / unknown household")),
            Err(e) => return Err(e.into()),
        },
        None if resident => {
            return Err(AppError::field("household_id", "账号尚未关联住户 / the account has no household"));
        }
        None => None,
    };
    let community = match &household {
        Some(h) => h.community_id,
        None => caller.community(b.community_id)?,
    };
    let scope = match &household {
        Some(h) => Scope::household(h.community_id, h.building_id, h.id),
        None => Scope::community(community),
    };
    // A household of a community the caller does not work in reads as absent.
    if !caller.actor.communities.contains(&community) && caller.role() != Role::Admin {
        return Err(AppError::NotFound);
    }
    caller.require(Action::SubmitRequest, scope)?;
    let channel = match (fixed, resident, b.channel.as_deref()) {
        (Some(c), _, _) => c,
        (None, true, _) => Channel::Portal,
        (None, false, None) => Channel::Phone,
        (None, false, Some(c)) => match Channel::from_code(c) {
            Some(Channel::Portal | Channel::Open311) | None => {
                issues.push(issue(
                    "channel",
                    "渠道应为 phone、walk_in、wechat、reception_day、patrol 或 hotline_12345 / unknown channel",
                ));
                Channel::Phone
            }
            Some(ch) => ch,
        },
    };
    let category = category(app, b.category_id).await?.filter(|c| c.active && c.is_leaf());
    if category.is_none() {
        issues.push(issue(
            "category_id",
            "未知或不可选的类别,请选择第三级类别 / unknown category: choose a third-level category",
        ));
    }
    let description = b.description.trim();
    if description.is_empty() || description.chars().count() > 2000 {
        issues.push(issue("description", "请描述诉求(不超过 2000 字)/ describe the request (at most 2000 characters)"));
    }
    let location = match (&household, b.location.as_deref().map(str::trim)) {
        (Some(h), _) => h.address.clone(),
        (None, Some(l)) if !l.is_empty() && l.chars().count() <= 200 => l.to_string(),
        _ => {
            issues.push(issue("location", "请填写地点或选择住户 / give a place or a household"));
            String::new()
        }
    };
    let contact_phone = match b.contact_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) if channel.phone_is_free_text() => CallbackPhone::lenient(p).map(|p| p.as_str().to_string()),
        Some(p) => match PhoneNumber::parse(p) {
            Ok(n) => Some(n.as_str().to_string()),
            Err(e) => {
                issues.push(issue("contact_phone", &e.to_string()));
                None
            }
        },
    };
    let external_no = b.external_no.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string);
    if channel == Channel::Hotline12345 && external_no.is_none() {
        issues.push(issue("external_no", "12345 转办须填写工单号 / a 12345 order needs its order number"));
    }
    let Some(category) = category.filter(|_| issues.is_empty()) else {
        return Err(AppError::Validation(issues));
    };
    let sla = category.sla();
    let contact_name = b.contact_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map_or_else(
        || if resident { caller.user.display_name.clone() } else { String::new() },
        |n| n.chars().take(40).collect(),
    );
    let new = NewRequest {
        community_id: community,
        category_id: category.id,
        channel: channel.code().into(),
        description: description.to_string(),
        household_id: household.as_ref().map(|h| h.id),
        building_id: household.as_ref().map(|h| h.building_id),
        location,
        contact_name,
        contact_phone,
        answers: serde_json::Value::Object(b.answers.clone()).to_string(),
        external_no,
        submitted_by: Some(caller.user.id),
        received_at: now,
    };
    let notices =
        notify::on_create(app, community, new.household_id, &category, &new.location, &new.description, now).await?;
    let change = caller.change(now, "request.create", Some(community));
    let row = app.intake.create(Draft { request: new, sla, notices, change }).await?;
    Ok(view(caller, row, Reading::Written)?.0)
}

/// The queue: requests by what breaches first, with filters; each caller sees what it may, contacts masked.
pub async fn queue(app: &App, caller: &Caller, q: &QueueFilter) -> Result<Vec<RequestView>> {
    let community = caller.community(q.community_id)?;
    let mut f = RequestFilter {
        limit: if q.limit > 0 { q.limit } else { 100 },
        statuses: q.statuses.iter().map(|s| s.code().to_string()).collect(),
        channel: q.channel.map(|c| c.code().to_string()),
        category_code: q.category.clone().filter(|c| !c.is_empty()),
        building_id: q.building_id,
        from: q.from,
        to: q.to,
        ..Default::default()
    };
    if q.my_buildings {
        if caller.actor.buildings.is_empty() {
            return Ok(Vec::new());
        }
        f.building_ids = caller.actor.buildings.clone();
    }
    if q.mine {
        f.handler = Some(caller.user.id);
    } else if !caller.can(Action::ViewRequests, Scope::community(community)) {
        // Residents see their household's; handlers the ones they hold.
        match (caller.role(), caller.actor.household) {
            (Role::Resident | Role::Volunteer, Some(h)) => f.household_id = Some(h),
            _ => f.handler = Some(caller.user.id),
        }
    }
    listed(caller, app.store.requests(community, &f).await?)
}

/// Stored requests as a list shows them to `caller` (contacts masked but for the household's own). The caller
/// must have been allowed to see each.
pub fn listed(caller: &Caller, rows: Vec<RequestRow>) -> Result<Vec<RequestView>> {
    rows.into_iter().map(|r| Ok(view(caller, r, Reading::List)?.0)).collect()
}

/// A stored request the caller may see; one it may not reads as absent.
async fn visible(app: &App, caller: &Caller, id: i64) -> Result<RequestRow> {
    let r = app.store.request(id).await?;
    if may_view(caller, &r)? { Ok(r) } else { Err(AppError::NotFound) }
}

fn workflow_state(r: &RequestRow) -> Result<RequestState> {
    Ok(RequestState {
        status: Status::from_code(&r.status)
            .ok_or_else(|| AppError::Internal(format!("request {} has the unknown status {}", r.id, r.status)))?,
        lead: r.lead_id,
        co_handlers: co_handlers(r)?,
        paused: r.paused_reason.clone(),
        resolution: r.resolution.clone(),
    })
}

fn workflow_actor(caller: &Caller, community: i64) -> RequestActor {
    RequestActor {
        user_id: caller.user.id,
        is_staff: caller.can(Action::DispatchRequests, Scope::community(community)),
    }
}

/// One request with its history and the actions open to the caller; a full read of the contact is audited.
pub async fn get(app: &App, caller: &Caller, id: i64) -> Result<RequestDetail> {
    let r = visible(app, caller, id).await?;
    let actions = available(&workflow_state(&r)?, workflow_actor(caller, r.community_id));
    let mut events = app.store.entity_events("request", &id.to_string(), 500).await?;
    events.reverse();
    let ids: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    let names = app.store.display_names(&ids).await?;
    let timeline = events
        .into_iter()
        .map(|e| {
            let detail = serde_json::from_str(&e.after)
                .map_err(|err| AppError::Internal(format!("event {} has unreadable details: {err}", e.seq)))?;
            Ok(TimelineEntry {
                at: e.at,
                actor: e.actor_id.and_then(|a| names.get(&a).cloned()).unwrap_or(e.actor),
                action: e.action,
                detail,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let (request, audited) = view(caller, r, Reading::One)?;
    if audited {
        record_contact_read(app, caller, &request).await?;
    }
    Ok(RequestDetail { request, timeline, actions })
}

/// Checks that an account can hold a request: active, of a handling role, working in the community.
async fn check_handler(app: &App, id: i64, community: i64, street_only: bool, field: &str) -> Result<()> {
    let bad = || AppError::field(field, "不是本社区可承办的账号 / not an account that can handle requests here");
    let user = match app.store.user(id).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => return Err(bad()),
        Err(e) => return Err(e.into()),
    };
    let role = user.role();
    let ok_role = if street_only {
        role == Role::Street
    } else {
        matches!(role, Role::Staff | Role::SocialWorker | Role::Property | Role::Developer | Role::Street)
    };
    let actor = app.store.actor(&user).await?;
    if !user.active || !ok_role || !actor.communities.contains(&community) {
        return Err(bad());
    }
    Ok(())
}

/// Takes one step of a request's workflow for the caller, if the request is still at `version`.
pub async fn act(app: &App, caller: &Caller, id: i64, version: i64, command: &Command) -> Result<RequestView> {
    let before = visible(app, caller, id).await?;
    if before.version != version {
        return Err(AppError::Conflict(
            "诉求已被他人处理,请刷新后重试 / someone else acted on this request first; reload".into(),
        ));
    }
    let step = plan(app, caller, before, command).await?;
    let after = app.store.update_request(&step.before, &step.after, step.change, &step.notices).await?;
    Ok(view(caller, after, Reading::Written)?.0)
}

/// Decides one step of a request's workflow from `before` without writing it: the row after, its event and its
/// notices. [`act`] writes one step; a batch answer writes the steps of many requests in one transaction.
pub async fn plan(app: &App, caller: &Caller, before: RequestRow, command: &Command) -> Result<RequestUpdate> {
    if !may_view(caller, &before)? {
        return Err(AppError::NotFound);
    }
    match command {
        Command::Dispatch { lead, co_handlers } | Command::Reassign { lead, co_handlers } => {
            check_handler(app, *lead, before.community_id, false, "lead").await?;
            for c in co_handlers {
                check_handler(app, *c, before.community_id, false, "co_handlers").await?;
            }
        }
        Command::Escalate { to, .. } => check_handler(app, *to, before.community_id, true, "to").await?,
        _ => {}
    }
    let current = workflow_state(&before)?;
    let t = decide(&current, command, workflow_actor(caller, before.community_id))
        .map_err(|e| AppError::Validation(vec![issue("action", &e.to_string())]))?;
    let now = app.clock.now();
    let mut after = before.clone();
    after.status = t.state.status.code().into();
    after.lead_id = t.state.lead;
    after.co_handlers = serde_json::to_string(&t.state.co_handlers)
        .map_err(|e| AppError::Internal(format!("co-handlers not written: {e}")))?;
    after.paused_reason = t.state.paused.clone();
    after.resolution = t.state.resolution.clone();
    let mut detail = serde_json::to_value(command).map_err(|e| AppError::Internal(format!("command: {e}")))?;
    match command {
        Command::Respond { .. } => after.responded_at = Some(now),
        Command::Resolve { .. } => after.resolved_at = Some(now),
        Command::FollowUp { solved, satisfaction, .. } => {
            after.followup_solved = Some(code(solved)?);
            after.followup_satisfaction = Some(code(satisfaction)?);
            after.followed_up_at = Some(now);
            if t.reopened {
                after.resolved_at = None;
                after.reopen_count += 1;
                detail["reopened"] = serde_json::Value::Bool(true);
            }
        }
        Command::Close => after.closed_at = Some(now),
        Command::Pause { .. } => after.paused_at = Some(now),
        Command::Resume => {
            // Paused time does not count: the deadlines move on by it.
            if let Some(since) = before.paused_at {
                let paused = now - since;
                if before.responded_at.is_none() {
                    after.respond_due = before.respond_due + paused;
                }
                after.resolve_due = before.resolve_due + paused;
            }
            after.paused_at = None;
        }
        _ => {}
    }
    if t.state.paused.is_none() {
        after.paused_at = None;
    }
    detail["status"] = serde_json::Value::String(after.status.clone());
    let mut change = caller.change(now, command.event(), Some(before.community_id));
    change.before = serde_json::json!({"status": before.status, "lead_id": before.lead_id});
    change.after = detail;
    let notices = notify::on_action(app, &before, &after, command).await?;
    Ok(RequestUpdate { before, after, change, notices })
}

/// The stable code of a serialised enum (`solved`, `satisfied` …).
fn code<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(AppError::Internal("a code did not serialise as text".into())),
    }
}

/// The three rates and the figures behind them, overall and by category, channel, building and handler.
pub async fn summary(app: &App, caller: &Caller, p: &Period) -> Result<RequestsSummary> {
    let community = caller.community(p.community_id)?;
    if !caller.can(Action::ViewRequests, Scope::community(community)) {
        caller.require(Action::ViewSummary, Scope::community(community))?;
    }
    let now = app.clock.now();
    let from = p.from.unwrap_or(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN));
    let to = p.to.unwrap_or_else(|| app.clock.today() + chrono::Duration::days(1));
    if to < from {
        return Err(AppError::field("to", "结束日期不能早于开始日期 / to must not be before from"));
    }
    let tallies = app.store.request_tallies(community, from, to, now, &[], true).await?;
    let by = |dim: &str| -> BTreeMap<String, _> {
        tallies.iter().filter(|((d, _), _)| d == dim).map(|((_, k), t)| (k.clone(), t.rates())).collect()
    };
    let overall = tallies.get(&("all".to_string(), String::new())).copied().unwrap_or_default();
    let hotline =
        tallies.get(&("channel".to_string(), Channel::Hotline12345.code().to_string())).map_or(0, |t| t.requests);
    let open = app.store.open_request_count(community, from, to).await?;
    Ok(RequestsSummary {
        community_id: community,
        from: p.from.map(|d| d.to_string()),
        to: p.to.map(|d| d.to_string()),
        overall: overall.rates(),
        open,
        from_12345: hotline,
        local: overall.requests - hotline,
        by_category: by("category"),
        by_channel: by("channel"),
        by_building: by("building"),
        by_handler: by("handler"),
        definitions: RateDefinitions {
            response_rate: "已在响应时限内首次联系居民的诉求 ÷ 已响应或已过响应时限的诉求 / answered by the response deadline ÷ answered or past that deadline",
            resolution_rate: "回访为“已解决”的诉求 ÷ 已回访的诉求(部分解决计一半)/ followed up as solved ÷ followed up (partly solved counts half)",
            satisfaction_rate: "回访为“满意”或“基本满意”的诉求 ÷ 已回访的诉求 / satisfied or basically satisfied ÷ followed up",
            small_sample: "样本少于 30 件时仅供参考,不作排名 / fewer than 30 requests: indicative only, not for ranking",
        },
    })
}
