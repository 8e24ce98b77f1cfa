//! The holiday calendar page (admins): a year's holidays and make-up working days; a holiday span added by hand,
//! the State Council's list imported, an entry removed. It calls the same use cases as the API.

use super::{Layout, PageContext, error_page, page_with_error, render};
use crate::AppState;
use crate::api::catalogue::{
    CalendarImported, CalendarWarning, add_holiday_span, calendar_warning, import_calendar, set_calendar_day,
    year_range,
};
use crate::auth::Auth;
use crate::error::{ApiError, FieldIssue};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use wujia_core::accounts::{Action, Scope};
use wujia_core::requests::DayKind;

/// The calendar page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(calendar_page))
        .route("/admin/calendar/span", post(span_submit))
        .route("/admin/calendar/import", post(import_submit))
        .route("/admin/calendar/{date}/remove", post(remove_submit))
}

struct EntryRow {
    date: String,
    weekday: String,
    holiday: bool,
    kind: String,
    name: String,
}

/// What the admin typed, shown again when the form is refused.
#[derive(Default, Deserialize)]
struct SpanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    workdays: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    l: Layout,
    year: i32,
    covered: bool,
    years: Vec<(i32, bool)>,
    entries: Vec<EntryRow>,
    calendar_warning: Option<CalendarWarning>,
    notice: Option<String>,
    errors: Vec<String>,
    span: SpanForm,
    import_text: String,
}

#[derive(Deserialize)]
struct YearParam {
    year: Option<i32>,
}

async fn view(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    year: Option<i32>,
    notice: Option<String>,
    span: SpanForm,
    import_text: String,
) -> Result<CalendarPage, ApiError> {
    auth.require(Action::ManageAccounts, Scope::DEPLOYMENT)?;
    let lang = ctx.lang;
    let warning = calendar_warning(state, lang).await?;
    // Without a year asked for, show the one that needs attention, else this year.
    let year = year.or(warning.as_ref().map(|w| w.year)).unwrap_or_else(|| state.clock.today().year());
    let (from, to) = year_range(year)?;
    let covered_years = state.store.calendar_years().await?;
    let mut years: Vec<(i32, bool)> = covered_years.iter().map(|y| (*y, *y == year)).collect();
    if !covered_years.contains(&year) {
        years.push((year, true));
        years.sort_unstable();
    }
    let entries = state
        .store
        .calendar_entries(from, to)
        .await?
        .into_iter()
        .map(|e| EntryRow {
            date: e.date.to_string(),
            weekday: lang.t(&format!("weekday.{}", e.date.weekday().number_from_monday())).to_string(),
            holiday: e.kind == DayKind::Holiday,
            kind: lang.t(&format!("calendar.kind_{}", e.kind.code())).to_string(),
            name: e.name,
        })
        .collect();
    Ok(CalendarPage {
        l: ctx.layout(lang.t("calendar.title"), Some(auth)),
        year,
        covered: covered_years.contains(&year),
        years,
        entries,
        calendar_warning: warning,
        notice,
        errors: Vec::new(),
        span,
        import_text,
    })
}

/// The page again with the refused form's errors and what was typed.
async fn refused(
    state: &AppState,
    ctx: &PageContext,
    auth: &Auth,
    year: Option<i32>,
    e: ApiError,
    span: SpanForm,
    import_text: String,
) -> Response {
    let page = view(state, ctx, auth, year, None, span, import_text).await.map(|mut p| {
        p.errors = match &e {
            ApiError::Validation(_) => e.issues().iter().map(|i| issue_line(ctx, i)).collect(),
            other => vec![other.detail()],
        };
        p
    });
    page_with_error(ctx, auth, e, page)
}

/// A refused field or row as a person reads it: `第 3 行：日期应为 YYYY-MM-DD…`.
fn issue_line(ctx: &PageContext, issue: &FieldIssue) -> String {
    match issue.row {
        Some(row) => format!("{}{}", ctx.lang.t("calendar.row_n").replace("{row}", &row.to_string()), issue.message),
        None => issue.message.clone(),
    }
}

fn recorded(ctx: &PageContext, done: &CalendarImported) -> String {
    let years: Vec<String> = done.years.iter().map(i32::to_string).collect();
    ctx.lang.t("calendar.recorded").replace("{n}", &done.entries.to_string()).replace("{years}", &years.join("、"))
}

async fn calendar_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<YearParam>,
) -> Response {
    match view(&state, &ctx, &auth, q.year, None, SpanForm::default(), String::new()).await {
        Ok(p) => render(p),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

fn date_field(field: &str, value: &str, ctx: &PageContext) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::field(field, ctx.lang.t("calendar.bad_date")))
}

async fn span_submit(State(state): State<AppState>, ctx: PageContext, auth: Auth, Form(f): Form<SpanForm>) -> Response {
    if let Err(e) = auth.check_csrf(&f.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let parsed = (|| {
        let from = date_field("from", &f.from, &ctx)?;
        let to = if f.to.trim().is_empty() { from } else { date_field("to", &f.to, &ctx)? };
        let workdays = f
            .workdays
            .split([',', '，', ' ', '、', '\n'])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| date_field("workdays", w, &ctx))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, ApiError>((from, to, workdays))
    })();
    let result = match parsed {
        Ok((from, to, workdays)) => {
            add_holiday_span(&state, &auth, (&f.name, from, to), &workdays, ctx.lang).await.map(|d| (d, from))
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((done, from)) => {
            let notice = recorded(&ctx, &done);
            match view(&state, &ctx, &auth, Some(from.year()), Some(notice), SpanForm::default(), String::new()).await {
                Ok(p) => render(p),
                Err(e) => error_page(&ctx, Some(&auth), e),
            }
        }
        Err(e @ (ApiError::Validation(_) | ApiError::BadRequest { .. })) => {
            let year = NaiveDate::parse_from_str(f.from.trim(), "%Y-%m-%d").ok().map(|d| d.year());
            refused(&state, &ctx, &auth, year, e, f, String::new()).await
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

/// The import form: the CSRF token, pasted lines and an optional file (the file wins when both are given).
struct ImportForm {
    csrf: String,
    lines: String,
    file: Vec<u8>,
}

async fn read_import(mut multipart: Multipart) -> Result<ImportForm, ApiError> {
    let unreadable = || ApiError::BadRequest {
        field: Some("file".into()),
        detail: "上传内容无法读取 / the upload could not be read".into(),
    };
    let mut form = ImportForm { csrf: String::new(), lines: String::new(), file: Vec::new() };
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name().unwrap_or("") {
            "file" => form.file = field.bytes().await.map_err(|_| ApiError::PayloadTooLarge)?.to_vec(),
            "csrf" => form.csrf = field.text().await.map_err(|_| unreadable())?,
            "lines" => form.lines = field.text().await.map_err(|_| unreadable())?,
            _ => {}
        }
    }
    Ok(form)
}

async fn import_submit(State(state): State<AppState>, ctx: PageContext, auth: Auth, multipart: Multipart) -> Response {
    let form = match read_import(multipart).await {
        Ok(f) => f,
        Err(e) => return error_page(&ctx, Some(&auth), e),
    };
    if let Err(e) = auth.check_csrf(&form.csrf) {
        return error_page(&ctx, Some(&auth), e);
    }
    let bytes = if form.file.is_empty() { form.lines.as_bytes() } else { form.file.as_slice() };
    match import_calendar(&state, &auth, bytes, ctx.lang).await {
        Ok(done) => {
            let notice = recorded(&ctx, &done);
            let year = done.years.last().copied();
            match view(&state, &ctx, &auth, year, Some(notice), SpanForm::default(), String::new()).await {
                Ok(p) => render(p),
                Err(e) => error_page(&ctx, Some(&auth), e),
            }
        }
        Err(e @ (ApiError::Validation(_) | ApiError::UnsupportedFile(_))) => {
            refused(&state, &ctx, &auth, None, e, SpanForm::default(), form.lines).await
        }
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    csrf: String,
}

async fn remove_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(date): Path<String>,
    Form(f): Form<RemoveForm>,
) -> Response {
    let result = async {
        auth.check_csrf(&f.csrf)?;
        let day = date_field("date", &date, &ctx)?;
        set_calendar_day(&state, &auth, day, None, "").await?;
        Ok::<_, ApiError>(day)
    }
    .await;
    match result {
        Ok(day) => Redirect::to(&format!("/admin/calendar?year={}", day.year())).into_response(),
        Err(e) => error_page(&ctx, Some(&auth), e),
    }
}
