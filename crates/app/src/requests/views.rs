//! What a caller is shown of requests: typed views with the contact already masked for that caller.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use wujia_core::requests::{ActionKind, ThreeRates};
use wujia_store::{Category, RequestRow};

/// A request as a caller is shown it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    /// Id.
    pub id: i64,
    /// Community.
    pub community_id: i64,
    /// Readable number, e.g. `WT-2024-000123`.
    pub number: String,
    /// Category.
    pub category_id: i64,
    /// Channel code (`portal`, `phone`, `walk_in`, `wechat`, `reception_day`, `patrol`, `hotline_12345`, `open311`).
    pub channel: String,
    /// Status code (`received`, `responded`, `dispatched`, `in_progress`, `resolved`, `followed_up`, `closed`).
    pub status: String,
    /// What the resident asked.
    pub description: String,
    /// The household, when the request concerns one.
    pub household_id: Option<i64>,
    /// Its building.
    pub building_id: Option<i64>,
    /// Where: the household's address or a place.
    pub location: String,
    /// Who asked.
    pub contact_name: String,
    /// The phone to call back: in full for the household itself and for those who need it to do their work (the
    /// read is audited), masked for everyone else.
    pub contact_phone: Option<String>,
    /// True when `contact_phone` is masked.
    pub contact_phone_masked: bool,
    /// Answers to the category's questions.
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// The city's 12345 order number.
    pub external_no: Option<String>,
    /// The account that took it in.
    pub submitted_by: Option<i64>,
    /// Lead handler.
    pub lead_id: Option<i64>,
    /// Co-handlers.
    pub co_handlers: Vec<i64>,
    /// Why the clock is paused, when it is.
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
    /// Follow-up: `solved`, `partly_solved` or `not_solved`.
    pub followup_solved: Option<String>,
    /// Follow-up: `satisfied`, `basically_satisfied` or `dissatisfied`.
    pub followup_satisfaction: Option<String>,
    /// When followed up.
    pub followed_up_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Times reopened after an unsatisfied follow-up.
    pub reopen_count: i64,
    /// Version for optimistic locking: send it back with an action.
    pub version: i64,
    /// The batch it was merged into, if any.
    pub batch_id: Option<i64>,
}

impl RequestView {
    pub(super) fn of(
        r: RequestRow,
        co_handlers: Vec<i64>,
        answers: serde_json::Map<String, serde_json::Value>,
        contact_phone: Option<String>,
        contact_phone_masked: bool,
    ) -> Self {
        Self {
            id: r.id,
            community_id: r.community_id,
            number: r.number,
            category_id: r.category_id,
            channel: r.channel,
            status: r.status,
            description: r.description,
            household_id: r.household_id,
            building_id: r.building_id,
            location: r.location,
            contact_name: r.contact_name,
            contact_phone,
            contact_phone_masked,
            answers,
            external_no: r.external_no,
            submitted_by: r.submitted_by,
            lead_id: r.lead_id,
            co_handlers,
            paused_reason: r.paused_reason,
            paused_at: r.paused_at,
            received_at: r.received_at,
            respond_due: r.respond_due,
            resolve_due: r.resolve_due,
            responded_at: r.responded_at,
            resolved_at: r.resolved_at,
            resolution: r.resolution,
            followup_solved: r.followup_solved,
            followup_satisfaction: r.followup_satisfaction,
            followed_up_at: r.followed_up_at,
            closed_at: r.closed_at,
            reopen_count: r.reopen_count,
            version: r.version,
            batch_id: r.batch_id,
        }
    }
}

/// One step of a request's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who, by the name people know them by.
    pub actor: String,
    /// What (`request.create`, `request.dispatch`, …).
    pub action: String,
    /// What the step recorded (note, reason, resolution, status …).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A request with its history and the actions open to the caller now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestDetail {
    /// The request.
    #[serde(flatten)]
    pub request: RequestView,
    /// Oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// What the caller may do now, as `action` codes of the workflow.
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<ActionKind>,
}

/// A category of the catalogue with its time limits and questions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    /// Id.
    pub id: i64,
    /// Parent category.
    pub parent_id: Option<i64>,
    /// Stable dotted code; leaves have three parts (`property.water.pipe_burst`).
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Default handler kind (`community`, `property`, `developer`, `street`, `utility`).
    pub handler: String,
    /// Urgency (`emergency`, `urgent`, `general`, `complex`).
    pub urgency: String,
    /// `minutes` or `working_days`.
    pub respond_unit: String,
    /// Response limit.
    pub respond_value: i64,
    /// `minutes` or `working_days`.
    pub resolve_unit: String,
    /// Resolution limit.
    pub resolve_value: i64,
    /// Questions a form asks for this category.
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<serde_json::Value>,
    /// Offered on forms.
    pub active: bool,
    /// A request can be filed under it.
    pub leaf: bool,
}

impl CategoryView {
    pub(super) fn of(c: Category, questions: Vec<serde_json::Value>) -> Self {
        let leaf = c.is_leaf();
        Self {
            id: c.id,
            parent_id: c.parent_id,
            code: c.code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            handler: c.handler,
            urgency: c.urgency,
            respond_unit: c.respond_unit,
            respond_value: c.respond_value,
            resolve_unit: c.resolve_unit,
            resolve_value: c.resolve_value,
            questions,
            active: c.active,
            leaf,
        }
    }
}

/// How the three rates are defined, in both languages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RateDefinitions {
    /// 响应率
    pub response_rate: &'static str,
    /// 解决率
    pub resolution_rate: &'static str,
    /// 满意率
    pub satisfaction_rate: &'static str,
    /// When a figure is only indicative.
    pub small_sample: &'static str,
}

/// The three rates of a period and the figures behind them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestsSummary {
    /// The community.
    pub community_id: i64,
    /// From (YYYY-MM-DD, Beijing), inclusive, as asked.
    pub from: Option<String>,
    /// To (YYYY-MM-DD, Beijing), exclusive, as asked.
    pub to: Option<String>,
    /// Over all requests of the period.
    #[schema(value_type = Object)]
    pub overall: ThreeRates,
    /// Still open.
    pub open: i64,
    /// Taken in from the city's 12345 hotline.
    pub from_12345: u64,
    /// Taken in by the community itself.
    pub local: u64,
    /// By category code.
    #[schema(value_type = Object)]
    pub by_category: BTreeMap<String, ThreeRates>,
    /// By channel code.
    #[schema(value_type = Object)]
    pub by_channel: BTreeMap<String, ThreeRates>,
    /// By building id.
    #[schema(value_type = Object)]
    pub by_building: BTreeMap<String, ThreeRates>,
    /// By lead handler's account id.
    #[schema(value_type = Object)]
    pub by_handler: BTreeMap<String, ThreeRates>,
    /// What the rates mean.
    pub definitions: RateDefinitions,
}
