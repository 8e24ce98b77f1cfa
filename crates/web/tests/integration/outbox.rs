//! The outbox under faults: an alert whose notice could not be written is raised again, a message is held by one
//! claim at a time and carries the same id on every attempt, emergencies go out first, and one slow channel holds
//! up only its own messages.

use crate::api::category_id;
use crate::common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wujia_app::outbox::Drain;
use wujia_store::Attempt;
use wujia_web::Clock;

on_both!(
    an_alert_whose_notice_could_not_be_written_is_raised_on_the_next_run,
    a_message_is_held_by_one_claim_at_a_time_and_a_lost_claim_records_nothing,
    a_retried_message_reaches_the_robot_with_the_same_id,
    an_emergency_goes_out_before_five_hundred_queued_messages,
    a_slow_channel_holds_up_only_its_own_messages,
    the_duty_wall_shows_what_waits_in_the_outbox_in_both_languages,
);

/// What the test robots received, in order: (robot, `Idempotency-Key`, message text).
type Log = Arc<Mutex<Vec<(&'static str, String, String)>>>;

/// A group robot on a local port that logs each message as it arrives, refuses the first `refuse` of them, and
/// takes `slow` to answer (logging `"<name> answered"` when it does).
async fn robot(name: &'static str, log: &Log, refuse: usize, slow: Option<Duration>) -> String {
    use axum::http::HeaderMap;
    use axum::{Json, Router, routing::post};
    let log = log.clone();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, Json(v): Json<Value>| {
            let (log, seen) = (log.clone(), seen.clone());
            async move {
                let key = headers.get("idempotency-key").and_then(|k| k.to_str().ok()).unwrap_or("").to_string();
                log.lock().unwrap().push((name, key, v["text"]["content"].as_str().unwrap_or("").to_string()));
                if let Some(wait) = slow {
                    tokio::time::sleep(wait).await;
                    log.lock().unwrap().push((name, "answered".into(), String::new()));
                }
                if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < refuse {
                    (axum::http::StatusCode::BAD_GATEWAY, Json(json!({"errcode": 1})))
                } else {
                    (axum::http::StatusCode::OK, Json(json!({"errcode": 0})))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn add_channel(app: &TestApp, token: &str, name: &str, hook: &str, purpose: &str) {
    let channel = json!({"name": name, "kind": "wecom", "target": hook, "purpose": purpose});
    let res = app.send(Method::POST, token, "/api/v1/notification_channels", &channel).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn power_cut(app: &TestApp, token: &str, place: &str) -> Value {
    let power = category_id(app, token, "utilities.supply.power").await;
    app.create_request(token, &json!({"category_id": power, "description": format!("{place}停电"), "location": place}))
        .await
}

async fn an_alert_whose_notice_could_not_be_written_is_raised_on_the_next_run(app: TestApp) {
    let staff = app.token("zhangli").await;
    power_cut(&app, &staff, "6号院").await;
    // Power cuts are answered within 2 hours: at 1 h 35 min the staff are to be warned. The inbox cannot be written
    // when the job runs, as if the node died after claiming the alert.
    app.clock.advance(chrono::Duration::minutes(95));
    app.raw_sql("ALTER TABLE inbox RENAME TO inbox_away").await;
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert!(report.failed_jobs.contains(&"deadline_alerts"), "{report:?}");
    app.raw_sql("ALTER TABLE inbox_away RENAME TO inbox").await;
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!((report.alerts, report.failed_jobs.len()), (1, 0), "the alert was not lost: {report:?}");
    let inbox = app.get_json(&staff, "/api/v1/inbox").await;
    assert!(inbox["items"][0]["title"].as_str().unwrap().contains("即将到达响应时限"), "{inbox}");
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().alerts, 0, "and it is raised once");
}

async fn a_message_is_held_by_one_claim_at_a_time_and_a_lost_claim_records_nothing(app: TestApp) {
    let staff = app.token("zhangli").await;
    let log = Log::default();
    add_channel(&app, &staff, "全部诉求", &robot("all", &log, 0, None).await, "all").await;
    power_cut(&app, &staff, "6号院").await;
    let store = &app.state.store;
    let now = app.clock.now();
    let first = store.claim_delivery(now, now + chrono::Duration::seconds(30)).await.unwrap().expect("one is due");
    assert!(store.claim_delivery(now, now + chrono::Duration::seconds(30)).await.unwrap().is_none(), "held");
    // The first node is slow; it renews its hold, and a second node still finds nothing to take.
    app.clock.advance(chrono::Duration::seconds(25));
    let now = app.clock.now();
    assert!(store.renew_claim(&first, now + chrono::Duration::seconds(30)).await.unwrap());
    app.clock.advance(chrono::Duration::seconds(25));
    let now = app.clock.now();
    assert!(store.claim_delivery(now, now + chrono::Duration::seconds(30)).await.unwrap().is_none(), "renewed");
    // The first node stalls past its hold; the second takes the message over with a claim of its own.
    app.clock.advance(chrono::Duration::minutes(5));
    let now = app.clock.now();
    let second = store.claim_delivery(now, now + chrono::Duration::seconds(30)).await.unwrap().expect("taken over");
    assert_eq!(second.delivery().stable_id(), first.delivery().stable_id(), "the receiver sees the same id");
    assert!(!store.renew_claim(&first, now + chrono::Duration::minutes(1)).await.unwrap());
    assert!(!store.finish_claim(&first, now, Attempt::Sent).await.unwrap(), "a lost claim records nothing");
    let d = &app.get_json(&staff, "/api/v1/deliveries").await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("pending"), Some(0)));
    assert!(store.finish_claim(&second, now, Attempt::Sent).await.unwrap());
    let d = &app.get_json(&staff, "/api/v1/deliveries").await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("sent"), Some(1)));
}

async fn a_retried_message_reaches_the_robot_with_the_same_id(app: TestApp) {
    let staff = app.token("zhangli").await;
    let log = Log::default();
    add_channel(&app, &staff, "全部诉求", &robot("all", &log, 1, None).await, "all").await;
    power_cut(&app, &staff, "6号院").await;
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().retried, 1);
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().delivered, 1);
    let id = app.get_json(&staff, "/api/v1/deliveries").await[0]["id"].clone();
    let keys: Vec<String> = log.lock().unwrap().iter().map(|(_, key, _)| key.clone()).collect();
    assert_eq!(keys, [format!("wujia-outbox-{id}"), format!("wujia-outbox-{id}")]);
}

async fn an_emergency_goes_out_before_five_hundred_queued_messages(app: TestApp) {
    let staff = app.token("zhangli").await;
    let log = Log::default();
    add_channel(&app, &staff, "全部诉求", &robot("all", &log, 0, None).await, "all").await;
    add_channel(&app, &staff, "值班群", &robot("duty", &log, 0, None).await, "duty").await;
    power_cut(&app, &staff, "6号院").await;
    // 499 copies of the queued message: 500 ordinary messages wait.
    app.raw_sql(
        "INSERT INTO outbox (channel_id, request_id, title, body, status, next_attempt_at, created_at) \
         SELECT o.channel_id, o.request_id, o.title, o.body, o.status, o.next_attempt_at, o.created_at FROM outbox o, \
         (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 499) SELECT i FROM n) copies",
    )
    .await;
    let hu = app.token("jumin_hu").await;
    let pipe = category_id(&app, &hu, "property.repair.pipe").await;
    app.create_request(&hu, &json!({"category_id": pipe, "description": "地下车库喷淋管爆裂"})).await;
    let started = std::time::Instant::now();
    let drain = Drain { run_for: Duration::from_secs(300), ..Drain::default() };
    let drained = wujia_web::deliver_outbox(&app.state, drain).await.unwrap();
    let took = started.elapsed();
    assert_eq!(drained.delivered, 502, "one run drains the whole queue: {drained:?}");
    eprintln!(
        "outbox on {:?}: {} messages to one local robot in {} ms, {:.0} per second",
        app.backend,
        drained.delivered,
        took.as_millis(),
        drained.delivered as f64 / took.as_secs_f64()
    );
    let log = log.lock().unwrap();
    let first_two: Vec<(&str, bool)> =
        log[..2].iter().map(|(robot, _, text)| (*robot, text.contains("紧急诉求"))).collect();
    assert!(first_two.contains(&("duty", true)) && first_two.contains(&("all", true)), "{first_two:?}");
}

async fn a_slow_channel_holds_up_only_its_own_messages(app: TestApp) {
    let staff = app.token("zhangli").await;
    let log = Log::default();
    add_channel(&app, &staff, "慢的群", &robot("slow", &log, 0, Some(Duration::from_secs(2))).await, "all").await;
    add_channel(&app, &staff, "全部诉求", &robot("fast", &log, 0, None).await, "all").await;
    for place in ["6号院", "7号院", "8号院"] {
        power_cut(&app, &staff, place).await;
    }
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.delivered, 6, "{report:?}");
    let log = log.lock().unwrap();
    let answered = log.iter().position(|(robot, key, _)| (*robot, key.as_str()) == ("slow", "answered")).unwrap();
    let fast_before = log[..answered].iter().filter(|(robot, _, _)| *robot == "fast").count();
    assert_eq!(fast_before, 3, "the fast channel did not wait for the slow one: {log:?}");
}

async fn the_duty_wall_shows_what_waits_in_the_outbox_in_both_languages(app: TestApp) {
    let staff = app.token("zhangli").await;
    let browser = app.browser("zhangli").await;
    let page = |lang: &'static str| {
        let (browser, url) = (browser.clone(), app.url(&format!("/lang/{lang}?next=/duty")));
        async move { browser.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(!page("zh").await.contains("outbox-backlog"), "nothing waits, nothing is shown");
    let log = Log::default();
    add_channel(&app, &staff, "全部诉求", &robot("all", &log, usize::MAX, None).await, "all").await;
    power_cut(&app, &staff, "6号院").await;
    power_cut(&app, &staff, "7号院").await;
    // The robot refuses everything; after 7 minutes both messages still wait.
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().retried, 2);
    app.clock.advance(chrono::Duration::minutes(7));
    let wall = app.get_json(&staff, "/api/v1/duty_wall").await;
    assert_eq!(wall["outbox"], json!({"waiting": 2, "emergencies": 0, "oldest_minutes": 7}));
    assert!(
        page("zh")
            .await
            .contains("还有 2 条消息在等待发往值班群、邮箱等外部渠道（其中紧急 0 条），最早的一条已等了 7 分钟。")
    );
    assert!(page("en").await.contains("2 messages are waiting to go out"));
}
