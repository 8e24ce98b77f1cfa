//! The governance report (治理月报) for any period: the four pillars' figures, the same by building, and notable
//! cases — as JSON, as XLSX, and as the printable page.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiQuery};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wujia_app::period::beijing_start;

/// `?from=&to=&community_id=`; the default is last month.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First Beijing date.
    pub from: Option<String>,
    /// Last Beijing date, inclusive.
    pub to: Option<String>,
    /// The community.
    pub community_id: Option<i64>,
}

/// One building's line in the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BuildingLine {
    /// Compound and building.
    pub building: String,
    /// Households.
    pub households: u64,
    /// Requests received.
    pub requests: u64,
    /// Of them resolved.
    pub resolved: u64,
    /// Followed up satisfied or basically satisfied.
    pub satisfied: u64,
    /// Patrol findings.
    pub findings: u64,
    /// Rectification cases open now.
    pub open_cases: u64,
    /// Reception-day visits.
    pub visits: u64,
    /// Activity attendances.
    pub attendances: u64,
}

/// One figure the article about 望坛新苑 reports, next to what the records of the period give.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleFigure {
    /// What is counted.
    pub figure: &'static str,
    /// How the article puts it.
    pub article: &'static str,
    /// What the records give.
    pub records: u64,
    /// Whether the records bear the article out.
    pub agrees: bool,
}

/// The article's figures from the records: how many households, origin communities, enrolment questions on the
/// busiest day, reception days of each kind, visits, volunteers who joined, open illegal construction and
/// dissatisfied residents. With the demo community and the article's period, every one agrees.
async fn article_figures(
    state: &AppState,
    c: i64,
    pillars: &Value,
    tallies: &wujia_store::Tallies,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<ArticleFigure>, ApiError> {
    let registry = state.store.registry_summary(c, state.clock.today()).await?;
    let origins = registry.residents_by_origin.iter().filter(|(_, n)| *n > 0).count() as u64;
    let days = state.store.reception_days(c, Some(start), Some(end)).await?;
    let of_kind = |k: &str| days.iter().filter(|d| d.kind == k).count() as u64;
    let enrolment = state.store.busiest_day(c, "category", "education", start, end).await?;
    let overall = tallies.get(&("all".to_string(), String::new())).copied().unwrap_or_default();
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let g = &pillars["self_governance"];
    let figure = |figure, article, records: u64, agrees: bool| ArticleFigure { figure, article, records, agrees };
    Ok(vec![
        figure("households", "首批2268户居民", registry.households as u64, registry.households == 2268),
        figure("origin_communities", "居民来自5个不同的社区", origins, origins == 5),
        figure("enrolment_first_day", "入学信息采集首日50余户问询", enrolment, enrolment >= 50),
        figure("regular_reception_days", "6场常态化居民接待日", of_kind("regular"), of_kind("regular") == 6),
        figure("themed_reception_days", "2场专题居民接待日", of_kind("themed"), of_kind("themed") == 2),
        figure("visits", "累计接待居民110余人次", n(&g["visits"]), (110..120).contains(&n(&g["visits"]))),
        figure(
            "volunteers_joined",
            "21人自愿加入志愿者队伍",
            n(&g["volunteers_joined"]),
            n(&g["volunteers_joined"]) == 21,
        ),
        figure(
            "open_illegal_construction",
            "零违建",
            n(&pillars["order"]["open_illegal_construction_cases"]),
            n(&pillars["order"]["open_illegal_construction_cases"]) == 0,
        ),
        figure(
            "dissatisfied",
            "零投诉",
            overall.followed - overall.satisfied,
            overall.followed > 0 && overall.followed == overall.satisfied,
        ),
    ])
}

/// The report's lines by building as text cells, in the columns of the page and the sheet.
pub(crate) fn building_rows(report: &Value) -> Vec<Vec<String>> {
    const COLUMNS: [&str; 9] = [
        "building",
        "households",
        "requests",
        "resolved",
        "satisfied",
        "findings",
        "open_cases",
        "visits",
        "attendances",
    ];
    report["buildings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|b| {
                    COLUMNS
                        .iter()
                        .map(|k| match &b[*k] {
                            Value::String(s) => s.clone(),
                            v => v.to_string(),
                        })
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The report's period: the given one, or last month.
pub(crate) fn report_period(state: &AppState, q: &ReportQuery) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let today = state.clock.today();
    let first = today.with_day(1).unwrap_or(today);
    let last_month_end = first - Duration::days(1);
    let last_month_start = last_month_end.with_day(1).unwrap_or(last_month_end);
    let from = q
        .from
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| wujia_app::period::date("from", s))
        .transpose()?
        .unwrap_or(last_month_start);
    let to =
        q.to.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| wujia_app::period::date("to", s))
            .transpose()?
            .unwrap_or(last_month_end);
    if to < from {
        return Err(ApiError::field("to", "截止日期不能早于起始日期 / not before from"));
    }
    Ok((from, to))
}

/// The report as JSON: the dashboard's pillars, lines by building, and notable cases.
pub(crate) async fn report(
    state: &AppState,
    auth: &Auth,
    c: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Value, ApiError> {
    let (f, t) = (from.to_string(), to.to_string());
    let pillars = super::dashboard::dashboard(state, auth, c, Some(&f), Some(&t), Default::default()).await?;
    let (start, end) = (beijing_start(from), beijing_start(to + Duration::days(1)));
    let homes = state.store.household_buildings(c).await?;
    let building_of: BTreeMap<i64, i64> = homes.iter().map(|(h, b, _)| (*h, *b)).collect();
    let mut lines: BTreeMap<i64, BuildingLine> = BTreeMap::new();
    let mut order: Vec<i64> = Vec::new();
    for (_, b, name) in &homes {
        let line = lines.entry(*b).or_insert_with(|| {
            order.push(*b);
            BuildingLine { building: name.clone(), ..Default::default() }
        });
        line.households += 1;
    }
    let tallies = state.store.request_tallies(c, from, to + Duration::days(1), state.clock.now(), &[], true).await?;
    for ((dim, key), t) in &tallies {
        if let Some(l) = (dim == "building").then(|| key.parse::<i64>().ok()).flatten().and_then(|b| lines.get_mut(&b))
        {
            l.requests += t.requests;
            l.resolved += t.resolved;
            l.satisfied += t.satisfied;
        }
    }
    for (b, (findings, open_cases)) in state.store.patrol_counts_by_building(c, start, end).await? {
        if let Some(l) = lines.get_mut(&b) {
            l.findings += u64::try_from(findings).unwrap_or(0);
            l.open_cases += u64::try_from(open_cases).unwrap_or(0);
        }
    }
    for d in state.store.reception_days(c, Some(start), Some(end)).await? {
        for v in state.store.visits(d.id).await? {
            if let Some(l) = v.household_id.and_then(|h| building_of.get(&h)).and_then(|b| lines.get_mut(b)) {
                l.visits += 1;
            }
        }
    }
    for a in state.store.attendance(c, end).await?.into_iter().filter(|a| a.starts_at >= start) {
        for (h, _) in a.attendees {
            if let Some(l) = building_of.get(&h).and_then(|b| lines.get_mut(b)) {
                l.attendances += 1;
            }
        }
    }
    // Notable cases: emergencies, illegal construction closed, and the period's activities.
    let mut notable: Vec<Value> = state
        .store
        .emergencies(c, start, end, 200)
        .await?
        .into_iter()
        .map(|r| json!({"kind": "emergency", "title": format!("{} {}", r.number, r.description), "status": r.status}))
        .collect();
    for k in state.store.cases_closed_between(c, start, end).await? {
        notable.push(
            json!({"kind": "case_closed", "title": format!("{} {}", k.number, k.place_text), "status": k.status}),
        );
    }
    for a in state.store.activities(c, start, end).await? {
        notable.push(json!({"kind": "activity", "title": a.title, "status": format!("{}/{}", a.attended, a.taken)}));
    }
    let article = article_figures(state, c, &pillars, &tallies, start, end).await?;
    Ok(json!({
        "from": from, "to": to, "community_id": c,
        "article": article,
        "pillars": pillars,
        "buildings": order.iter().filter_map(|b| lines.get(b)).collect::<Vec<_>>(),
        "notable": notable,
    }))
}

/// The governance report of a period as JSON (default: last month).
#[utoipa::path(get, path = "/api/v1/reports/governance", operation_id = "get_governance_report", tag = "dashboard", params(ReportQuery),
    responses((status = 200, description = "The report")), security(("bearer" = [])))]
pub async fn get_governance_report(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let c = auth.community(q.community_id)?;
    let (from, to) = report_period(&state, &q)?;
    Ok(axum::Json(report(&state, &auth, c, from, to).await?))
}

/// The governance report of a period as XLSX: the four pillars, the buildings, and notable cases.
#[utoipa::path(get, path = "/api/v1/reports/governance.xlsx", operation_id = "export_governance_report", tag = "dashboard", params(ReportQuery),
    responses((status = 200, description = "XLSX")), security(("bearer" = [])))]
pub async fn export_governance_report(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let c = auth.community(q.community_id)?;
    let (from, to) = report_period(&state, &q)?;
    let r = report(&state, &auth, c, from, to).await?;
    let p = &r["pillars"];
    let figures = vec![
        vec!["接诉即办".into(), "响应率".into(), crate::charts::percent(&p["service"]["rates"]["response"]["value"])],
        vec!["接诉即办".into(), "解决率".into(), crate::charts::percent(&p["service"]["rates"]["resolution"]["value"])],
        vec![
            "接诉即办".into(),
            "满意率".into(),
            crate::charts::percent(&p["service"]["rates"]["satisfaction"]["value"]),
        ],
        vec!["接诉即办".into(), "诉求件数".into(), p["service"]["rates"]["requests"].to_string()],
        vec!["巡查".into(), "巡查完成率".into(), crate::charts::percent(&p["order"]["rounds"]["rate"])],
        vec!["巡查".into(), "发现问题".into(), p["order"]["findings"].to_string()],
        vec!["巡查".into(), "未销号违建".into(), p["order"]["open_illegal_construction_cases"].to_string()],
        vec!["接待与议事".into(), "接待日".into(), p["self_governance"]["sessions"].to_string()],
        vec!["接待与议事".into(), "来访".into(), p["self_governance"]["visits"].to_string()],
        vec![
            "接待与议事".into(),
            "诉求答复率".into(),
            crate::charts::percent(&p["self_governance"]["demands"]["share"]),
        ],
        vec!["志愿者".into(), "新加入".into(), p["self_governance"]["volunteers_joined"].to_string()],
        vec!["志愿者".into(), "服务时长".into(), p["self_governance"]["volunteer_hours"].to_string()],
        vec!["活动".into(), "活动场次".into(), p["integration"]["activities"].to_string()],
        vec!["活动".into(), "到场人次".into(), p["integration"]["attendance"].to_string()],
        vec![
            "活动".into(),
            "平均混合指数".into(),
            p["integration"]["mean_mixing_index"].as_f64().map_or("—".into(), |x| format!("{x:.2}")),
        ],
    ];
    let buildings = building_rows(&r);
    let notable: Vec<Vec<String>> = r["notable"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    vec![
                        n["kind"].as_str().unwrap_or_default().into(),
                        n["title"].as_str().unwrap_or_default().into(),
                        n["status"].as_str().unwrap_or_default().into(),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    let bytes = wujia_core::transfer::write_workbook(&[
        ("四个板块", vec!["板块", "指标", "数值"], figures),
        (
            "按楼栋",
            vec!["楼栋", "户数", "诉求", "已解决", "满意", "巡查发现", "未销号案件", "接待来访", "活动到场"],
            buildings,
        ),
        ("典型事项", vec!["类型", "事项", "状态"], notable),
    ])
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"governance-{from}-{to}.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}
