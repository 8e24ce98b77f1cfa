//! Admins keep the category catalogue and the working calendar current.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, FieldIssue};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use wujia_core::accounts::{Action, Scope};
use wujia_core::requests::{DayKind, HandlerKind, Limit, Urgency};

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

/// The holidays and make-up working days of a year.
#[utoipa::path(get, path = "/api/v1/calendar", operation_id = "list_calendar_days", tag = "requests", params(YearQuery),
    responses((status = 200, description = "Days")), security(("bearer" = [])))]
pub async fn list_calendar_days(
    State(state): State<AppState>,
    _auth: Auth,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> Result<Json<Value>, ApiError> {
    use chrono::Datelike;
    let year = q.year.unwrap_or_else(|| state.clock.today().year());
    let from = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| ApiError::field("year", "无效年份 / invalid year"))?;
    let to =
        NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(|| ApiError::field("year", "无效年份 / invalid year"))?;
    let days = state.store.calendar_days(from, to).await?;
    Ok(Json(json!(days.into_iter().map(|(d, k, n)| json!({"date": d, "kind": k, "name": n})).collect::<Vec<_>>())))
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
        "holiday" => Some(DayKind::Holiday),
        "workday" => Some(DayKind::Workday),
        "normal" => None,
        _ => return Err(ApiError::field("kind", "应为 holiday、workday 或 normal")),
    };
    state.store.set_calendar_day(day, kind, b.name.trim(), auth.change(&state, "calendar.update", None)).await?;
    Ok(StatusCode::NO_CONTENT)
}
