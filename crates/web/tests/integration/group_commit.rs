//! Intakes that arrive together are written in one transaction of a few statements: each still gets its own
//! gap-free number, its deadlines, its event in the audit chain and its answer, and one that fails (a 12345 order
//! taken twice) fails alone.

use crate::api::category_id;
use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(intakes_at_once_are_numbered_without_gaps_each_with_its_own_row_and_event);

async fn intakes_at_once_are_numbered_without_gaps_each_with_its_own_row_and_event(app: TestApp) {
    let staff = app.token("zhangli").await;
    let leaf = category_id(&app, &staff, "property.repair.public").await;
    let mut tasks = Vec::new();
    for i in 0..48 {
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/requests"), staff.clone());
        // Two of them carry the same 12345 order: exactly one may take it.
        let body = if i == 10 || i == 11 {
            json!({"category_id": leaf, "description": format!("并发诉求 {i}"), "location": "东门",
                   "channel": "hotline_12345", "external_no": "GD-SAME-1"})
        } else {
            json!({"category_id": leaf, "description": format!("并发诉求 {i}"), "location": "东门", "channel": "phone"})
        };
        tasks.push(tokio::spawn(async move {
            let res = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            (i, res.status(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut created = Vec::new();
    let mut conflicts = 0;
    for t in tasks {
        let (i, status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created.push((i, body)),
            StatusCode::CONFLICT => {
                assert!(i == 10 || i == 11, "request {i} refused: {body}");
                assert!(body["detail"].as_str().unwrap().contains("GD-SAME-1"), "{body}");
                conflicts += 1;
            }
            other => panic!("request {i}: {other} {body}"),
        }
    }
    assert_eq!((created.len(), conflicts), (47, 1));
    // Gap-free: the numbers of this burst are consecutive, the failed one took none.
    let mut seqs: Vec<i64> = created
        .iter()
        .map(|(_, r)| r["number"].as_str().unwrap().rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 47, "numbers repeated");
    assert_eq!(seqs[46] - seqs[0], 46, "a gap in {seqs:?}");
    for (i, answered) in &created {
        assert_eq!(answered["description"], format!("并发诉求 {i}"), "the answer is another request's row");
        let stored = app.get_json(&staff, &format!("/api/v1/requests/{}", answered["id"])).await;
        assert_eq!(stored["number"], answered["number"]);
        assert_eq!(stored["description"], answered["description"]);
        assert_eq!(stored["respond_due"], answered["respond_due"]);
        assert!(answered["respond_due"].as_str().unwrap() > answered["received_at"].as_str().unwrap());
        let actions: Vec<&str> =
            stored["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["request.create"], "{stored}");
    }
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
}
