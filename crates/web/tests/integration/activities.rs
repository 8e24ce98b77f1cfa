//! Integration over HTTP on SQLite and PostgreSQL: activities, invitation lists from the registry, registration with
//! a waiting list that never over-books, check-in, and the integration figures.

use crate::common::{TestApp, hidden};
use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_golden_wedding_event_finds_its_couples_checks_them_in_and_counts_in_the_integration_figures,
    a_full_mask_painting_event_promotes_the_first_family_when_someone_cancels,
    activity_pages_invite_register_check_in_and_count,
    the_demo_replays_the_articles_activities,
    the_dashboard_shows_the_four_pillars_of_the_demo_community,
    the_duty_wall_streams_a_new_emergency_as_it_arrives,
    chinese_full_text_search_finds_records_the_searcher_may_see,
);

fn beijing(m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<Utc> {
    Shanghai.with_ymd_and_hms(2024, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

async fn problem(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn field(p: &Value) -> &str {
    p["errors"][0]["field"].as_str().unwrap_or_default()
}

async fn create(app: &TestApp, token: &str, body: Value) -> i64 {
    let res = app.send(Method::POST, token, "/api/v1/activities", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn register(app: &TestApp, token: &str, activity: i64, resident: i64, note: &str) -> reqwest::Response {
    app.send(
        Method::POST,
        token,
        &format!("/api/v1/activities/{activity}/registrations"),
        &json!({"resident_id": resident, "note": note}),
    )
    .await
}

async fn the_golden_wedding_event_finds_its_couples_checks_them_in_and_counts_in_the_integration_figures(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let staff = app.token("zhangli").await;
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            "/api/v1/activities",
            &json!({"title": "x", "place": "活动室",
        "starts_at": "2024-03-20T09:00", "ends_at": "2024-03-20T11:00", "capacity": 30, "target_tags": ["unicorn"]}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "target_tags"));
    let id = create(&app, &staff, json!({"title": "初心如故、岁月流金", "theme": "金婚纪念", "organiser": "社区", "partners": "婚纱摄影志愿团队",
        "place": "社区活动中心", "starts_at": "2024-03-20T09:00", "ends_at": "2024-03-20T11:30", "capacity": 40, "target_tags": ["golden_wedding"]})).await;
    // The invitation list: couples married 50 years or more, from the registry.
    let inv = app.get_json(&staff, &format!("/api/v1/activities/{id}/invitations")).await;
    let invitees = inv["invitees"].as_array().unwrap().clone();
    assert!(inv["households"].as_i64().unwrap() >= 10, "{} couples", inv["households"]);
    let mut by_home: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for r in &invitees {
        by_home.entry(r["household_id"].as_i64().unwrap()).or_default().push(r["resident_id"].as_i64().unwrap());
    }
    let couples: Vec<Vec<i64>> = by_home.into_values().filter(|v| v.len() >= 2).take(12).collect();
    assert!(couples.len() >= 10, "10+ couples");
    for c in &couples {
        for r in c.iter().take(2) {
            assert_eq!(register(&app, &staff, id, *r, "").await.status(), StatusCode::CREATED);
        }
    }
    // Someone outside the group is refused with the reason; staff may still register them with a note.
    let hu = app.token("jumin_hu").await;
    let hu_home = app.get_json(&hu, "/api/v1/me").await["household_id"].as_i64().unwrap();
    let hu_r =
        app.get_json(&hu, &format!("/api/v1/households/{hu_home}")).await["residents"][0]["id"].as_i64().unwrap();
    let (status, p) = problem(register(&app, &hu, id, hu_r, "").await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "resident_id"));
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("golden_wedding"));
    assert_eq!(register(&app, &staff, id, hu_r, "陪同老伴参加").await.status(), StatusCode::CREATED);
    let (status, _) = problem(register(&app, &staff, id, hu_r, "陪同").await).await;
    assert_eq!(status, StatusCode::CONFLICT, "registered already");
    // The day before, each registered household is reminded once.
    app.clock.set(beijing(3, 19, 10, 0));
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert!(report.activity_reminders > 0);
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().activity_reminders, 0);
    let inbox = app.get_json(&app.token("jumin_hu").await, "/api/v1/inbox").await;
    assert!(
        inbox["items"].as_array().unwrap().iter().any(|m| m["title"].as_str().unwrap().contains("初心如故")),
        "{inbox}"
    );
    // The day: check-in by the code on each registration; twice, or another activity's code, is refused.
    app.clock.set(beijing(3, 20, 8, 50));
    let staff = app.token("zhangli").await;
    let other = create(
        &app,
        &staff,
        json!({"title": "健康讲座", "series": "健康讲座", "place": "活动室", "starts_at": "2024-03-25T09:00",
        "ends_at": "2024-03-25T10:00", "capacity": 50}),
    )
    .await;
    let detail = app.get_json(&staff, &format!("/api/v1/activities/{id}")).await;
    let regs = detail["registrations"].as_array().unwrap().clone();
    assert_eq!(regs.len(), couples.len() * 2 + 1);
    let checkin = |activity: i64, code: Value| {
        let app = &app;
        let staff = staff.clone();
        async move {
            app.send(Method::POST, &staff, &format!("/api/v1/activities/{activity}/checkins"), &json!({"code": code}))
                .await
        }
    };
    for g in regs.iter().take(20) {
        assert_eq!(checkin(id, g["code"].clone()).await.status(), StatusCode::CREATED);
    }
    let (status, p) = problem(checkin(id, regs[0]["code"].clone()).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "code"));
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("已签到"));
    let (status, p) = problem(checkin(other, regs[21]["code"].clone()).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "code"));
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("其他活动"));
    // Photos and a summary afterwards; a participant rates it.
    app.clock.set(beijing(3, 20, 12, 0));
    let staff = app.token("zhangli").await;
    let png = wujia_core::media::banded_png(40, 30, &[[200, 60, 60], [250, 250, 250]]);
    let res = app
        .client
        .post(app.url(&format!("/api/v1/activities/{id}/photos")))
        .bearer_auth(&staff)
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .send(
            Method::PATCH,
            &staff,
            &format!("/api/v1/activities/{id}"),
            &json!({"summary": "12对金婚老人重拍婚纱照，来自五个原社区的老人同台分享。"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .send(
            Method::POST,
            &staff,
            &format!("/api/v1/activities/{id}/registrations/{}", regs[0]["id"]),
            &json!({"action": "rate", "stars": 5, "comment": "很感动"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let detail = app.get_json(&staff, &format!("/api/v1/activities/{id}")).await;
    assert_eq!((detail["attended"].as_i64(), detail["photos"].as_array().unwrap().len()), (Some(20), 1));
    // The integration figures count it.
    let s = app.get_json(&staff, "/api/v1/activities/summary?from=2024-03-01&to=2024-03-31").await;
    assert_eq!((s["activities"].as_i64(), s["attendance"].as_i64()), (Some(2), Some(20)));
    assert_eq!(s["no_shows"].as_i64(), Some((couples.len() * 2 + 1 - 20) as i64), "registered but never came");
    let f = &s["integration"];
    assert_eq!(f["activities"], 1);
    assert!(f["mean_mixing_index"].as_f64().unwrap() > 0.3, "{f}");
    assert_eq!(f["three_or_more_origins"], 1);
    assert!(f["new_cross_origin_ties"].as_i64().unwrap() > 10);
    assert_eq!(f["by_origin"].as_object().unwrap().values().map(|v| v.as_i64().unwrap()).sum::<i64>(), 20);
    assert!(s["households_never_attended"].as_i64().unwrap() > 2000);
    assert!(s["mixing_index_definition"].as_str().unwrap().contains("1 − Σ"));
    let xlsx = app.get(&staff, &format!("/api/v1/activities/{id}/attendance.xlsx")).await;
    assert!(xlsx.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let ics = app.get(&staff, "/api/v1/activities.ics").await.text().await.unwrap();
    assert!(ics.contains("初心如故、岁月流金"));
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
}

async fn a_full_mask_painting_event_promotes_the_first_family_when_someone_cancels(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let staff = app.token("zhangli").await;
    let id = create(
        &app,
        &staff,
        json!({"title": "亲子京剧脸谱绘画", "theme": "非遗", "place": "社区活动室", "starts_at": "2024-03-16T14:00",
        "ends_at": "2024-03-16T16:00", "capacity": 3, "min_age": 6, "max_age": 12, "volunteers_needed": 2}),
    )
    .await;
    let kids: Vec<i64> = app.get_json(&staff, &format!("/api/v1/activities/{id}/invitations")).await["invitees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resident_id"].as_i64().unwrap())
        .collect();
    assert!(kids.len() > 30, "children aged 6–12 in the registry");
    let mut regs = Vec::new();
    for k in kids.iter().take(5) {
        let res = register(&app, &staff, id, *k, "").await;
        regs.push(res.json::<Value>().await.unwrap());
    }
    let statuses: Vec<&str> = regs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["registered", "registered", "registered", "waitlisted", "waitlisted"]);
    // A cancellation offers the place to the first family waiting, with a day to confirm.
    let res = app
        .send(
            Method::POST,
            &staff,
            &format!("/api/v1/activities/{id}/registrations/{}", regs[0]["id"]),
            &json!({"action": "cancel"}),
        )
        .await;
    let out: Value = res.json().await.unwrap();
    assert_eq!(
        (out["offered"]["id"].clone(), out["offered"]["status"].as_str()),
        (regs[3]["id"].clone(), Some("offered"))
    );
    let detail = app.get_json(&staff, &format!("/api/v1/activities/{id}")).await;
    assert_eq!((detail["taken"].as_i64(), detail["waiting"].as_i64()), (Some(3), Some(1)), "never over-booked");
    let res = app
        .send(
            Method::POST,
            &staff,
            &format!("/api/v1/activities/{id}/registrations/{}", regs[3]["id"]),
            &json!({"action": "confirm"}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["registration"]["status"], "registered");
    // The next offer is not confirmed in time and passes on.
    app.send(
        Method::POST,
        &staff,
        &format!("/api/v1/activities/{id}/registrations/{}", regs[1]["id"]),
        &json!({"action": "cancel"}),
    )
    .await;
    app.clock.set(beijing(3, 2, 10, 0));
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.expired_offers, 1);
    let staff = app.token("zhangli").await;
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            &format!("/api/v1/activities/{id}/registrations/{}", regs[4]["id"]),
            &json!({"action": "confirm"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "status"));
    // Concurrent sign-ups never over-book.
    let big = create(
        &app,
        &staff,
        json!({"title": "元宵灯谜会", "theme": "元宵", "place": "广场", "starts_at": "2024-03-24T19:00",
        "ends_at": "2024-03-24T21:00", "capacity": 5}),
    )
    .await;
    let mut tasks = Vec::new();
    for k in kids.iter().skip(5).take(20) {
        let (client, url, token, k) =
            (app.client.clone(), app.url(&format!("/api/v1/activities/{big}/registrations")), staff.clone(), *k);
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(token).json(&json!({"resident_id": k})).send().await.unwrap().status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    let detail = app.get_json(&staff, &format!("/api/v1/activities/{big}")).await;
    assert_eq!((detail["taken"].as_i64(), detail["waiting"].as_i64()), (Some(5), Some(15)));
    // A resident sees activities recommended for their household.
    let hu = app.token("jumin_hu").await;
    create(
        &app,
        &staff,
        json!({"title": "重阳敬老宴", "theme": "重阳", "place": "社区食堂", "starts_at": "2024-03-28T11:00",
        "ends_at": "2024-03-28T13:00", "capacity": 100, "min_age": 60}),
    )
    .await;
    let rec = app.get_json(&hu, "/api/v1/activities/recommended").await;
    assert!(rec.as_array().unwrap().iter().any(|a| a["title"] == "重阳敬老宴"), "{rec}");
}

async fn activity_pages_invite_register_check_in_and_count(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url("/activities")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let res = zl
        .post(app.url("/activities"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "重阳敬老健康讲座"),
            ("theme", "重阳"),
            ("series", "健康讲座"),
            ("place", "社区活动室"),
            ("date", "2024-03-15"),
            ("from", "09:00"),
            ("to", "10:30"),
            ("capacity", "2"),
            ("min_age", "60"),
        ])
        .send()
        .await
        .unwrap();
    let path = res.url().path().to_string();
    assert!(path.starts_with("/activities/"));
    let page = zl.get(app.url(&format!("{path}/invitations"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("邀请名单") && page.contains("胡桂兰"));
    // 胡阿姨 registers from the portal; the list shows her QR code for check-in.
    let hu = app.browser("jumin_hu").await;
    let page = hu.get(app.url("/activities")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("为您推荐") && page.contains("重阳敬老健康讲座"), "{page}");
    let me = app.get_json(&app.token("jumin_hu").await, "/api/v1/me").await["household_id"].as_i64().unwrap();
    let hu_r =
        app.get_json(&app.token("jumin_hu").await, &format!("/api/v1/households/{me}")).await["residents"][0]["id"]
            .to_string();
    let res = hu
        .post(app.url(&format!("{path}/register")))
        .form(&[("csrf", hidden(&page, "csrf").as_str()), ("resident_id", hu_r.as_str())])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("签到二维码") && page.contains("<svg"), "{page}");
    // At the desk: check-in by the code, twice refused with the reason.
    let code = app.get_json(&app.token("zhangli").await, &path.replace("/activities/", "/api/v1/activities/")).await["registrations"][0]["code"].as_str().unwrap().to_string();
    app.clock.set(beijing(3, 15, 8, 55));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let res = zl
        .post(app.url(&format!("{path}/checkin")))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("已参加"));
    let res = zl
        .post(app.url(&format!("{path}/checkin")))
        .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("已签到"));
    let sheet = zl.get(app.url(&format!("{path}/sheet"))).send().await.unwrap().text().await.unwrap();
    assert!(sheet.contains("签到表") && sheet.contains("胡桂兰"));
    let photo = wujia_core::media::banded_png(40, 30, &[[200, 60, 60]]);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("summary", "三十位老人听讲座")
        .part("photos", reqwest::multipart::Part::bytes(photo).file_name("p.png"));
    let page = zl.post(app.url(&format!("{path}/photos"))).multipart(form).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("三十位老人听讲座") && page.contains("/api/v1/activity_photos/"));
    let figures = zl
        .get(app.url("/activities/figures?from=2024-03-01&to=2024-03-31"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(figures.contains("混合指数") && figures.contains("从未参加活动的住户"), "{figures}");
}

async fn the_demo_replays_the_articles_activities(app: TestApp) {
    let blobs = std::env::temp_dir().join(format!("wujia-demo-activity-blobs-{}", std::process::id()));
    let attended = wujia_web::load_activity_history(&app.state.store, &blobs).await.unwrap();
    assert!(attended > 150, "{attended} attended");
    let staff = app.token("zhangli").await;
    let list = app.get_json(&staff, "/api/v1/activities?from=2023-07-01&to=2024-03-01").await;
    let golden = list.as_array().unwrap().iter().find(|a| a["title"] == "初心如故、岁月流金").unwrap();
    assert!(golden["attended"].as_i64().unwrap() >= 20, "10+ couples came");
    let masks = list.as_array().unwrap().iter().find(|a| a["title"] == "亲子京剧脸谱绘画").unwrap();
    assert_eq!(masks["taken"], masks["capacity"], "the mask painting filled up");
    let detail = app.get_json(&staff, &format!("/api/v1/activities/{}", masks["id"])).await;
    let statuses: Vec<&str> =
        detail["registrations"].as_array().unwrap().iter().map(|g| g["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"cancelled") && statuses.contains(&"waitlisted"));
    let s = app.get_json(&staff, "/api/v1/activities/summary?from=2023-07-01&to=2024-03-01").await;
    assert_eq!(s["activities"], 6);
    let f = &s["integration"];
    assert_eq!(f["by_origin"].as_object().unwrap().len(), 5, "residents of all five old communities took part");
    assert!(f["three_or_more_share"].as_f64().unwrap() >= 0.99);
    assert!(f["mean_mixing_index"].as_f64().unwrap() > 0.6);
    assert!(s["trend"].as_array().unwrap().len() >= 5);
    let _ = std::fs::remove_dir_all(blobs);
}

async fn the_dashboard_shows_the_four_pillars_of_the_demo_community(app: TestApp) {
    let blobs = std::env::temp_dir().join(format!("wujia-dashboard-blobs-{}", std::process::id()));
    let store = &app.state.store;
    wujia_web::load_request_history(store, wujia_web::Clock::now(&*app.clock)).await.unwrap();
    wujia_web::load_patrol_history(store, &blobs).await.unwrap();
    wujia_web::load_reception_history(store).await.unwrap();
    wujia_web::load_activity_history(store, &blobs).await.unwrap();
    let staff = app.token("zhangli").await;
    let d = app.get_json(&staff, "/api/v1/dashboard?from=2023-05-01&to=2024-02-29").await;
    assert_eq!(d["service"]["rates"]["response"]["value"], 1.0);
    assert!(d["service"]["trend"].as_array().unwrap().len() >= 9, "monthly trend");
    assert_eq!(d["order"]["open_illegal_construction_cases"], 0);
    assert!(d["order"]["rounds"]["rate"].as_f64().unwrap() > 0.99);
    assert_eq!(d["self_governance"]["sessions"], 8);
    assert_eq!(d["self_governance"]["volunteers_joined"], 21);
    assert_eq!(d["integration"]["activities"], 6);
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url("/dashboard?from=2023-05-01&to=2024-02-29")).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("治理驾驶舱") && page.matches("<svg").count() >= 2 && page.contains("三率月度走势"),
        "{page}"
    );
    // The report for the period: by building, with notable cases, as a page and as XLSX.
    let r = app.get_json(&staff, "/api/v1/reports/governance?from=2023-05-01&to=2024-02-29").await;
    let buildings = r["buildings"].as_array().unwrap();
    assert_eq!(buildings.len(), 36);
    assert_eq!(buildings.iter().map(|b| b["households"].as_i64().unwrap()).sum::<i64>(), 2268);
    // Requests about a place rather than a household (the garage, the square) belong to no building.
    let in_buildings: i64 = buildings.iter().map(|b| b["requests"].as_i64().unwrap()).sum();
    let total = r["pillars"]["service"]["rates"]["requests"].as_i64().unwrap();
    assert!(in_buildings > total / 2 && in_buildings <= total, "{in_buildings} of {total}");
    // Every finding of the period is counted at its building (findings away from a building at none).
    let by_building: i64 = buildings.iter().map(|b| b["findings"].as_i64().unwrap()).sum();
    let findings = r["pillars"]["order"]["findings"].as_i64().unwrap();
    assert!(by_building > 0 && by_building <= findings, "{by_building} of {findings}");
    assert!(
        r["notable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "case_closed" && n["title"].as_str().unwrap().contains("3号院7号楼1单元102"))
    );
    assert!(r["notable"].as_array().unwrap().iter().any(|n| n["title"] == "初心如故、岁月流金"));
    // The article's figures, from the records of its period.
    let article = r["article"].as_array().unwrap();
    assert_eq!(article.len(), 9);
    for a in article {
        assert_eq!(a["agrees"], true, "{a}");
    }
    assert!(article.iter().any(|a| a["figure"] == "enrolment_first_day" && a["records"].as_u64().unwrap() >= 50));
    // Filters by compound and building: the place-bound figures follow the part chosen.
    let hu = app
        .get_json(&staff, "/api/v1/households?q=3%E5%8F%B7%E9%99%A27%E5%8F%B7%E6%A5%BC1%E5%8D%95%E5%85%83102")
        .await[0]["household_id"]
        .clone();
    let building = app.get_json(&staff, &format!("/api/v1/households/{hu}")).await["building_id"].as_i64().unwrap();
    let period = "from=2023-05-01&to=2024-02-29";
    let one = app.get_json(&staff, &format!("/api/v1/dashboard?{period}&building_id={building}")).await;
    let line = buildings.iter().find(|b| b["building"].as_str().unwrap().ends_with("3号院7号楼")).unwrap();
    assert_eq!(one["service"]["rates"]["requests"], line["requests"], "{one}");
    assert_eq!(one["scope"]["buildings"], json!([building]));
    assert!(one["order"]["findings"].as_u64().unwrap() >= 1, "胡阿姨's window guard was found in her building");
    let community = app.get_json(&staff, "/api/v1/communities").await[0]["id"].clone();
    let compounds = app.get_json(&staff, &format!("/api/v1/communities/{community}/compounds")).await;
    let third = compounds.as_array().unwrap().iter().find(|k| k["name"].as_str().unwrap().ends_with("3号院")).unwrap()
        ["id"]
        .clone();
    let part = app.get_json(&staff, &format!("/api/v1/dashboard?{period}&compound_id={third}")).await;
    let in_compound: u64 = buildings
        .iter()
        .filter(|b| b["building"].as_str().unwrap().contains("3号院"))
        .map(|b| b["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(part["service"]["rates"]["requests"].as_u64().unwrap(), in_compound);
    assert!(part["service"]["rates"]["requests"].as_u64().unwrap() <= total as u64);
    let (status, p) = problem(app.get(&staff, "/api/v1/dashboard?building_id=999999").await).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("building_id")));
    let page = zl
        .get(app.url(&format!("/dashboard?{period}&compound_id={third}&building_id={building}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("scope-note") && page.contains("7号楼"), "{page}");
    let xlsx = app.get(&staff, "/api/v1/reports/governance.xlsx?from=2023-05-01&to=2024-02-29").await;
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let page = zl.get(app.url("/reports?from=2023-05-01&to=2024-02-29")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("社区治理报告") && page.contains("琉璃井路6号院") && page.contains("违建销号"));
    assert!(page.contains("与报道对照") && page.contains("累计接待居民110余人次") && !page.contains("不符"), "{page}");
    assert!(page.matches("<svg").count() >= 2, "the report draws the rates' trend and the requests by building");
    let street = app.token("jiedao").await;
    assert_eq!(
        app.get(&street, "/api/v1/dashboard").await.status(),
        StatusCode::OK,
        "the street office sees its communities"
    );
    assert_eq!(app.get(&app.token("jumin_hu").await, "/api/v1/dashboard").await.status(), StatusCode::FORBIDDEN);
    let _ = std::fs::remove_dir_all(blobs);
}

async fn the_duty_wall_streams_a_new_emergency_as_it_arrives(app: TestApp) {
    let staff = app.token("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let lift =
        cats.as_array().unwrap().iter().find(|c| c["urgency"] == "emergency" && c["leaf"] == true).unwrap()["id"]
            .clone();
    let wall = app.get_json(&staff, "/api/v1/duty_wall").await;
    assert!(wall["emergencies"].as_array().unwrap().is_empty());
    let mut stream = app.client.get(app.url("/api/v1/duty_wall/stream")).bearer_auth(&staff).send().await.unwrap();
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let first = String::from_utf8(stream.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(first.contains("event: wall"), "{first}");
    let r: Value = app
        .create_request(
            &staff,
            &json!({"category_id": lift, "description": "电梯困人", "channel": "phone", "location": "3号院7号楼1单元"}),
        )
        .await;
    let number = r["number"].as_str().unwrap().to_string();
    let next = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let chunk = stream.chunk().await.unwrap().unwrap();
            let text = String::from_utf8(chunk.to_vec()).unwrap();
            if text.contains(&number) {
                return text;
            }
        }
    })
    .await
    .expect("the wall shows the new emergency within seconds");
    assert!(next.contains("data:") && next.contains("3号院7号楼1单元"), "{next}");
    let page = app.browser("zhangli").await.get(app.url("/duty")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("7×24 值班墙") && page.contains(&number));
    assert_eq!(app.get(&app.token("jumin_hu").await, "/api/v1/duty_wall").await.status(), StatusCode::FORBIDDEN);
}

async fn chinese_full_text_search_finds_records_the_searcher_may_see(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let cat = |code: &str| cats.as_array().unwrap().iter().find(|c| c["code"] == code).unwrap()["id"].clone();
    // 胡阿姨's own request, and one from another household.
    app.send(
        Method::POST,
        &hu,
        "/api/v1/requests",
        &json!({"category_id": cat("property.repair.pipe"), "description": "厨房下水管道堵塞漏水"}),
    )
    .await;
    let other = app
        .get_json(&staff, "/api/v1/households?q=1%E5%8F%B7%E9%99%A21%E5%8F%B7%E6%A5%BC1%E5%8D%95%E5%85%83101")
        .await[0]["household_id"]
        .clone();
    app.send(
        Method::POST,
        &staff,
        "/api/v1/requests",
        &json!({"category_id": cat("property.repair.pipe"), "description": "卫生间管道漏水到楼下",
        "household_id": other, "channel": "phone"}),
    )
    .await;
    let li = app.token("patrol_li").await;
    let f = reqwest::multipart::Form::new()
        .text("kind", "corridor_clutter")
        .text("place_text", "1号院2号楼楼道")
        .text("note", "楼道堆放旧家具和纸箱");
    app.client.post(app.url("/api/v1/patrol/findings")).bearer_auth(&li).multipart(f).send().await.unwrap();
    app.send(
        Method::POST,
        &staff,
        "/api/v1/topics",
        &json!({"title": "楼道堆物集中清理日", "body": "每月第一个周六集中清理楼道堆物"}),
    )
    .await;
    // Staff find all of them by words, with the words marked.
    let r = app.get_json(&staff, "/api/v1/search?q=%E6%BC%8F%E6%B0%B4").await;
    let hits = r["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{r}");
    assert!(hits.iter().all(|h| h["kind"] == "request" && h["snippet"].as_str().unwrap().contains("<b>漏水</b>")));
    let r = app.get_json(&staff, "/api/v1/search?q=%E6%A5%BC%E9%81%93%E5%A0%86%E7%89%A9").await;
    let kinds: Vec<&str> = r["hits"].as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"finding") && kinds.contains(&"topic"), "{kinds:?}");
    let r = app.get_json(&staff, "/api/v1/search?q=%E6%A5%BC%E9%81%93%E5%A0%86%E7%89%A9&kind=topic").await;
    assert!(r["hits"].as_array().unwrap().iter().all(|h| h["kind"] == "topic"));
    // A resident sees only her own household's requests; topics are public in the community.
    let r = app.get_json(&hu, "/api/v1/search?q=%E6%BC%8F%E6%B0%B4").await;
    let hits = r["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert!(hits[0]["snippet"].as_str().unwrap().contains("厨房"));
    let r = app.get_json(&hu, "/api/v1/search?q=%E5%A0%86%E7%89%A9").await;
    assert!(r["hits"].as_array().unwrap().iter().all(|h| h["kind"] == "topic"), "no patrol findings for residents");
    // The index follows the event log: a resolution becomes searchable.
    let req = app.get_json(&staff, "/api/v1/requests?status=open").await[0].clone();
    let wuye = app.user_id_of("wuye").await;
    let mut v = req.clone();
    for body in [json!({"action": "respond", "note": "已联系"}), json!({"action": "dispatch", "lead": wuye})] {
        let mut b = body;
        b["version"] = v["version"].clone();
        v = app
            .send(Method::POST, &staff, &format!("/api/v1/requests/{}/actions", req["id"]), &b)
            .await
            .json()
            .await
            .unwrap();
    }
    let wt = app.token("wuye").await;
    for body in [json!({"action": "start"}), json!({"action": "resolve", "resolution": "更换止水阀并疏通下水"})]
    {
        let mut b = body;
        b["version"] = v["version"].clone();
        v = app
            .send(Method::POST, &wt, &format!("/api/v1/requests/{}/actions", req["id"]), &b)
            .await
            .json()
            .await
            .unwrap();
    }
    let r = app.get_json(&staff, "/api/v1/search?q=%E6%AD%A2%E6%B0%B4%E9%98%80").await;
    assert_eq!(r["hits"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["hits"][0]["status"], "resolved");
    let r = app.get_json(&staff, "/api/v1/search?q=%E6%BC%8F%E6%B0%B4&status=resolved").await;
    assert_eq!(r["hits"].as_array().unwrap().len(), 1, "filtered by status: {r}");
    let (status, _) = (app.get(&staff, "/api/v1/search?q=").await.status(), ());
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The search box finds records too.
    let page = app
        .browser("zhangli")
        .await
        .get(app.url("/search?q=%E6%BC%8F%E6%B0%B4"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("相关记录") && page.contains("<b>漏水</b>"));
    // A rebuild on disk indexes every record and remembers where the log was.
    let dir = std::env::temp_dir().join(format!("wujia-search-{}-{}", std::process::id(), app.url("/").len()));
    let _ = std::fs::remove_dir_all(&dir);
    let index = wujia_web::search::SearchIndex::open(Some(&dir)).unwrap();
    assert!(index.rebuild(&app.state.store).await.unwrap() >= 4);
    assert!(index.seq() > 0);
    drop(index);
    let again = wujia_web::search::SearchIndex::open(Some(&dir)).unwrap();
    assert!(again.seq() > 0, "the position in the log survives a restart");
    let _ = std::fs::remove_dir_all(dir);
}
