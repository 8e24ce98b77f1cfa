//! The governance dashboard page: the four pillars of a community with charts drawn on the server, and for a
//! street office one row per community.

use super::{Layout, PageContext};
use crate::AppState;
use crate::api::catalogue::{CalendarWarning, calendar_warning};
use crate::api::dashboard::dashboard;
use crate::auth::Auth;
use crate::charts::{bars, lines};
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;

/// The dashboard route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard_page))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    community: String,
    communities: Vec<(i64, String, bool)>,
    compounds: Vec<(i64, String, bool)>,
    buildings: Vec<(i64, String, bool)>,
    scoped: bool,
    from: String,
    to: String,
    tiles: Vec<(String, Vec<(String, String)>)>,
    rates_svg: String,
    mixing_svg: String,
    street: Vec<(String, String, String, String, String)>,
    calendar_warning: Option<CalendarWarning>,
}

/// The three rates month by month, as a line chart, from a dashboard's `service` part.
fn rates_chart(service: &Value, lang: crate::i18n::Lang) -> String {
    let trend = service["trend"].as_array().cloned().unwrap_or_default();
    let months: Vec<String> = trend
        .iter()
        .map(|m| m["month"].as_str().unwrap_or_default().get(2..).unwrap_or_default().to_string())
        .collect();
    let series = |key: &str| -> Vec<Option<f64>> { trend.iter().map(|m| m["rates"][key]["value"].as_f64()).collect() };
    lines(
        &months,
        &[
            (lang.t("dashboard.response").to_string(), "#8a1c14", series("response")),
            (lang.t("dashboard.resolution").to_string(), "#0b5d1e", series("resolution")),
            (lang.t("dashboard.satisfaction").to_string(), "#1f4e8c", series("satisfaction")),
        ],
        lang.t("dashboard.rates_trend"),
    )
}

#[derive(Deserialize, Default)]
struct Params {
    community_id: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    /// Empty from the form's "all" option.
    compound_id: Option<String>,
    building_id: Option<String>,
}

/// An optional id from a form field, where the empty string means "all".
fn id_field(field: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| ApiError::field(field, "应为编号 / must be an id")),
    }
}

async fn dashboard_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(p): Query<Params>,
) -> Response {
    let result = async {
        let c = auth.community(p.community_id)?;
        let lang = ctx.lang;
        let part = crate::api::dashboard::Part {
            compound_id: id_field("compound_id", &p.compound_id)?,
            building_id: id_field("building_id", &p.building_id)?,
        };
        let d = dashboard(&state, &auth, c, p.from.as_deref(), p.to.as_deref(), part).await?;
        let compounds: Vec<(i64, String, bool)> = state
            .store
            .compounds(c)
            .await?
            .into_iter()
            .map(|k| (k.id, k.name, Some(k.id) == part.compound_id))
            .collect();
        let buildings: Vec<(i64, String, bool)> = match part.compound_id {
            Some(k) => state
                .store
                .buildings(k)
                .await?
                .into_iter()
                .map(|b| (b.id, format!("{}号楼", b.number), Some(b.id) == part.building_id))
                .collect(),
            None => Vec::new(),
        };
        let scoped = d.get("scope").is_some();
        let s = &d["service"];
        let o = &d["order"];
        let g = &d["self_governance"];
        let i = &d["integration"];
        let t = |k: &str| lang.t(k).to_string();
        let tiles = vec![
            (
                t("dashboard.service"),
                vec![
                    (t("dashboard.response"), crate::charts::percent(&s["rates"]["response"]["value"])),
                    (t("dashboard.resolution"), crate::charts::percent(&s["rates"]["resolution"]["value"])),
                    (t("dashboard.satisfaction"), crate::charts::percent(&s["rates"]["satisfaction"]["value"])),
                    (t("dashboard.open"), s["open"].to_string()),
                    (t("dashboard.overdue"), s["overdue"].to_string()),
                    (t("dashboard.emergencies"), s["emergencies_open"].to_string()),
                    (
                        t("dashboard.proactive"),
                        format!(
                            "{} / {}",
                            d["proactive"]["open"],
                            d["proactive"]["accepted"].as_u64().unwrap_or(0)
                                + d["proactive"]["done"].as_u64().unwrap_or(0)
                        ),
                    ),
                ],
            ),
            (
                t("dashboard.order"),
                vec![
                    (t("patrol.round_completion"), crate::charts::percent(&o["rounds"]["rate"])),
                    (t("patrol.findings"), o["findings"].to_string()),
                    (t("patrol.fixed_share"), crate::charts::percent(&o["fixed_on_spot_share"])),
                    (t("patrol.open_illegal"), o["open_illegal_construction_cases"].to_string()),
                ],
            ),
            (
                t("dashboard.self_governance"),
                vec![
                    (t("reception.sessions"), g["sessions"].to_string()),
                    (t("reception.visits"), g["visits"].to_string()),
                    (t("reception.answered_share"), crate::charts::percent(&g["demands"]["share"])),
                    (t("dashboard.volunteers"), format!("{} (+{})", g["volunteers"], g["volunteers_joined"])),
                    (t("volunteer.hours"), g["volunteer_hours"].to_string()),
                ],
            ),
            (
                t("dashboard.integration"),
                vec![
                    (t("activity.activities"), i["activities"].to_string()),
                    (t("activity.attendance"), i["attendance"].to_string()),
                    (t("activity.mixing"), i["mean_mixing_index"].as_f64().map_or("—".into(), |x| format!("{x:.2}"))),
                    (t("activity.three_origins"), crate::charts::percent(&i["three_or_more_share"])),
                    (t("activity.to_reach"), i["households_never_attended"].to_string()),
                ],
            ),
        ];
        let rates_svg = rates_chart(s, lang);
        let mix = crate::api::activities::summary(
            &state,
            c,
            &crate::api::activities::PeriodQuery {
                from: d["from"].as_str().map(str::to_string),
                to: d["to"].as_str().map(str::to_string),
                community_id: None,
            },
        )
        .await?;
        let points: Vec<(String, f64)> = mix["trend"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            x["month"].as_str().unwrap_or_default().get(2..).unwrap_or_default().to_string(),
                            x["mean_mixing_index"].as_f64().unwrap_or(0.0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mixing_svg = bars(&points, lang.t("activity.trend"), "#0b5d1e", Some(1.0), 2);
        let all = state.store.communities().await?;
        let mine: Vec<(i64, String, bool)> = all
            .iter()
            .filter(|x| auth.actor.communities.contains(&x.id))
            .map(|x| (x.id, x.name.clone(), x.id == c))
            .collect();
        // A street office sees its communities side by side.
        let mut street = Vec::new();
        if mine.len() > 1 {
            // Several at a time: each reads its own tallies and figures, and the read pool has room for them.
            let (from, to) = (d["from"].as_str(), d["to"].as_str());
            let owned: Vec<(i64, String)> = mine.iter().map(|(id, name, _)| (*id, name.clone())).collect();
            let (state, auth) = (&state, &auth);
            let rows: Vec<_> = futures_util::stream::iter(owned)
                .map(|(id, name)| async move { (name, dashboard(state, auth, id, from, to, Default::default()).await) })
                .buffered(4)
                .collect()
                .await;
            for (name, x) in rows {
                if let Ok(x) = x {
                    street.push((
                        name,
                        crate::charts::percent(&x["service"]["rates"]["response"]["value"]),
                        crate::charts::percent(&x["service"]["rates"]["satisfaction"]["value"]),
                        x["order"]["open_illegal_construction_cases"].to_string(),
                        x["integration"]["mean_mixing_index"].as_f64().map_or("—".into(), |m| format!("{m:.2}")),
                    ));
                }
            }
        }
        Ok::<_, ApiError>(DashboardPage {
            calendar_warning: calendar_warning(&state, lang).await?,
            l: ctx.layout(lang.t("dashboard.title"), Some(&auth)),
            community: all.iter().find(|x| x.id == c).map(|x| x.name.clone()).unwrap_or_default(),
            communities: mine,
            compounds,
            buildings,
            scoped,
            from: d["from"].as_str().unwrap_or_default().into(),
            to: d["to"].as_str().unwrap_or_default().into(),
            tiles,
            rates_svg,
            mixing_svg,
            street,
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    l: Layout,
    community: String,
    from: String,
    to: String,
    figures: Vec<(String, String, String)>,
    buildings: Vec<Vec<String>>,
    notable: Vec<(String, String, String)>,
    article: Vec<(String, String, String, bool)>,
    rates_svg: String,
    buildings_svg: String,
}

/// The printable governance report route.
pub fn report_routes() -> Router<AppState> {
    Router::new().route("/reports", get(report_page))
}

async fn report_page(State(state): State<AppState>, ctx: PageContext, auth: Auth, Query(p): Query<Params>) -> Response {
    let result = async {
        let c = auth.community(p.community_id)?;
        let q = crate::api::reports::ReportQuery { from: p.from.clone(), to: p.to.clone(), community_id: Some(c) };
        let (from, to) = crate::api::reports::report_period(&state, &q)?;
        let r = crate::api::reports::report(&state, &auth, c, from, to).await?;
        let lang = ctx.lang;
        let t = |k: &str| lang.t(k).to_string();
        let p = &r["pillars"];
        let figures = vec![
            (
                t("dashboard.service"),
                t("dashboard.response"),
                crate::charts::percent(&p["service"]["rates"]["response"]["value"]),
            ),
            (
                t("dashboard.service"),
                t("dashboard.resolution"),
                crate::charts::percent(&p["service"]["rates"]["resolution"]["value"]),
            ),
            (
                t("dashboard.service"),
                t("dashboard.satisfaction"),
                crate::charts::percent(&p["service"]["rates"]["satisfaction"]["value"]),
            ),
            (t("dashboard.service"), t("report.requests"), p["service"]["rates"]["requests"].to_string()),
            (t("dashboard.order"), t("patrol.round_completion"), crate::charts::percent(&p["order"]["rounds"]["rate"])),
            (t("dashboard.order"), t("patrol.findings"), p["order"]["findings"].to_string()),
            (t("dashboard.order"), t("patrol.open_illegal"), p["order"]["open_illegal_construction_cases"].to_string()),
            (t("dashboard.self_governance"), t("reception.sessions"), p["self_governance"]["sessions"].to_string()),
            (t("dashboard.self_governance"), t("reception.visits"), p["self_governance"]["visits"].to_string()),
            (
                t("dashboard.self_governance"),
                t("dashboard.volunteers"),
                format!("{} (+{})", p["self_governance"]["volunteers"], p["self_governance"]["volunteers_joined"]),
            ),
            (t("dashboard.integration"), t("activity.activities"), p["integration"]["activities"].to_string()),
            (t("dashboard.integration"), t("activity.attendance"), p["integration"]["attendance"].to_string()),
            (
                t("dashboard.integration"),
                t("activity.mixing"),
                p["integration"]["mean_mixing_index"].as_f64().map_or("—".into(), |x| format!("{x:.2}")),
            ),
        ];
        let rates_svg = rates_chart(&p["service"], lang);
        let per_building: Vec<(String, f64)> = r["buildings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|b| {
                        let name = b["building"].as_str().unwrap_or_default();
                        // 琉璃井路3号院7号楼 → 3-7, so that 36 bars keep readable labels.
                        let short: String =
                            name.trim_start_matches("琉璃井路").replace("号院", "-").replace("号楼", "");
                        (short, b["requests"].as_f64().unwrap_or(0.0))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let buildings_svg =
            crate::charts::bars(&per_building, lang.t("report.requests_by_building"), "#1f4e8c", None, 0);
        let buildings = crate::api::reports::building_rows(&r);
        let notable = r["notable"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        (
                            lang.t(&format!("report.kind_{}", n["kind"].as_str().unwrap_or("activity"))).to_string(),
                            n["title"].as_str().unwrap_or_default().to_string(),
                            n["status"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let article = r["article"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            lang.t(&format!("report.article_{}", x["figure"].as_str().unwrap_or_default())).to_string(),
                            x["article"].as_str().unwrap_or_default().to_string(),
                            x["records"].to_string(),
                            x["agrees"].as_bool() == Some(true),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let community =
            state.store.communities().await?.into_iter().find(|x| x.id == c).map(|x| x.name).unwrap_or_default();
        Ok::<_, ApiError>(ReportPage {
            l: ctx.layout(lang.t("report.title"), Some(&auth)),
            community,
            from: from.to_string(),
            to: to.to_string(),
            figures,
            buildings,
            notable,
            article,
            rates_svg,
            buildings_svg,
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}

#[derive(Template)]
#[template(path = "duty_wall.html")]
struct WallPage {
    l: Layout,
    emergencies: Vec<(i64, String, String, String, String)>,
    deadlines: Vec<(i64, String, String, String, String)>,
    on_duty: Vec<String>,
    calendar_warning: Option<CalendarWarning>,
    /// How many messages wait to go out, and for how long, when any do.
    backlog: Option<String>,
}

/// The 7×24 duty wall route.
pub fn wall_routes() -> Router<AppState> {
    Router::new().route("/duty", get(wall_page))
}

fn wall_items(v: &Value) -> Vec<(i64, String, String, String, String)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["id"].as_i64().unwrap_or(0),
                        x["number"].as_str().unwrap_or_default().to_string(),
                        x["category"].as_str().unwrap_or_default().to_string(),
                        x["location"].as_str().unwrap_or_default().to_string(),
                        x["minutes_left"].to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn wall_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Response {
    let result = async {
        let c = auth.community(None)?;
        let w = crate::api::duty::wall(&state, &auth, c, ctx.lang).await?;
        let outbox = &w["outbox"];
        let backlog = outbox["waiting"].as_i64().filter(|n| *n > 0).map(|waiting| {
            ctx.lang
                .t("duty.backlog")
                .replace("{waiting}", &waiting.to_string())
                .replace("{emergencies}", &outbox["emergencies"].to_string())
                .replace("{minutes}", &outbox["oldest_minutes"].to_string())
        });
        Ok::<_, ApiError>(WallPage {
            backlog,
            calendar_warning: calendar_warning(&state, ctx.lang).await?,
            l: ctx.layout(ctx.lang.t("duty.title"), Some(&auth)),
            emergencies: wall_items(&w["emergencies"]),
            deadlines: wall_items(&w["deadlines"]),
            on_duty: w["on_duty"]
                .as_array()
                .map(|a| a.iter().map(|d| d["name"].as_str().unwrap_or_default().to_string()).collect())
                .unwrap_or_default(),
        })
    }
    .await;
    super::page_or_error(&ctx, &auth, result)
}
