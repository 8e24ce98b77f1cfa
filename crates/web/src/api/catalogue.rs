//! Admins keep the category catalogue and the working calendar current.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, FieldIssue};
use crate::i18n::Lang;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Scope};
use wujia_core::requests::{
    CalendarEntry, CalendarGap, DayKind, GapUrgency, HandlerKind, Limit, MAX_IMPORT_ROWS, MAX_SPAN_DAYS, RowIssue,
    RowProblem, SpanError, Urgency, calendar_gap, holiday_span, parse_entries,
};
use wujia_core::transfer::decode_text;

fn admin(auth: &Auth) -> Result<(), ApiError> {
    auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)
}

fn issue(field: &str, message: &str) -> FieldIssue {
    FieldIssue { field: field.into(), message: message.into(), row: None }
}

/// A new category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCategoryBody {
    /// Parent category (none for a top-level one).
    pub parent_id: Option<i64>,
    /// The last part of the code, e.g. `doorbell` under `property.repair`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// `staff`, `social_worker`, `property`, `developer` or `street`.
    pub handler: String,
    /// `emergency`, `utilities`, `general` or `complex`; sets the default limits.
    pub urgency: String,
}

/// Adds a category (admins).
#[utoipa::path(post, path = "/api/v1/categories", operation_id = "create_category", tag = "requests", request_body = NewCategoryBody,
    responses((status = 201, description = "Created"), (status = 409, description = "Code taken")), security(("bearer" = [])))]
pub async fn create_category(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<NewCategoryBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    admin(&auth)?;
    let mut issues = Vec::new();
    let part = b.code.trim();
    if part.is_empty()
        || part.len() > 32
        || !part.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    {
        issues.push(issue("code", "小写字母、数字或下划线 / lower-case letters, digits or _"));
    }
    let parent = match b.parent_id {
        Some(p) => match state.store.category(p).await {
            Ok(c) if !c.is_leaf() => Some(c),
            _ => {
                issues.push(issue(
                    "parent_id",
                    "上级须为第一或第二级类别 / the parent must be a first- or second-level category",
                ));
                None
            }
        },
        None => None,
    };
    for (field, value, max) in [("name_zh", &b.name_zh, 20usize), ("name_en", &b.name_en, 60)] {
        let n = value.trim().chars().count();
        if n == 0 || n > max {
            issues.push(issue(field, &format!("应为 1–{max} 个字符 / 1–{max} characters")));
        }
    }
    if HandlerKind::from_code(&b.handler).is_none() {
        issues.push(issue("handler", "未知承办方 / unknown handler"));
    }
    let urgency = Urgency::from_code(&b.urgency);
    if urgency.is_none() {
        issues.push(issue("urgency", "应为 emergency、utilities、general 或 complex"));
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    let code = match &parent {
        Some(p) => format!("{}.{part}", p.code),
        None => part.to_string(),
    };
    let new = wujia_store::NewCategory {
        parent_id: parent.map(|p| p.id),
        code: &code,
        name_zh: b.name_zh.trim(),
        name_en: b.name_en.trim(),
        handler: &b.handler,
        urgency: urgency.unwrap_or(Urgency::General),
    };
    let c = state.store.create_category(&new, auth.change(&state, "category.create", None)).await?;
    Ok((StatusCode::CREATED, Json(json!(c))))
}

/// A time limit as the API writes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LimitBody {
    /// `minutes` or `working_days`.
    pub unit: String,
    /// How many.
    pub value: u32,
}

/// Changes to a category; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CategoryPatch {
    /// Chinese name.
    pub name_zh: Option<String>,
    /// English name.
    pub name_en: Option<String>,
    /// Default handler.
    pub handler: Option<String>,
    /// Urgency.
    pub urgency: Option<String>,
    /// Response limit.
    pub respond: Option<LimitBody>,
    /// Resolution limit.
    pub resolve: Option<LimitBody>,
    /// The category's own questions.
    pub questions: Option<Vec<String>>,
    /// Offered on forms.
    pub active: Option<bool>,
}

fn limit(field: &str, l: &LimitBody, issues: &mut Vec<FieldIssue>) -> Option<Limit> {
    match (l.unit.as_str(), l.value) {
        ("minutes", 1..=43_200) => Some(Limit::Minutes(l.value)),
        ("working_days", 1..=60) => Some(Limit::WorkingDays(l.value)),
        _ => {
            issues.push(issue(field, "分钟数 1–43200 或工作日 1–60 / 1–43200 minutes or 1–60 working days"));
            None
        }
    }
}

/// Edits a category's names, handler, urgency, limits, questions or availability (admins).
#[utoipa::path(patch, path = "/api/v1/categories/{id}", operation_id = "update_category", tag = "requests",
    params(("id" = i64, Path, description = "Category id")), request_body = CategoryPatch,
    responses((status = 200, description = "The category")), security(("bearer" = [])))]
pub async fn update_category(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CategoryPatch>,
) -> Result<Json<Value>, ApiError> {
    admin(&auth)?;
    let mut c = state.store.category(id).await?;
    let mut issues = Vec::new();
    if let Some(n) = &b.name_zh {
        c.name_zh = n.trim().to_string();
    }
    if let Some(n) = &b.name_en {
        c.name_en = n.trim().to_string();
    }
    if c.name_zh.is_empty() || c.name_en.is_empty() {
        issues.push(issue("name_zh", "名称不能为空 / names are required"));
    }
    if let Some(h) = &b.handler {
        match HandlerKind::from_code(h) {
            Some(k) => c.handler = k.code().into(),
            None => issues.push(issue("handler", "未知承办方 / unknown handler")),
        }
    }
    if let Some(u) = &b.urgency {
        match Urgency::from_code(u) {
            Some(k) => c.urgency = k.code().into(),
            None => issues.push(issue("urgency", "未知紧急程度 / unknown urgency")),
        }
    }
    for (field, l) in [("respond", &b.respond), ("resolve", &b.resolve)] {
        if let Some(l) = l
            && let Some(v) = limit(field, l, &mut issues)
        {
            let (unit, value) = match v {
                Limit::Minutes(m) => ("minutes", i64::from(m)),
                Limit::WorkingDays(d) => ("working_days", i64::from(d)),
            };
            if field == "respond" {
                (c.respond_unit, c.respond_value) = (unit.into(), value);
            } else {
                (c.resolve_unit, c.resolve_value) = (unit.into(), value);
            }
        }
    }
    if let Some(q) = &b.questions {
        if q.len() > 10 || q.iter().any(|x| x.trim().is_empty() || x.chars().count() > 100) {
            issues.push(issue("questions", "最多 10 个问题,每个 1–100 字 / at most 10 questions of 1–100 characters"));
        }
        c.questions = json!(q.iter().map(|x| x.trim()).collect::<Vec<_>>()).to_string();
    }
    if let Some(a) = b.active {
        c.active = a;
    }
    if !issues.is_empty() {
        return Err(ApiError::Validation(issues));
    }
    Ok(Json(json!(state.store.update_category(&c, auth.change(&state, "category.update", None)).await?)))
}

/// `?year=`
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (default: this year in Beijing).
    pub year: Option<i32>,
}

/// The first day of `year` and of the year after, or an error naming the field.
pub(crate) fn year_range(year: i32) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let first = |y| NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(|| ApiError::field("year", "无效年份 / invalid year"));
    Ok((first(year)?, first(year + 1)?))
}

/// The holidays and make-up working days of a year.
#[utoipa::path(get, path = "/api/v1/calendar", operation_id = "list_calendar_days", tag = "requests", params(YearQuery),
    responses((status = 200, description = "Days")), security(("bearer" = [])))]
pub async fn list_calendar_days(
    State(state): State<AppState>,
    _auth: Auth,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> Result<Json<Vec<CalendarEntry>>, ApiError> {
    let (from, to) = year_range(q.year.unwrap_or_else(|| state.clock.today().year()))?;
    Ok(Json(state.store.calendar_entries(from, to).await?))
}

/// A calendar entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DayBody {
    /// `holiday`, `workday` (a make-up working day) or `normal` (back to the weekday rule).
    pub kind: String,
    /// The holiday's name, e.g. 春节.
    #[serde(default)]
    pub name: String,
}

/// Declares a holiday or a make-up working day (admins), as the State Council publishes each year.
#[utoipa::path(put, path = "/api/v1/calendar/{date}", operation_id = "update_calendar_day", tag = "requests",
    params(("date" = String, Path, description = "YYYY-MM-DD")), request_body = DayBody,
    responses((status = 204, description = "Saved")), security(("bearer" = [])))]
pub async fn update_calendar_day(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(date): ApiPath<String>,
    ApiJson(b): ApiJson<DayBody>,
) -> Result<StatusCode, ApiError> {
    admin(&auth)?;
    let day = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| ApiError::field("date", "日期应为 YYYY-MM-DD / date must be YYYY-MM-DD"))?;
    let kind = match b.kind.as_str() {
        "normal" => None,
        code => {
            Some(DayKind::from_code(code).ok_or_else(|| ApiError::field("kind", "应为 holiday、workday 或 normal"))?)
        }
    };
    set_calendar_day(&state, &auth, day, kind, b.name.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Declares one day, or returns it to the weekday rule (admins): the API and the calendar page.
pub(crate) async fn set_calendar_day(
    state: &AppState,
    auth: &Auth,
    day: NaiveDate,
    kind: Option<DayKind>,
    name: &str,
) -> Result<(), ApiError> {
    admin(auth)?;
    state.store.set_calendar_day(day, kind, name, auth.change(state, "calendar.update", None)).await?;
    Ok(())
}

/// What an import or a new holiday span recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarImported {
    /// Entries written (each day of a span counts).
    pub entries: usize,
    /// The years they fall in, now recorded as arranged.
    pub years: Vec<i32>,
}

fn row_issue(issue: &RowIssue, lang: Lang) -> FieldIssue {
    let (field, key) = match issue.problem {
        RowProblem::Columns => ("row", "calendar.row_columns"),
        RowProblem::Date => ("date", "calendar.row_date"),
        RowProblem::Year => ("date", "calendar.row_year"),
        RowProblem::Kind => ("kind", "calendar.row_kind"),
        RowProblem::Name => ("name", "calendar.row_name"),
        RowProblem::Repeated { .. } => ("date", "calendar.row_repeated"),
    };
    let mut message = lang.t(key).to_string();
    if let RowProblem::Repeated { first_row } = issue.problem {
        message = message.replace("{row}", &first_row.to_string());
    }
    FieldIssue { field: field.into(), message, row: Some(issue.row) }
}

/// Records the official list of holidays and make-up working days (admins), one entry a line:
/// `2027-01-01,holiday,元旦`. Every bad row is refused with its number, and then nothing is written.
pub(crate) async fn import_calendar(
    state: &AppState,
    auth: &Auth,
    bytes: &[u8],
    lang: Lang,
) -> Result<CalendarImported, ApiError> {
    admin(auth)?;
    let text = decode_text(bytes)?;
    let entries = parse_entries(&text)
        .map_err(|issues| ApiError::Validation(issues.iter().map(|i| row_issue(i, lang)).collect()))?;
    if entries.is_empty() {
        return Err(ApiError::field("file", lang.t("calendar.import_empty")));
    }
    if entries.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::field("file", lang.t("calendar.import_too_long")));
    }
    let years = state.store.import_calendar(&entries, auth.change(state, "calendar.import", None)).await?;
    Ok(CalendarImported { entries: entries.len(), years })
}

/// Records one holiday span with its make-up working days (admins), all or nothing.
pub(crate) async fn add_holiday_span(
    state: &AppState,
    auth: &Auth,
    span: (&str, NaiveDate, NaiveDate),
    workdays: &[NaiveDate],
    lang: Lang,
) -> Result<CalendarImported, ApiError> {
    admin(auth)?;
    let (name, from, to) = span;
    let entries = holiday_span(name, from, to, workdays).map_err(|e| {
        let (field, message) = match e {
            SpanError::Backwards => ("to", lang.t("calendar.span_backwards").to_string()),
            SpanError::TooLong => ("to", lang.t("calendar.span_too_long").replace("{n}", &MAX_SPAN_DAYS.to_string())),
            SpanError::NoName => ("name", lang.t("calendar.row_name").to_string()),
            SpanError::WorkdayInside(d) => {
                ("workdays", lang.t("calendar.span_workday_inside").replace("{date}", &d.to_string()))
            }
        };
        ApiError::field(field, message)
    })?;
    let years = state.store.import_calendar(&entries, auth.change(state, "calendar.add_span", None)).await?;
    Ok(CalendarImported { entries: entries.len(), years })
}

/// Imports the official list of a year's holidays and make-up working days (admins): CSV or plain text, UTF-8 or
/// GBK, one entry a line, `2027-01-01,holiday,元旦` (`workday` for a make-up working day). A bad row refuses the
/// whole list, naming each bad row.
#[utoipa::path(post, path = "/api/v1/calendar/import", operation_id = "import_calendar_days", tag = "requests",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "Recorded", body = CalendarImported), (status = 422, description = "Bad rows, by number")),
    security(("bearer" = [])))]
pub async fn import_calendar_days(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CalendarImported>, ApiError> {
    Ok(Json(import_calendar(&state, &auth, &body, Lang::from_headers(&headers)).await?))
}

/// A warning that the working calendar lacks a year it needs, with where to record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CalendarWarning {
    /// The year without an arrangement.
    pub year: i32,
    /// `urgent`: this year has none, deadlines are counted on weekends alone now; `upcoming`: next year has none
    /// yet (from December).
    pub urgency: &'static str,
    /// What it means and what to do, in the caller's language.
    pub message: String,
    /// The calendar page where an admin records the year.
    pub href: String,
}

impl CalendarWarning {
    /// The warning for a gap, in `lang`.
    pub fn new(gap: CalendarGap, lang: Lang) -> Self {
        let (urgency, key) = match gap.urgency {
            GapUrgency::Urgent => ("urgent", "calendar.gap_urgent"),
            GapUrgency::Upcoming => ("upcoming", "calendar.gap_upcoming"),
        };
        Self {
            year: gap.year,
            urgency,
            message: lang.t(key).replace("{year}", &gap.year.to_string()),
            href: format!("/admin/calendar?year={}", gap.year),
        }
    }
}

/// The calendar's gap today, if any, in `lang`: shown on the dashboard, the duty wall and the calendar page.
pub(crate) async fn calendar_warning(state: &AppState, lang: Lang) -> Result<Option<CalendarWarning>, ApiError> {
    let years = state.store.calendar_years().await?;
    Ok(calendar_gap(state.clock.today(), &years).map(|gap| CalendarWarning::new(gap, lang)))
}
