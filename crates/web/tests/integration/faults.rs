//! Failures are faults, never quiet defaults: background jobs each run and fail on their own, and a code read from
//! the database that names nothing is an error.

use crate::common::TestApp;
use serde_json::json;

on_both!(
    a_failing_background_job_does_not_stop_the_others,
    an_unknown_role_in_the_database_is_a_fault_not_a_volunteer,
    a_database_opened_with_another_key_is_refused_naming_the_key_it_needs,
);

async fn a_failing_background_job_does_not_stop_the_others(app: TestApp) {
    let staff = app.token("zhangli").await;
    let categories = app.get_json(&staff, "/api/v1/categories").await;
    let leaf = categories.as_array().unwrap().iter().find(|c| c["leaf"] == true).unwrap()["id"].clone();
    app.create_request(&staff, &json!({"category_id": leaf, "description": "楼道灯不亮", "location": "东门"})).await;
    // The volunteers' shift reminders can no longer read their table; everything after them must still run.
    app.raw_sql("DROP TABLE shift_signups").await;
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.failed_jobs, ["shift_reminders"], "{report:?}");
    assert!(report.indexed >= 1, "the search feed ran after the failed job: {report:?}");
    let found = app
        .get_json(
            &staff,
            &format!("/api/v1/search?q={}", "楼道灯不亮".bytes().map(|b| format!("%{b:02X}")).collect::<String>()),
        )
        .await;
    assert!(found.to_string().contains("楼道灯不亮"), "{found}");
}

async fn an_unknown_role_in_the_database_is_a_fault_not_a_volunteer(app: TestApp) {
    app.raw_sql("UPDATE users SET role = 'superuser' WHERE username = 'sw_liu'").await;
    let res = app
        .client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"username": "sw_liu", "password": crate::common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    let body = res.text().await.unwrap();
    assert!(!body.contains("superuser") && !body.contains("role code"), "internal text reached the client: {body}");
}

async fn a_database_opened_with_another_key_is_refused_naming_the_key_it_needs(app: TestApp) {
    use wujia_store::{SecretKey, Store, StoreError};
    let needed = app.state.store.key_fingerprint().clone();
    let other = SecretKey::from_bytes([7; 32]);
    let store = Store::connect(&app.database_url, &other).await.unwrap();
    match store.migrate().await {
        Err(StoreError::WrongKey(wrong)) => {
            assert_eq!((wrong.needed.as_ref(), &wrong.given), (Some(&needed), &other.fingerprint()));
            assert!(wrong.to_string().contains(needed.as_str()), "{wrong}");
        }
        other => panic!("opened under another key: {other:?}"),
    }
    store.close().await;
    // The data under its own key still reads: an ID number is revealed.
    let staff = app.token("zhangli").await;
    let q: String = "3号院7号楼1单元102".bytes().map(|b| format!("%{b:02X}")).collect();
    let household = app.get_json(&staff, &format!("/api/v1/households?q={q}")).await[0]["household_id"].clone();
    let id = app.get_json(&staff, &format!("/api/v1/households/{household}")).await["residents"][0]["id"].clone();
    let res = app.send(reqwest::Method::POST, &staff, &format!("/api/v1/residents/{id}/id_card"), &json!({})).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["id_card"].as_str().map(str::len), Some(18), "{body}");
}

/// `wujia import` beside a serving SQLite node is a second process with its own writer on the same file. A write
/// transaction that read before it wrote used to fail with `database is locked` (SQLITE_BUSY_SNAPSHOT) whenever
/// the other process wrote in between; write transactions now take the lock when they begin, and wait their turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_one_sqlite_file_wait_their_turn_instead_of_failing() {
    use wujia_store::{Change, Store};
    let app = TestApp::spawn(crate::common::Backend::Sqlite).await.unwrap();
    let import = Store::connect(&app.database_url, &crate::common::key()).await.unwrap();
    let now = wujia_web::Clock::now(&*app.clock);
    let community = app.state.store.communities().await.unwrap()[0].id;
    let change = || Change::system(now, Some(community), "checkpoint.create");
    let zone = app.state.store.create_zone(community, "东片区", change()).await.unwrap();
    // Each checkpoint reads the zone's last position, then writes the next one.
    let writes = (0..40).map(|i| {
        let (store, zone, change) = (if i % 2 == 0 { &app.state.store } else { &import }, &zone, change());
        async move { store.create_checkpoint(zone, &format!("巡查点 {i}"), None, &format!("CP-{i:03}"), change).await }
    });
    let results = futures_util::future::join_all(writes).await;
    let failed: Vec<String> = results.iter().filter_map(|r| r.as_ref().err()).map(|e| format!("{e:?}")).collect();
    assert!(failed.is_empty(), "{} of 40 writes failed, the first: {:?}", failed.len(), failed.first());
    let positions: Vec<i64> = app.state.store.checkpoints(zone.id).await.unwrap().iter().map(|c| c.position).collect();
    assert_eq!(positions, (1..=40).collect::<Vec<_>>(), "each read the position the last one wrote");
    import.close().await;
}
