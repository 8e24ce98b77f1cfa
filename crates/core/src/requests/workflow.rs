//! The request workflow as a pure function: `decide(state, command, actor)` gives the next state or says why not.
//!
//! received → responded → dispatched → in progress → resolved → followed up → closed. A follow-up that finds the
//! matter not solved, or the resident dissatisfied, reopens it. Handlers may return a request to the
//! dispatcher; staff may reassign, escalate to the street office, and pause the clock for a recorded reason.

use serde::{Deserialize, Serialize};

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Taken in, nobody has contacted the resident yet.
    Received,
    /// The resident has been contacted (responded).
    Responded,
    /// A lead handler has it.
    Dispatched,
    /// The lead handler is working on it.
    InProgress,
    /// The handler says it is done.
    Resolved,
    /// The resident was asked and is content.
    FollowedUp,
    /// Finished.
    Closed,
}

impl Status {
    /// Every status in workflow order.
    pub const ALL: [Status; 7] = [
        Self::Received,
        Self::Responded,
        Self::Dispatched,
        Self::InProgress,
        Self::Resolved,
        Self::FollowedUp,
        Self::Closed,
    ];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Responded => "responded",
            Self::Dispatched => "dispatched",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::FollowedUp => "followed_up",
            Self::Closed => "closed",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The Chinese word for it, as notifications stored in Chinese use it (pages take theirs from the catalogue).
    pub fn zh(self) -> &'static str {
        match self {
            Self::Received => "已受理",
            Self::Responded => "已响应",
            Self::Dispatched => "已派单",
            Self::InProgress => "办理中",
            Self::Resolved => "已办结",
            Self::FollowedUp => "已回访",
            Self::Closed => "已关闭",
        }
    }

    /// Still needs someone to act.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Received | Self::Responded | Self::Dispatched | Self::InProgress)
    }
}

/// Whether the matter was solved, as the resident says at follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solved {
    /// 已解决
    Solved,
    /// 部分解决
    PartlySolved,
    /// 未解决
    NotSolved,
}

/// How satisfied the resident is, at follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 满意
    Satisfied,
    /// 基本满意
    BasicallySatisfied,
    /// 不满意
    Dissatisfied,
}

/// The follow-up (回访) result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Followup {
    /// Solved or not.
    pub solved: Solved,
    /// Satisfaction.
    pub satisfaction: Satisfaction,
}

impl Followup {
    /// Not solved or dissatisfied: the request goes back to its handler.
    pub fn reopens(self) -> bool {
        self.solved == Solved::NotSolved || self.satisfaction == Satisfaction::Dissatisfied
    }
}

/// What decides depends on: the request's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestState {
    /// Status.
    pub status: Status,
    /// Lead handler's account.
    pub lead: Option<i64>,
    /// Co-handlers' accounts.
    pub co_handlers: Vec<i64>,
    /// Why the clock is paused, when it is.
    pub paused: Option<String>,
    /// What was done, once resolved.
    pub resolution: Option<String>,
}

/// Who acts, as far as the workflow cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestActor {
    /// Account id.
    pub user_id: i64,
    /// Community staff (dispatchers) of the request's community, or an admin.
    pub is_staff: bool,
}

/// Something someone wants to do with a request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    /// First contact with the resident.
    Respond {
        /// What the resident was told.
        note: String,
    },
    /// Hand to a lead handler, with optional co-handlers.
    Dispatch {
        /// Lead handler's account.
        lead: i64,
        /// Co-handlers' accounts.
        #[serde(default)]
        co_handlers: Vec<i64>,
    },
    /// The lead handler starts work.
    Start,
    /// The lead handler reports what was done.
    Resolve {
        /// What was done.
        resolution: String,
    },
    /// The resident's verdict.
    FollowUp {
        /// Solved or not.
        solved: Solved,
        /// Satisfaction.
        satisfaction: Satisfaction,
        /// Notes from the call.
        #[serde(default)]
        note: String,
    },
    /// Close a followed-up request.
    Close,
    /// The lead handler gives it back to the dispatcher.
    Return {
        /// Why.
        reason: String,
    },
    /// Staff give it to another lead.
    Reassign {
        /// New lead.
        lead: i64,
        /// Co-handlers.
        #[serde(default)]
        co_handlers: Vec<i64>,
    },
    /// Staff escalate it to the street office.
    Escalate {
        /// The street office account that takes the lead.
        to: i64,
        /// Why.
        reason: String,
    },
    /// Stop the clock (only for a recorded reason, such as waiting for the resident).
    Pause {
        /// Why.
        reason: String,
    },
    /// Restart the clock.
    Resume,
}

/// The kinds of [`Command`], without their fields: what a viewer may be offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// [`Command::Respond`]
    Respond,
    /// [`Command::Dispatch`]
    Dispatch,
    /// [`Command::Start`]
    Start,
    /// [`Command::Resolve`]
    Resolve,
    /// [`Command::FollowUp`]
    FollowUp,
    /// [`Command::Close`]
    Close,
    /// [`Command::Return`]
    Return,
    /// [`Command::Reassign`]
    Reassign,
    /// [`Command::Escalate`]
    Escalate,
    /// [`Command::Pause`]
    Pause,
    /// [`Command::Resume`]
    Resume,
}

impl ActionKind {
    /// Every kind, in the order a page offers them.
    pub const ALL: [ActionKind; 11] = [
        Self::Respond,
        Self::Dispatch,
        Self::Start,
        Self::Resolve,
        Self::FollowUp,
        Self::Close,
        Self::Return,
        Self::Reassign,
        Self::Escalate,
        Self::Pause,
        Self::Resume,
    ];

    /// Stable code, the `action` of the command's JSON.
    pub fn code(self) -> &'static str {
        match self {
            Self::Respond => "respond",
            Self::Dispatch => "dispatch",
            Self::Start => "start",
            Self::Resolve => "resolve",
            Self::FollowUp => "follow_up",
            Self::Close => "close",
            Self::Return => "return",
            Self::Reassign => "reassign",
            Self::Escalate => "escalate",
            Self::Pause => "pause",
            Self::Resume => "resume",
        }
    }
}

impl Command {
    /// The kind of command.
    pub fn kind(&self) -> ActionKind {
        match self {
            Self::Respond { .. } => ActionKind::Respond,
            Self::Dispatch { .. } => ActionKind::Dispatch,
            Self::Start => ActionKind::Start,
            Self::Resolve { .. } => ActionKind::Resolve,
            Self::FollowUp { .. } => ActionKind::FollowUp,
            Self::Close => ActionKind::Close,
            Self::Return { .. } => ActionKind::Return,
            Self::Reassign { .. } => ActionKind::Reassign,
            Self::Escalate { .. } => ActionKind::Escalate,
            Self::Pause { .. } => ActionKind::Pause,
            Self::Resume => ActionKind::Resume,
        }
    }

    /// The event name recorded for this command.
    pub fn event(&self) -> &'static str {
        match self {
            Self::Respond { .. } => "request.respond",
            Self::Dispatch { .. } => "request.dispatch",
            Self::Start => "request.start",
            Self::Resolve { .. } => "request.resolve",
            Self::FollowUp { .. } => "request.follow_up",
            Self::Close => "request.close",
            Self::Return { .. } => "request.return",
            Self::Reassign { .. } => "request.reassign",
            Self::Escalate { .. } => "request.escalate",
            Self::Pause { .. } => "request.pause",
            Self::Resume => "request.resume",
        }
    }
}

/// Why a command was refused. Messages are for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Not allowed from this status.
    #[error("当前状态「{status}」下不能执行该操作 / not allowed while the request is {status}")]
    WrongStatus {
        /// The current status code.
        status: &'static str,
    },
    /// Only the lead handler (or staff) may do this.
    #[error("只有主办人可以执行该操作 / only the lead handler may do this")]
    NotLead,
    /// Only staff may do this.
    #[error("只有社区工作人员可以执行该操作 / only community staff may do this")]
    NotStaff,
    /// A required text is missing.
    #[error("「{field}」不能为空 / {field} is required")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// Pausing twice, or resuming a running clock.
    #[error("计时状态不允许该操作 / the clock is already {0}")]
    Clock(&'static str),
    /// A co-handler listed as lead, or listed twice.
    #[error("协办人不能与主办人相同 / a co-handler cannot be the lead")]
    BadCoHandlers,
}

/// The result of a command: the new state, and whether the clock paused, resumed or the request reopened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The state after the command.
    pub state: RequestState,
    /// The command reopened a resolved request.
    pub reopened: bool,
    /// Follow-up recorded by this command.
    pub followup: Option<Followup>,
}

fn need(text: &str, field: &'static str) -> Result<(), RuleError> {
    if text.trim().is_empty() { Err(RuleError::Missing { field }) } else { Ok(()) }
}

fn check_co(lead: i64, co: &[i64]) -> Result<(), RuleError> {
    let mut seen = std::collections::BTreeSet::new();
    if co.iter().any(|c| *c == lead || !seen.insert(*c)) { Err(RuleError::BadCoHandlers) } else { Ok(()) }
}

/// Whether `actor` may take an action of `kind` on a request in `state` at all: who acts, from which status, and
/// the clock. The fields of a command (a reason, co-handlers) are checked by [`decide`] after this.
fn guard(state: &RequestState, kind: ActionKind, actor: RequestActor) -> Result<(), RuleError> {
    use Status::*;
    let wrong = Err(RuleError::WrongStatus { status: state.status.code() });
    let is_lead = state.lead == Some(actor.user_id);
    let who = match kind {
        ActionKind::Respond
        | ActionKind::Dispatch
        | ActionKind::FollowUp
        | ActionKind::Close
        | ActionKind::Reassign
        | ActionKind::Escalate => actor.is_staff.then_some(()).ok_or(RuleError::NotStaff),
        ActionKind::Start | ActionKind::Resolve | ActionKind::Return => is_lead.then_some(()).ok_or(RuleError::NotLead),
        ActionKind::Pause | ActionKind::Resume => (is_lead || actor.is_staff).then_some(()).ok_or(RuleError::NotLead),
    };
    who?;
    let from = match kind {
        ActionKind::Respond => state.status == Received,
        ActionKind::Dispatch => state.status == Responded,
        ActionKind::Start => state.status == Dispatched,
        ActionKind::Resolve | ActionKind::Return | ActionKind::Reassign => {
            matches!(state.status, Dispatched | InProgress)
        }
        ActionKind::FollowUp => state.status == Resolved,
        ActionKind::Close => state.status == FollowedUp,
        ActionKind::Escalate | ActionKind::Pause => state.status.is_open(),
        ActionKind::Resume => true,
    };
    if !from {
        return wrong;
    }
    match kind {
        ActionKind::Pause if state.paused.is_some() => Err(RuleError::Clock("paused")),
        ActionKind::Resume if state.paused.is_none() => Err(RuleError::Clock("running")),
        _ => Ok(()),
    }
}

/// The actions open to `actor` on a request in `state` now, in the order a page offers them: each is one that
/// [`decide`] accepts when its fields are filled in.
pub fn available(state: &RequestState, actor: RequestActor) -> Vec<ActionKind> {
    ActionKind::ALL.into_iter().filter(|k| guard(state, *k, actor).is_ok()).collect()
}

/// Decides a command. Permission to see the request at all is checked before; this decides the workflow.
pub fn decide(state: &RequestState, command: &Command, actor: RequestActor) -> Result<Transition, RuleError> {
    use Status::*;
    guard(state, command.kind(), actor)?;
    let mut next = state.clone();
    let mut reopened = false;
    let mut followup = None;
    match command {
        Command::Respond { note } => {
            need(note, "note")?;
            next.status = Responded;
        }
        Command::Dispatch { lead, co_handlers } | Command::Reassign { lead, co_handlers } => {
            check_co(*lead, co_handlers)?;
            next.status = Dispatched;
            next.lead = Some(*lead);
            next.co_handlers = co_handlers.clone();
        }
        Command::Start => next.status = InProgress,
        Command::Resolve { resolution } => {
            need(resolution, "resolution")?;
            next.status = Resolved;
            next.resolution = Some(resolution.trim().to_string());
            next.paused = None;
        }
        Command::FollowUp { solved, satisfaction, .. } => {
            let f = Followup { solved: *solved, satisfaction: *satisfaction };
            followup = Some(f);
            if f.reopens() {
                next.status = InProgress;
                next.resolution = None;
                reopened = true;
            } else {
                next.status = FollowedUp;
            }
        }
        Command::Close => next.status = Closed,
        Command::Return { reason } => {
            need(reason, "reason")?;
            next.status = Responded;
            next.lead = None;
            next.co_handlers.clear();
        }
        Command::Escalate { to, reason } => {
            need(reason, "reason")?;
            next.status = Dispatched;
            next.lead = Some(*to);
            next.co_handlers.retain(|c| c != to);
        }
        Command::Pause { reason } => {
            need(reason, "reason")?;
            next.paused = Some(reason.trim().to_string());
        }
        Command::Resume => next.paused = None,
    }
    Ok(Transition { state: next, reopened, followup })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAFF: RequestActor = RequestActor { user_id: 1, is_staff: true };
    const LEAD: RequestActor = RequestActor { user_id: 7, is_staff: false };
    const OTHER: RequestActor = RequestActor { user_id: 8, is_staff: false };

    fn state(status: Status) -> RequestState {
        let lead = matches!(
            status,
            Status::Dispatched | Status::InProgress | Status::Resolved | Status::FollowedUp | Status::Closed
        );
        RequestState { status, lead: lead.then_some(7), co_handlers: vec![], paused: None, resolution: None }
    }

    fn respond() -> Command {
        Command::Respond { note: "已电话联系".into() }
    }
    fn dispatch() -> Command {
        Command::Dispatch { lead: 7, co_handlers: vec![9] }
    }
    fn resolve() -> Command {
        Command::Resolve { resolution: "已更换阀门".into() }
    }
    fn follow(solved: Solved, satisfaction: Satisfaction) -> Command {
        Command::FollowUp { solved, satisfaction, note: String::new() }
    }

    #[test]
    fn the_happy_path_runs_from_received_to_closed() {
        let mut s = state(Status::Received);
        for (cmd, actor, expect) in [
            (respond(), STAFF, Status::Responded),
            (dispatch(), STAFF, Status::Dispatched),
            (Command::Start, LEAD, Status::InProgress),
            (resolve(), LEAD, Status::Resolved),
            (follow(Solved::Solved, Satisfaction::Satisfied), STAFF, Status::FollowedUp),
            (Command::Close, STAFF, Status::Closed),
        ] {
            s = decide(&s, &cmd, actor).unwrap_or_else(|e| panic!("{cmd:?}: {e}")).state;
            assert_eq!(s.status, expect);
        }
        assert_eq!(s.lead, Some(7));
        assert_eq!(s.co_handlers, vec![9]);
        assert_eq!(s.resolution.as_deref(), Some("已更换阀门"));
    }

    #[test]
    fn every_command_is_refused_from_every_status_it_does_not_belong_to() {
        let allowed: &[(Command, &[Status])] = &[
            (respond(), &[Status::Received]),
            (dispatch(), &[Status::Responded]),
            (Command::Start, &[Status::Dispatched]),
            (resolve(), &[Status::Dispatched, Status::InProgress]),
            (follow(Solved::Solved, Satisfaction::Satisfied), &[Status::Resolved]),
            (Command::Close, &[Status::FollowedUp]),
            (Command::Return { reason: "不属于物业".into() }, &[Status::Dispatched, Status::InProgress]),
            (Command::Reassign { lead: 7, co_handlers: vec![] }, &[Status::Dispatched, Status::InProgress]),
            (
                Command::Escalate { to: 3, reason: "需街道协调".into() },
                &[Status::Received, Status::Responded, Status::Dispatched, Status::InProgress],
            ),
            (
                Command::Pause { reason: "等待居民在家".into() },
                &[Status::Received, Status::Responded, Status::Dispatched, Status::InProgress],
            ),
        ];
        for (cmd, ok_from) in allowed {
            for status in Status::ALL {
                // The lead handler acts for handler commands, staff for the rest.
                let actor = if matches!(cmd, Command::Start | Command::Resolve { .. } | Command::Return { .. }) {
                    LEAD
                } else {
                    STAFF
                };
                let mut s = state(status);
                if matches!(cmd, Command::Start | Command::Resolve { .. } | Command::Return { .. }) {
                    s.lead = Some(7);
                }
                let result = decide(&s, cmd, actor);
                if ok_from.contains(&status) {
                    assert!(result.is_ok(), "{cmd:?} from {status:?}: {result:?}");
                } else {
                    assert_eq!(
                        result.unwrap_err(),
                        RuleError::WrongStatus { status: status.code() },
                        "{cmd:?} from {status:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn closing_an_unresolved_request_is_refused() {
        for status in [Status::Received, Status::InProgress, Status::Resolved] {
            assert!(matches!(decide(&state(status), &Command::Close, STAFF), Err(RuleError::WrongStatus { .. })));
        }
    }

    #[test]
    fn only_the_lead_starts_resolves_and_returns() {
        let s = state(Status::InProgress);
        assert_eq!(decide(&s, &resolve(), OTHER).unwrap_err(), RuleError::NotLead);
        assert_eq!(decide(&s, &resolve(), STAFF).unwrap_err(), RuleError::NotLead);
        assert_eq!(decide(&state(Status::Dispatched), &Command::Start, OTHER).unwrap_err(), RuleError::NotLead);
        assert_eq!(decide(&s, &Command::Return { reason: "x".into() }, OTHER).unwrap_err(), RuleError::NotLead);
    }

    #[test]
    fn only_staff_respond_dispatch_follow_up_close_reassign_and_escalate() {
        for (cmd, status) in [
            (respond(), Status::Received),
            (dispatch(), Status::Responded),
            (follow(Solved::Solved, Satisfaction::Satisfied), Status::Resolved),
            (Command::Close, Status::FollowedUp),
            (Command::Reassign { lead: 8, co_handlers: vec![] }, Status::InProgress),
            (Command::Escalate { to: 3, reason: "x".into() }, Status::InProgress),
        ] {
            assert_eq!(decide(&state(status), &cmd, LEAD).unwrap_err(), RuleError::NotStaff, "{cmd:?}");
        }
    }

    #[test]
    fn dissatisfaction_or_not_solved_reopens() {
        for (solved, satisfaction, reopens) in [
            (Solved::Solved, Satisfaction::Satisfied, false),
            (Solved::PartlySolved, Satisfaction::BasicallySatisfied, false),
            (Solved::Solved, Satisfaction::Dissatisfied, true),
            (Solved::NotSolved, Satisfaction::BasicallySatisfied, true),
        ] {
            let mut s = state(Status::Resolved);
            s.resolution = Some("done".into());
            let t = decide(&s, &follow(solved, satisfaction), STAFF).unwrap();
            assert_eq!(t.reopened, reopens);
            assert_eq!(t.state.status, if reopens { Status::InProgress } else { Status::FollowedUp });
            assert_eq!(t.state.resolution.is_none(), reopens);
            assert_eq!(t.state.lead, Some(7), "a reopened request goes back to its handler");
        }
    }

    #[test]
    fn returning_clears_the_lead_and_needs_a_reason() {
        let s = state(Status::InProgress);
        assert_eq!(
            decide(&s, &Command::Return { reason: " ".into() }, LEAD).unwrap_err(),
            RuleError::Missing { field: "reason" }
        );
        let t = decide(&s, &Command::Return { reason: "应由开发商处理".into() }, LEAD).unwrap();
        assert_eq!((t.state.status, t.state.lead), (Status::Responded, None));
    }

    #[test]
    fn the_clock_pauses_only_with_a_reason_and_not_twice() {
        let s = state(Status::InProgress);
        assert_eq!(
            decide(&s, &Command::Pause { reason: "".into() }, LEAD).unwrap_err(),
            RuleError::Missing { field: "reason" }
        );
        assert_eq!(decide(&s, &Command::Pause { reason: "x".into() }, OTHER).unwrap_err(), RuleError::NotLead);
        let paused = decide(&s, &Command::Pause { reason: "居民出差,约下周上门".into() }, LEAD).unwrap().state;
        assert_eq!(
            decide(&paused, &Command::Pause { reason: "x".into() }, STAFF).unwrap_err(),
            RuleError::Clock("paused")
        );
        let running = decide(&paused, &Command::Resume, STAFF).unwrap().state;
        assert_eq!(running.paused, None);
        assert_eq!(decide(&running, &Command::Resume, STAFF).unwrap_err(), RuleError::Clock("running"));
    }

    #[test]
    fn escalation_hands_the_lead_to_the_street_office() {
        let t = decide(&state(Status::InProgress), &Command::Escalate { to: 3, reason: "涉及多部门".into() }, STAFF)
            .unwrap();
        assert_eq!((t.state.status, t.state.lead), (Status::Dispatched, Some(3)));
    }

    #[test]
    fn co_handlers_cannot_repeat_the_lead() {
        let s = state(Status::Responded);
        assert_eq!(
            decide(&s, &Command::Dispatch { lead: 7, co_handlers: vec![7] }, STAFF).unwrap_err(),
            RuleError::BadCoHandlers
        );
        assert_eq!(
            decide(&s, &Command::Dispatch { lead: 7, co_handlers: vec![9, 9] }, STAFF).unwrap_err(),
            RuleError::BadCoHandlers
        );
    }

    /// A command of `kind` with its fields filled in as a page would.
    fn filled(kind: ActionKind) -> Command {
        match kind {
            ActionKind::Respond => respond(),
            ActionKind::Dispatch => Command::Dispatch { lead: 7, co_handlers: vec![] },
            ActionKind::Start => Command::Start,
            ActionKind::Resolve => resolve(),
            ActionKind::FollowUp => follow(Solved::Solved, Satisfaction::Satisfied),
            ActionKind::Close => Command::Close,
            ActionKind::Return => Command::Return { reason: "不属本单位".into() },
            ActionKind::Reassign => Command::Reassign { lead: 9, co_handlers: vec![] },
            ActionKind::Escalate => Command::Escalate { to: 5, reason: "需街道协调".into() },
            ActionKind::Pause => Command::Pause { reason: "等待居民在家".into() },
            ActionKind::Resume => Command::Resume,
        }
    }

    #[test]
    fn the_actions_offered_are_exactly_those_decide_accepts() {
        for status in Status::ALL {
            for paused in [None, Some("等待配件".to_string())] {
                let s = RequestState { paused, ..state(status) };
                for actor in [STAFF, LEAD, OTHER, RequestActor { user_id: 7, is_staff: true }] {
                    let offered = available(&s, actor);
                    for kind in ActionKind::ALL {
                        let accepted = decide(&s, &filled(kind), actor).is_ok();
                        assert_eq!(
                            offered.contains(&kind),
                            accepted,
                            "{status:?} paused={:?} {actor:?} {kind:?}",
                            s.paused
                        );
                        assert_eq!(filled(kind).kind(), kind);
                    }
                }
            }
        }
        assert_eq!(available(&state(Status::Received), OTHER), vec![]);
        assert_eq!(
            available(&state(Status::Dispatched), LEAD),
            vec![ActionKind::Start, ActionKind::Resolve, ActionKind::Return, ActionKind::Pause]
        );
    }

    #[test]
    fn commands_read_from_json() {
        let c: Command = serde_json::from_str(
            r#"{"action":"follow_up","solved":"partly_solved","satisfaction":"basically_satisfied"}"#,
        )
        .unwrap();
        assert_eq!(
            c,
            Command::FollowUp {
                solved: Solved::PartlySolved,
                satisfaction: Satisfaction::BasicallySatisfied,
                note: String::new()
            }
        );
        assert_eq!(c.event(), "request.follow_up");
    }
}
