//! Wujia tried as an attacker would: personal data must not leak through the seams.

use crate::common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(a_phone_an_id_number_or_a_name_never_becomes_a_home_address);

fn form(pairs: &[(&str, &str)]) -> reqwest::multipart::Form {
    pairs.iter().fold(reqwest::multipart::Form::new(), |f, (k, v)| f.text(k.to_string(), v.to_string()))
}

async fn post_finding(app: &TestApp, token: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
    let res = app.client.post(app.url("/api/v1/patrol/findings")).bearer_auth(token).multipart(form(pairs)).send();
    let res = res.await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn a_phone_an_id_number_or_a_name_never_becomes_a_home_address(app: TestApp) {
    // What an attacker might know of 胡阿姨: her phone, her ID number, her name.
    let staff = app.token("zhangli").await;
    let hits = app.get_json(&staff, "/api/v1/households?q=3-7-1-102").await;
    let hu = hits[0]["household_id"].as_i64().unwrap();
    let resident: Value = app.get_json(&staff, &format!("/api/v1/households/{hu}")).await["residents"][0].clone();
    let phone = resident["phone"].as_str().unwrap().to_string();
    let res =
        app.send(Method::POST, &staff, &format!("/api/v1/residents/{}/id_card", resident["id"]), &json!({})).await;
    let id_card = res.json::<Value>().await.unwrap()["id_card"].as_str().unwrap().to_string();
    let name = resident["name"].as_str().unwrap().to_string();
    let tail = phone[7..].to_string();

    let patrol = app.token("patrol_li").await;
    for probe in [&phone, &id_card, &name, &tail] {
        let (status, body) = post_finding(&app, &patrol, &[("kind", "corridor_clutter"), ("address", probe)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{probe}: {body}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["errors"][0]["field"], "address", "{body}");
        assert!(!body.contains("7号楼") && !body.contains(&hu.to_string()), "{probe} led to a home: {body}");
    }
    // An address is what a location is: it is found.
    let (status, body) = post_finding(&app, &patrol, &[("kind", "corridor_clutter"), ("address", "3-7-1-102")]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Permission comes before any lookup: someone who may not record findings learns nothing either way.
    let property = app.token("wuye").await;
    for probe in [phone.as_str(), "3-7-1-102", "9-9-9-999"] {
        let (status, body) = post_finding(&app, &property, &[("kind", "corridor_clutter"), ("address", probe)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{probe}: {body}");
    }
}
