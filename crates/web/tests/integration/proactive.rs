//! Integration over HTTP on SQLite and PostgreSQL: acting before the complaint (未诉先办) — the detector's
//! proposals from the records, staff decisions on them, and their measured outcome.

use crate::common::{TestApp, hidden};
use chrono::Duration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_household_calling_again_and_again_becomes_a_task_that_staff_take_on_and_see_through,
    the_demo_history_yields_proposals_and_the_job_scans_once_an_hour,
    staff_decide_on_proposals_from_the_page,
);

async fn problem(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn general_leaf(app: &TestApp, token: &str) -> Value {
    let cats = app.get_json(token, "/api/v1/categories").await;
    cats.as_array().unwrap().iter().find(|c| c["urgency"] == "general" && c["leaf"] == true).unwrap()["id"].clone()
}

/// 胡阿姨 calls three times in ten days; the fourth time need not come.
async fn three_calls_from_hu(app: &TestApp) {
    let hu = app.token("jumin_hu").await;
    let leaf = general_leaf(app, &hu).await;
    for (i, text) in ["楼道灯不亮", "楼道灯又不亮了", "楼道灯还是不亮,老人晚上下楼不方便"].iter().enumerate()
    {
        if i > 0 {
            app.clock.advance(Duration::days(4));
        }
        let res =
            app.send(Method::POST, &hu, "/api/v1/requests", &json!({"category_id": leaf, "description": text})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}

async fn a_household_calling_again_and_again_becomes_a_task_that_staff_take_on_and_see_through(app: TestApp) {
    three_calls_from_hu(&app).await;
    let staff = app.token("zhangli").await;
    let scanned = app.send(Method::POST, &staff, "/api/v1/proposals/scan", &json!({})).await;
    assert_eq!(scanned.status(), StatusCode::OK);
    assert!(scanned.json::<Value>().await.unwrap()["created"].as_u64().unwrap() >= 1);
    let again =
        app.send(Method::POST, &staff, "/api/v1/proposals/scan", &json!({})).await.json::<Value>().await.unwrap();
    assert_eq!(again["created"], 0, "a detection is proposed once");

    let open = app.get_json(&staff, "/api/v1/proposals?status=open").await;
    let p =
        open.as_array().unwrap().iter().find(|p| p["pattern"] == "repeat_caller").expect("the repeat caller").clone();
    assert_eq!(p["kind"], "task");
    assert!(p["title"].as_str().unwrap().contains("3号院7号楼1单元102"), "{p}");
    assert!(p["evidence"].as_str().unwrap().contains("3 次"), "{p}");
    assert_eq!(p["effect"]["after"], 0, "nothing since it was detected");
    assert_eq!(p["effect"]["before"], 2, "the calls before the third");
    let id = p["id"].as_i64().unwrap();
    let path = format!("/api/v1/proposals/{id}/decision");

    // Who may see and decide.
    assert_eq!(app.get(&app.token("jumin_hu").await, "/api/v1/proposals").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&app.token("wuye").await, "/api/v1/proposals").await.status(), StatusCode::FORBIDDEN);
    let street = app.token("jiedao").await;
    assert_eq!(app.get(&street, &format!("/api/v1/proposals/{id}")).await.status(), StatusCode::OK);
    let body = json!({"decision": "accept", "note": "上门查看", "version": p["version"]});
    assert_eq!(app.send(Method::POST, &street, &path, &body).await.status(), StatusCode::FORBIDDEN);

    // Refusals name the field and leave the proposal as it was.
    for (body, field) in [
        (json!({"decision": "accept", "note": " ", "version": p["version"]}), "note"),
        (json!({"decision": "dismiss", "version": p["version"]}), "reason"),
        (json!({"decision": "complete", "outcome": "修好了", "version": p["version"]}), "status"),
        (json!({"decision": "postpone", "version": p["version"]}), "decision"),
        (json!({"decision": "accept", "note": "上门", "due": "下周", "version": p["version"]}), "due"),
        (
            json!({"decision": "accept", "note": "上门", "owner_id": app.user_id_of("jumin_hu").await, "version": p["version"]}),
            "owner_id",
        ),
    ] {
        let (status, e) = problem(app.send(Method::POST, &staff, &path, &body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(e["errors"][0]["field"], field, "{e}");
    }
    let stale = json!({"decision": "accept", "note": "上门", "version": p["version"].as_i64().unwrap() + 1});
    assert_eq!(app.send(Method::POST, &staff, &path, &stale).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.get_json(&staff, &format!("/api/v1/proposals/{id}")).await["status"], "open");

    // Accepted with a plan, an owner and a date; done with its outcome; the requests after are counted.
    app.clock.advance(Duration::hours(2));
    let worker = app.user_id_of("sw_liu").await;
    let accepted: Value = app
        .send(Method::POST, &staff, &path, &json!({"decision": "accept", "note": "包楼社工上门,请物业一起查线路", "owner_id": worker, "due": "2024-03-20", "version": p["version"]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((accepted["status"].as_str(), accepted["owner_id"].as_i64()), (Some("accepted"), Some(worker)));
    assert_eq!(accepted["effect"]["before"], 3, "the three calls before the decision");
    let again = json!({"decision": "dismiss", "reason": "重复", "version": accepted["version"]});
    let (status, e) = problem(app.send(Method::POST, &staff, &path, &again).await).await;
    assert_eq!((status, e["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")));
    app.clock.advance(Duration::days(31));
    let done: Value = app
        .send(Method::POST, &staff, &path, &json!({"decision": "complete", "outcome": "更换了楼道声控灯和线路,此后没有再来电", "version": accepted["version"]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "done");
    assert_eq!(done["effect"], json!({"before": 3, "after": 0, "complete": true}));
    assert!(done["done_at"].is_string());
    // Every decision is in the audit log.
    let events =
        app.get_json(&app.token("admin").await, &format!("/api/v1/audit/events?entity=proposal&entity_id={id}")).await;
    let actions: Vec<&str> = events.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for a in ["proposal.detect", "proposal.accept", "proposal.complete"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

async fn the_demo_history_yields_proposals_and_the_job_scans_once_an_hour(app: TestApp) {
    let store = &app.state.store;
    wujia_web::load_request_history(store, wujia_web::Clock::now(&*app.clock)).await.unwrap();
    let staff = app.token("zhangli").await;
    let all = app.get_json(&staff, "/api/v1/proposals").await;
    let all = all.as_array().unwrap();
    // The enrolment day (50+ households in hours) is a surge: a topic of the month.
    assert!(
        all.iter().any(|p| p["pattern"] == "rising"
            && p["kind"] == "topic_of_month"
            && p["title"].as_str().unwrap().contains("入学")),
        "{all:?}"
    );
    let d = app.get_json(&staff, "/api/v1/dashboard?from=2023-05-01&to=2024-02-29").await;
    assert_eq!(d["proactive"]["open"].as_u64().unwrap() as usize, all.len());

    // The job: recent calls are found once, and not looked at again within the hour.
    three_calls_from_hu(&app).await;
    let first = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert!(first.proposals >= 1, "{first:?}");
    assert_eq!(app.get_json(&staff, "/api/v1/proposals").await.as_array().unwrap().len(), all.len() + first.proposals);
    // Within the hour no node runs the detector again, even with new records; after it, the new records count.
    let leaf = general_leaf(&app, &staff).await;
    let wang = app
        .get_json(&staff, "/api/v1/households?q=6%E5%8F%B7%E9%99%A21%E5%8F%B7%E6%A5%BC2%E5%8D%95%E5%85%83501")
        .await[0]["household_id"]
        .clone();
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(10));
        let body = json!({"category_id": leaf, "description": "又来问", "channel": "phone", "household_id": wang});
        assert_eq!(app.send(Method::POST, &staff, "/api/v1/requests", &body).await.status(), StatusCode::CREATED);
    }
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().proposals, 0);
    app.clock.advance(Duration::minutes(31));
    assert!(wujia_web::run_jobs_once(&app.state).await.unwrap().proposals >= 1, "王先生 called three times");
}

async fn staff_decide_on_proposals_from_the_page(app: TestApp) {
    three_calls_from_hu(&app).await;
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url("/proposals")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("未诉先办") && page.contains("暂无建议"), "{page}");
    let csrf = hidden(&page, "csrf");
    let res = zl.post(app.url("/proposals/scan")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("3号院7号楼1单元102") && page.contains("多次来电"), "{page}");
    let staff = app.token("zhangli").await;
    let p = app.get_json(&staff, "/api/v1/proposals?status=open").await[0].clone();
    let id = p["id"].as_i64().unwrap();
    let version = p["version"].to_string();
    // Dismissing without a reason shows the page again with the error.
    let res = zl
        .post(app.url(&format!("/proposals/{id}/decision")))
        .form(&[("csrf", csrf.as_str()), ("decision", "dismiss"), ("version", &version), ("text", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("理由"));
    let res = zl
        .post(app.url(&format!("/proposals/{id}/decision")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("decision", "accept"),
            ("version", &version),
            ("text", "周三上门"),
            ("owner_id", ""),
            ("due", ""),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let page = zl.get(app.url("/proposals?status=accepted")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("周三上门") && page.contains("办结"), "{page}");
    zl.get(app.url("/lang/en?next=/proposals")).send().await.unwrap();
    let en = zl.get(app.url("/proposals")).send().await.unwrap().text().await.unwrap();
    assert!(en.contains("Acting before the complaint"), "{en}");
    // A form without its CSRF token changes nothing.
    let res = zl.post(app.url("/proposals/scan")).form(&[("csrf", "x")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
