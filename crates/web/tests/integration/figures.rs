//! Integration on SQLite and PostgreSQL: the three rates read from the running tallies are the rates of the requests
//! themselves, over the demo's history and as requests move through the workflow.

use crate::common::TestApp;
use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wujia_core::requests::{Followup, RequestFacts, Satisfaction, Solved, ThreeRates, three_rates};
use wujia_store::{RequestFilter, RequestRow};

on_both!(the_tallied_rates_are_the_rates_of_the_requests);

fn facts(r: &RequestRow) -> RequestFacts {
    let followup = match (r.followup_solved.as_deref(), r.followup_satisfaction.as_deref()) {
        (Some(s), Some(t)) => {
            let solved: Solved = serde_json::from_value(json!(s)).unwrap();
            let satisfaction: Satisfaction = serde_json::from_value(json!(t)).unwrap();
            Some(Followup { solved, satisfaction })
        }
        _ => None,
    };
    RequestFacts {
        received_at: r.received_at,
        respond_due: r.respond_due,
        responded_at: r.responded_at,
        resolve_due: r.resolve_due,
        resolved_at: r.resolved_at,
        followup,
    }
}

/// The same rates, allowing a second of rounding in the mean times.
fn same(a: &ThreeRates, b: &Value, what: &str) {
    let b: Value = b.clone();
    assert_eq!(json!(a.requests), b["requests"], "{what}");
    let mine = json!(a);
    for k in ["response", "resolution", "satisfaction"] {
        for part in ["numerator", "denominator", "small_sample"] {
            assert_eq!(mine[k][part], b[k][part], "{what}: {k}");
        }
        match (mine[k]["value"].as_f64(), b[k]["value"].as_f64()) {
            (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what}: {k} {x} vs {y}"),
            (x, y) => assert_eq!(x, y, "{what}: {k}"),
        }
    }
    assert_eq!(json!(a.overdue), b["overdue"], "{what}");
    for (mine, k) in
        [(a.mean_minutes_to_respond, "mean_minutes_to_respond"), (a.mean_minutes_to_resolve, "mean_minutes_to_resolve")]
    {
        match (mine, b[k].as_f64()) {
            (Some(x), Some(y)) => assert!((x - y).abs() < 0.05, "{what}: {k} {x} vs {y}"),
            (None, None) => {}
            other => panic!("{what}: {k} {other:?}"),
        }
    }
}

async fn check(app: &TestApp, staff: &str, from: &str, to: &str) {
    let store = &app.state.store;
    let now = wujia_web::Clock::now(&*app.clock);
    let community = app.get_json(staff, "/api/v1/communities").await[0]["id"].as_i64().unwrap();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let start = day(from).and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(8);
    let end = day(to).and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(8);
    let rows = store
        .all_requests(
            community,
            &RequestFilter { from: Some(start), to: Some(end), limit: i64::MAX, ..Default::default() },
        )
        .await
        .unwrap();
    assert!(!rows.is_empty());
    let summary = app.get_json(staff, &format!("/api/v1/requests/summary?from={from}&to={to}")).await;
    let all: Vec<RequestFacts> = rows.iter().map(facts).collect();
    same(&three_rates(&all, now), &summary["overall"], "overall");
    let categories = store.categories().await.unwrap();
    let mut by_channel: BTreeMap<String, Vec<RequestFacts>> = BTreeMap::new();
    let mut by_category: BTreeMap<String, Vec<RequestFacts>> = BTreeMap::new();
    let mut by_building: BTreeMap<String, Vec<RequestFacts>> = BTreeMap::new();
    for r in &rows {
        by_channel.entry(r.channel.clone()).or_default().push(facts(r));
        let code = &categories.iter().find(|c| c.id == r.category_id).unwrap().code;
        by_category.entry(code.split('.').next().unwrap().to_string()).or_default().push(facts(r));
        by_building.entry(r.building_id.map(|b| b.to_string()).unwrap_or_default()).or_default().push(facts(r));
    }
    for (dim, groups) in [("by_channel", by_channel), ("by_category", by_category), ("by_building", by_building)] {
        assert_eq!(summary[dim].as_object().unwrap().len(), groups.len(), "{dim}");
        for (k, fs) in groups {
            same(&three_rates(&fs, now), &summary[dim][&k], &format!("{dim} {k}"));
        }
    }
}

async fn the_tallied_rates_are_the_rates_of_the_requests(app: TestApp) {
    wujia_web::load_request_history(&app.state.store, wujia_web::Clock::now(&*app.clock)).await.unwrap();
    let staff = app.token("zhangli").await;
    check(&app, &staff, "2023-05-01", "2024-03-01").await;
    check(&app, &staff, "2023-09-01", "2023-10-01").await;
    // Days later, requests left unanswered are past their deadlines: the moment of reading counts.
    app.clock.advance(Duration::days(20));
    check(&app, &staff, "2023-05-01", "2030-01-01").await;
    let d = app.get_json(&staff, "/api/v1/dashboard?from=2023-05-01&to=2024-02-29").await;
    let s = app.get_json(&staff, "/api/v1/requests/summary?from=2023-05-01&to=2024-03-01").await;
    assert_eq!(d["service"]["rates"]["requests"], s["overall"]["requests"], "the dashboard and the summary agree");
    assert_eq!(d["service"]["rates"]["response"]["numerator"], s["overall"]["response"]["numerator"]);
    let months: u64 =
        d["service"]["trend"].as_array().unwrap().iter().map(|m| m["rates"]["requests"].as_u64().unwrap()).sum();
    assert_eq!(months, s["overall"]["requests"].as_u64().unwrap(), "the months add up");
}
