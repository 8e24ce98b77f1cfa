//! Wujia tried as an attacker would: personal data must not leak through the seams.

use crate::common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_phone_an_id_number_or_a_name_never_becomes_a_home_address,
    the_property_company_reads_and_works_only_the_cases_handed_to_it,
    the_property_company_sees_addresses_not_the_names_behind_them
);

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

async fn the_property_company_reads_and_works_only_the_cases_handed_to_it(app: TestApp) {
    let staff = app.token("zhangli").await;
    let property = app.token("wuye").await;
    let developer = app.token("kaifa").await;
    let patrol = app.token("patrol_li").await;
    // Two cases from two findings not fixed on the spot: one handed to the property company, one not yet.
    let mut cases = Vec::new();
    for address in ["3-7-1-102", "6-1-2-501"] {
        let (status, body) = post_finding(&app, &patrol, &[("kind", "window_guard"), ("address", address)]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let finding: Value = serde_json::from_str(&body).unwrap();
        cases.push(finding["case_id"].as_i64().expect("a finding not fixed on the spot opens a case"));
    }
    let step = |token: String, id: i64, pairs: Vec<(&'static str, String)>| {
        let url = app.url(&format!("/api/v1/patrol/cases/{id}/steps"));
        let f = pairs.into_iter().fold(reqwest::multipart::Form::new(), |f, (k, v)| f.text(k, v));
        let req = app.client.post(url).bearer_auth(token).multipart(f);
        async move { req.send().await.unwrap() }
    };
    let (theirs, other) = (cases[0], cases[1]);
    // She agreed on a visit (test clock: 2024-02-26); the property company removes it.
    let agreed = vec![("action", "visit".into()), ("outcome", "agreed".into()), ("deadline", "2024-03-10".to_string())];
    assert_eq!(step(staff.clone(), theirs, agreed).await.status(), StatusCode::CREATED);
    let res = step(staff.clone(), theirs, vec![("action", "handle".into()), ("handled_by", "property".into())]).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    assert_eq!(app.get(&property, &format!("/api/v1/patrol/cases/{theirs}")).await.status(), StatusCode::OK);
    // Each is offered exactly what it may record now: the property company its re-inspection, staff no closing yet.
    let seen = app.get_json(&property, &format!("/api/v1/patrol/cases/{theirs}")).await;
    assert_eq!(seen["actions"], serde_json::json!(["reinspect"]));
    let by_staff = app.get_json(&staff, &format!("/api/v1/patrol/cases/{theirs}")).await;
    assert_eq!(by_staff["actions"], serde_json::json!(["visit", "handle", "reinspect", "link"]));
    let page = app.browser("wuye").await.get(app.url(&format!("/patrol/cases/{theirs}"))).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"reinspect-form\""), "the property company records its re-inspection");
    for form in ["visit-form", "handle-form", "link-form", "close-form"] {
        assert!(!html.contains(&format!("id=\"{form}\"")), "the property company is offered {form}");
    }
    let staff_page =
        app.browser("zhangli").await.get(app.url(&format!("/patrol/cases/{theirs}"))).send().await.unwrap();
    assert!(!staff_page.text().await.unwrap().contains("id=\"close-form\""), "closing offered before a re-inspection");
    for (who, token) in [("property", &property), ("developer", &developer)] {
        let res = app.get(token, &format!("/api/v1/patrol/cases/{other}")).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who} reads a case not handed to it");
    }
    assert_eq!(app.get(&developer, &format!("/api/v1/patrol/cases/{theirs}")).await.status(), StatusCode::NOT_FOUND);
    let listed = app.get_json(&property, "/api/v1/patrol/cases").await;
    let ids: Vec<i64> = listed.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&theirs) && !ids.contains(&other), "{ids:?}");
    assert!(app.get_json(&staff, "/api/v1/patrol/cases").await.to_string().contains(&format!("\"id\":{other}")));

    // Theirs to act on: the removal done, with its photo; closing and other cases are not.
    let photo = crate::common::jpeg();
    let url = app.url(&format!("/api/v1/patrol/cases/{theirs}/steps"));
    let f = reqwest::multipart::Form::new()
        .text("action", "reinspect")
        .text("passed", "true")
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("done.jpg"));
    let res = app.client.post(url).bearer_auth(&property).multipart(f).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let res = step(property.clone(), theirs, vec![("action", "close".into())]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = step(property.clone(), other, vec![("action", "reinspect".into()), ("passed", "true".into())]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Staff close it; a closed case takes no more steps and offers none.
    assert_eq!(step(staff.clone(), theirs, vec![("action", "close".into())]).await.status(), StatusCode::CREATED);
    assert_eq!(app.get_json(&staff, &format!("/api/v1/patrol/cases/{theirs}")).await["actions"], serde_json::json!([]));
    let res =
        step(staff.clone(), theirs, vec![("action", "link".into()), ("request_number", "WT-2024-000001".into())]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "a closed case takes a link");
}

async fn the_property_company_sees_addresses_not_the_names_behind_them(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = app.get_json(&staff, "/api/v1/households?q=3-7-1-102").await[0]["household_id"].as_i64().unwrap();
    let building = app.get_json(&staff, &format!("/api/v1/households/{hu}")).await["building_id"].as_i64().unwrap();
    let path = format!("/api/v1/buildings/{building}/units");
    let names = |v: &Value| -> Vec<String> {
        v["units"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|u| u["households"].as_array().unwrap().iter())
            .filter_map(|h| h["head_name"].as_str().map(str::to_string))
            .collect()
    };
    assert!(!names(&app.get_json(&staff, &path).await).is_empty(), "staff see the heads of household");
    let property = app.token("wuye").await;
    let theirs = app.get_json(&property, &path).await;
    assert!(theirs["units"].as_array().is_some_and(|u| !u.is_empty()), "the property company sees the addresses");
    assert_eq!(names(&theirs), Vec::<String>::new(), "the API shows names the search hides");
    let page = app.browser("wuye").await.get(app.url(&format!("/buildings/{building}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("102"), "the building page lists the rooms");
    assert!(!html.contains("胡桂兰"), "the building page shows a name to the property company");
}
