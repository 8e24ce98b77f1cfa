//! Integration on SQLite and PostgreSQL: merging requests from the queue page, one answer for every household, and
//! the knowledge base page.

use crate::common::{TestApp, hidden};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    staff_merge_from_the_queue_page_and_answer_every_household_once,
    a_batch_answer_is_written_whole_or_not_at_all,
    the_lead_resolves_from_the_page_with_photos_of_what_was_done
);

async fn staff_merge_from_the_queue_page_and_answer_every_household_once(app: TestApp) {
    let staff = app.token("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let enrolment = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"].as_str().unwrap().starts_with("education.") && c["leaf"] == true)
        .unwrap()["id"]
        .clone();
    let mut ids = Vec::new();
    for q in ["3号院7号楼1单元102", "6号院1号楼2单元501", "1号院1号楼1单元101"] {
        let h =
            app.get_json(&staff, &format!("/api/v1/households?q={}", wujia_web::urlencode(q))).await[0]["household_id"]
                .clone();
        let r: Value = app.create_request(&staff, &json!({"category_id": enrolment, "description": "入学信息采集表的地址怎么填", "channel": "phone", "household_id": h})).await;
        ids.push(r["id"].as_i64().unwrap());
    }
    let zl = app.browser("zhangli").await;
    let queue = zl.get(app.url("/requests")).send().await.unwrap().text().await.unwrap();
    assert!(
        queue.contains("merge-form") && queue.contains(&format!("value=\"{}\" form=\"merge-form\"", ids[0])),
        "{queue}"
    );
    let csrf = hidden(&queue, "csrf");
    // One request alone is not a batch: nothing is written.
    let res = zl
        .post(app.url("/requests/batches"))
        .form(&[("csrf", csrf.as_str()), ("title", "入学地址"), ("request_ids", &ids[0].to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("至少合并 2 件"));
    let mut form = vec![("csrf".to_string(), csrf.clone()), ("title".into(), "入学信息采集：地址怎么填".into())];
    form.extend(ids.iter().map(|i| ("request_ids".to_string(), i.to_string())));
    let res = zl.post(app.url("/requests/batches")).form(&form).send().await.unwrap();
    assert!(res.status().is_success());
    let batch_url = res.url().path().to_string();
    assert!(batch_url.starts_with("/requests/batches/"), "{batch_url}");
    let page = res.text().await.unwrap();
    assert!(page.contains("answer-form") && page.matches("/requests/").count() >= 3, "{page}");
    // An empty answer is refused on the page; the one answer goes to every household.
    let answer_url = format!("{batch_url}/answer");
    let res = zl.post(app.url(&answer_url)).form(&[("csrf", csrf.as_str()), ("answer", " ")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = "地址填写回迁后的新地址：琉璃井路X号院X号楼X单元X室；社区选择望坛社区。";
    let res = zl
        .post(app.url(&answer_url))
        .form(&[("csrf", csrf.as_str()), ("answer", text), ("publish", "true")])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("batch-answer") && page.contains(text), "{page}");
    for id in &ids {
        let r = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await;
        assert_eq!((r["status"].as_str(), r["resolution"].as_str()), (Some("resolved"), Some(text)));
    }
    let hu = app.token("jumin_hu").await;
    assert!(
        app.get_json(&hu, "/api/v1/inbox").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"].as_str().unwrap_or("").contains("回迁后的新地址"))
    );
    // Answering again changes nothing.
    let again =
        zl.post(app.url(&answer_url)).form(&[("csrf", csrf.as_str()), ("answer", "再答一次")]).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    // The answer is in the knowledge base, for residents too; staff add answers there.
    let kb = app.browser("jumin_hu").await.get(app.url("/knowledge")).send().await.unwrap().text().await.unwrap();
    assert!(kb.contains("入学信息采集：地址怎么填") && !kb.contains("knowledge-form"), "{kb}");
    let page = zl.get(app.url("/knowledge")).send().await.unwrap().text().await.unwrap();
    let res = zl
        .post(app.url("/knowledge"))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("title", "停车证怎么办理"),
            ("answer", "带房产证明到物业服务中心办理"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("停车证怎么办理"));
}

async fn the_lead_resolves_from_the_page_with_photos_of_what_was_done(app: TestApp) {
    let staff = app.token("zhangli").await;
    let me = app.user_id_of("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let leaf =
        cats.as_array().unwrap().iter().find(|c| c["urgency"] == "general" && c["leaf"] == true).unwrap()["id"].clone();
    let mut r: Value = app.create_request(&staff, &json!({"category_id": leaf, "description": "单元门闭门器坏了", "channel": "phone", "location": "3号院7号楼1单元"})).await;
    for body in [json!({"action": "respond", "note": "已联系"}), json!({"action": "dispatch", "lead": me})] {
        let mut body = body;
        body["version"] = r["version"].clone();
        r = app
            .send(Method::POST, &staff, &format!("/api/v1/requests/{}/actions", r["id"]), &body)
            .await
            .json()
            .await
            .unwrap();
    }
    let id = r["id"].as_i64().unwrap();
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url(&format!("/requests/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("resolve-form") && page.contains("multipart/form-data"), "{page}");
    let csrf = hidden(&page, "csrf");
    let form = |photo: Vec<u8>, name: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("version", r["version"].to_string())
            .text("resolution", "更换了闭门器")
            .part("photos", reqwest::multipart::Part::bytes(photo).file_name(name.to_string()))
    };
    // A file that is not a picture is refused and nothing changes.
    let res = zl
        .post(app.url(&format!("/requests/{id}/resolve")))
        .multipart(form(b"not a picture".to_vec(), "a.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.get_json(&staff, &format!("/api/v1/requests/{id}")).await["status"], "dispatched");
    let png = wujia_core::media::banded_png(40, 30, &[[200, 30, 30], [30, 30, 200]]);
    let res =
        zl.post(app.url(&format!("/requests/{id}/resolve"))).multipart(form(png, "door.png")).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let after = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await;
    assert_eq!((after["status"].as_str(), after["resolution"].as_str()), (Some("resolved"), Some("更换了闭门器")));
    let photos = app.get_json(&staff, &format!("/api/v1/requests/{id}/photos")).await;
    assert_eq!(photos.as_array().unwrap().len(), 1);
    assert_eq!(photos[0]["stage"], "resolution");
}

async fn a_batch_answer_is_written_whole_or_not_at_all(app: TestApp) {
    let staff = app.token("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let leaf =
        cats.as_array().unwrap().iter().find(|c| c["urgency"] == "general" && c["leaf"] == true).unwrap()["id"].clone();
    let mut ids = Vec::new();
    for place in ["3号院7号楼1单元", "3号院7号楼2单元"] {
        let r: Value = app
            .create_request(
                &staff,
                &json!({"category_id": leaf, "description": "楼道灯不亮", "channel": "phone", "location": place}),
            )
            .await;
        ids.push(r["id"].as_i64().unwrap());
    }
    let res = app
        .send(Method::POST, &staff, "/api/v1/request_batches", &json!({"title": "楼道灯", "request_ids": ids}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let batch = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let knowledge_before = app.get_json(&staff, "/api/v1/knowledge").await;
    // The first request's step is sound; the second was changed by someone else after it was read.
    let store = &app.state.store;
    let (_, rows) = store.batch(batch).await.unwrap();
    let at = crate::common::test_now();
    let community = rows[0].community_id;
    let updates: Vec<wujia_store::RequestUpdate> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut before = r.clone();
            if i == 1 {
                before.version -= 1;
            }
            let mut after = r.clone();
            after.status = "responded".into();
            after.responded_at = Some(at);
            let change = wujia_store::Change::system(at, Some(community), "request.respond");
            wujia_store::RequestUpdate { before, after, change, notices: Default::default() }
        })
        .collect();
    let publish =
        Some((Some(rows[0].category_id), wujia_store::Change::system(at, Some(community), "knowledge.create")));
    let change = wujia_store::Change::system(at, Some(community), "request_batch.answer");
    let refused = store.answer_batch(batch, "已报修", publish, &updates, change).await;
    assert!(matches!(refused, Err(wujia_store::StoreError::Conflict(_))), "{refused:?}");
    // Nothing of it was written: both requests as they were, the batch unanswered, no knowledge entry.
    for (id, was) in ids.iter().zip(&rows) {
        let r = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await;
        assert_eq!((r["status"].as_str(), r["version"].as_i64()), (Some(was.status.as_str()), Some(was.version)));
    }
    let b = app.get_json(&staff, &format!("/api/v1/request_batches/{batch}")).await;
    assert!(b["batch"]["answered_at"].is_null() && b["batch"]["answer"].is_null(), "{b}");
    assert_eq!(app.get_json(&staff, "/api/v1/knowledge").await, knowledge_before);
    // Through the API the same answer goes to both at once.
    let res = app
        .send(
            Method::POST,
            &staff,
            &format!("/api/v1/request_batches/{batch}/answer"),
            &json!({"answer": "已报修,今天换灯", "publish": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for id in &ids {
        let r = app.get_json(&staff, &format!("/api/v1/requests/{id}")).await;
        assert_eq!(r["status"], "resolved");
    }
    assert_ne!(app.get_json(&staff, "/api/v1/knowledge").await, knowledge_before);
}
