//! Integration on SQLite and PostgreSQL: merging requests from the queue page, one answer for every household, and
//! the knowledge base page.

mod common;

use common::{TestApp, hidden};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(staff_merge_from_the_queue_page_and_answer_every_household_once);

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
        let r: Value = app
            .send(Method::POST, &staff, "/api/v1/requests", &json!({"category_id": enrolment, "description": "入学信息采集表的地址怎么填", "channel": "phone", "household_id": h}))
            .await
            .json()
            .await
            .unwrap();
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
