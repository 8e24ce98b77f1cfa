//! Who sees a request's contact: decided once, for the API, the queue and the page alike, and every full read by
//! someone other than the household itself is in the audit log.

use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both!(
    a_requests_phone_is_shown_to_those_who_call_back_and_masked_for_everyone_else,
    the_actions_offered_are_the_ones_the_workflow_accepts
);

const PHONE: &str = "13911112222";
const MASKED: &str = "139****2222";

/// A request from 胡阿姨's household in 3号院7号楼, taken in by staff with her phone.
async fn hu_request(app: &TestApp, staff: &str) -> Value {
    let hu = app
        .get_json(staff, "/api/v1/households?q=3%E5%8F%B7%E9%99%A27%E5%8F%B7%E6%A5%BC1%E5%8D%95%E5%85%83102")
        .await[0]["household_id"]
        .as_i64()
        .unwrap();
    let categories = app.get_json(staff, "/api/v1/categories").await;
    let leaf =
        categories.as_array().unwrap().iter().find(|c| c["leaf"] == true && c["active"] == true).unwrap()["id"].clone();
    app.create_request(
        staff,
        &json!({"category_id": leaf, "description": "卫生间顶棚渗水", "household_id": hu, "contact_phone": PHONE}),
    )
    .await
}

async fn contact_reads(app: &TestApp, id: i64) -> Vec<String> {
    let admin = app.token("admin").await;
    let events = app.get_json(&admin, &format!("/api/v1/audit/events?entity=request&entity_id={id}&limit=50")).await;
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "request.read_contact")
        .map(|e| e["actor"].as_str().unwrap().to_string())
        .collect()
}

async fn a_requests_phone_is_shown_to_those_who_call_back_and_masked_for_everyone_else(app: TestApp) {
    let staff = app.token("zhangli").await;
    let created = hu_request(&app, &staff).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["contact_phone"], PHONE, "the one who took it in sees what was taken in");
    assert_eq!(contact_reads(&app, id).await, Vec::<String>::new(), "taking in is not a read");

    for (who, expected) in
        [("jiedao", MASKED), ("sw_sun", MASKED), ("sw_chen", PHONE), ("zhangli", PHONE), ("jumin_hu", PHONE)]
    {
        let token = app.token(who).await;
        let r = app.get_json(&token, &format!("/api/v1/requests/{id}")).await;
        assert_eq!(r["contact_phone"], expected, "{who} reads the request");
        assert_eq!(r["contact_phone_masked"], expected == MASKED, "{who}");
        // The page shows what the API shows, and never more.
        let page = app.browser(who).await.get(app.url(&format!("/requests/{id}"))).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{who} opens the request page");
        let html = page.text().await.unwrap();
        assert!(html.contains(expected), "{who}'s page shows {expected}");
        if expected == MASKED {
            assert!(!html.contains(PHONE), "{who}'s page leaks the full phone");
        }
    }
    let mut readers = contact_reads(&app, id).await;
    readers.sort();
    // Once for each staff read through the API and once for each through the page; the household's own reads and
    // the masked ones are not personal-data reads of someone else.
    assert_eq!(readers, ["sw_chen", "sw_chen", "zhangli", "zhangli"], "audited full reads");

    // Lists show the minimum: masked for staff, the household's own for the household.
    let queue = app.get_json(&staff, "/api/v1/requests?status=open&limit=500").await;
    let row = queue.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(row["contact_phone"], MASKED, "the queue masks contacts");
    let street = app.token("jiedao").await;
    let theirs = app.get_json(&street, "/api/v1/requests?status=open&limit=500").await;
    assert!(theirs.as_array().unwrap().iter().all(|r| r["contact_phone"].as_str().is_none_or(|p| p.contains("****"))));
    let hu = app.token("jumin_hu").await;
    let own = app.get_json(&hu, "/api/v1/requests?status=open").await;
    assert_eq!(own.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap()["contact_phone"], PHONE);
    let html = app.browser("jiedao").await.get(app.url("/requests")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains(PHONE));
}

async fn the_actions_offered_are_the_ones_the_workflow_accepts(app: TestApp) {
    let staff = app.token("zhangli").await;
    let created = hu_request(&app, &staff).await;
    let id = created["id"].as_i64().unwrap();
    let detail = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await;
    assert_eq!(detail["actions"], json!(["respond", "escalate", "pause"]), "staff on a new request");
    let street = app.token("jiedao").await;
    assert_eq!(app.get_json(&street, &format!("/api/v1/requests/{id}")).await["actions"], json!([]));
    let hu = app.token("jumin_hu").await;
    assert_eq!(app.get_json(&hu, &format!("/api/v1/requests/{id}")).await["actions"], json!([]));
    // Each offered action is accepted; the page offers the same ones.
    let res = app
        .send(
            reqwest::Method::POST,
            &staff,
            &format!("/api/v1/requests/{id}/actions"),
            &json!({"version": detail["version"], "action": "respond", "note": "已电话联系"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let after = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await;
    assert_eq!(after["actions"], json!(["dispatch", "escalate", "pause"]));
    let html = app.browser("zhangli").await.get(app.url(&format!("/requests/{id}"))).send().await.unwrap();
    let html = html.text().await.unwrap();
    for code in ["dispatch", "escalate", "pause"] {
        assert!(html.contains(&format!("value=\"{code}\"")), "the page offers {code}");
    }
    assert!(!html.contains("value=\"respond\""), "an action already done is not offered again");
    // The timeline names people, not accounts.
    let timeline = after["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["action"], "request.create");
    assert_eq!(timeline[0]["actor"], "张丽(筹备组)");
}
