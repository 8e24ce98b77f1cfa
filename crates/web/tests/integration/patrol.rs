//! The order pillar over HTTP on SQLite and PostgreSQL: plans and rounds, findings and cases, the zero board,
//! joint meetings, figures and calendar feeds.

use crate::common::{TestApp, hidden, jpeg};
use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_week_of_rounds_with_a_missed_evening_is_flagged_and_counted,
    aunt_hus_window_guard_runs_from_finding_to_closed_and_the_board_returns_to_zero,
    joint_meetings_carry_unfinished_actions_and_each_party_updates_its_own,
    patrol_pages_work_on_a_phone_without_javascript,
    the_demo_replays_aunt_hus_case_and_a_month_of_rounds,
    plans_routes_and_stickers_are_managed_from_pages,
);

fn beijing(d: u32, h: u32, m: u32) -> chrono::DateTime<Utc> {
    let (month, day) = if d > 29 { (3, d - 29) } else { (2, d) };
    Shanghai.with_ymd_and_hms(2024, month, day, h, m, 0).unwrap().with_timezone(&Utc)
}

async fn problem(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn field(p: &Value) -> &str {
    p["errors"][0]["field"].as_str().unwrap_or_default()
}

async fn zone(app: &TestApp, token: &str, name: &str) -> Value {
    let zones = app.get_json(token, "/api/v1/zones").await;
    zones.as_array().unwrap().iter().find(|z| z["name"] == name).cloned().unwrap_or_else(|| panic!("no zone {name}"))
}

async fn checkpoint(app: &TestApp, token: &str, zone: i64, name: &str) -> Value {
    let res = app.send(Method::POST, token, &format!("/api/v1/zones/{zone}/checkpoints"), &json!({"name": name})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["checkpoint"].clone()
}

fn form(pairs: &[(&str, String)], photos: Vec<Vec<u8>>) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new();
    for (k, v) in pairs {
        f = f.text(k.to_string(), v.clone());
    }
    for p in photos {
        f = f.part("photo", reqwest::multipart::Part::bytes(p).file_name("photo.jpg"));
    }
    f
}

async fn post_form(app: &TestApp, token: &str, path: &str, f: reqwest::multipart::Form) -> reqwest::Response {
    app.client.post(app.url(path)).bearer_auth(token).multipart(f).send().await.unwrap()
}

async fn round_at(app: &TestApp, token: &str, date: &str, shift: &str) -> Value {
    let rounds = app.get_json(token, &format!("/api/v1/patrol/rounds?date={date}")).await;
    rounds
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["shift"] == shift && r["zone_name"] == "第一片区")
        .cloned()
        .unwrap_or_else(|| panic!("no {shift} round on {date}: {rounds}"))
}

async fn a_week_of_rounds_with_a_missed_evening_is_flagged_and_counted(app: TestApp) {
    app.clock.set(beijing(26, 6, 0));
    let staff = app.token("zhangli").await;
    let li = app.token("patrol_li").await;
    let one = zone(&app, &staff, "第一片区").await;
    let two = zone(&app, &staff, "第二片区").await;
    let zone1 = one["id"].as_i64().unwrap();
    let gate = checkpoint(&app, &staff, zone1, "1号院南门").await;
    let corridor = checkpoint(&app, &staff, zone1, "2号院3号楼").await;
    let elsewhere = checkpoint(&app, &staff, two["id"].as_i64().unwrap(), "3号院7号楼").await;
    // A plan with a bad time names the field and creates nothing.
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            "/api/v1/patrol/plans",
            &json!({"zone_id": zone1, "name": "早晚巡查", "times": ["7点半"]}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "times"));
    assert!(app.get_json(&staff, "/api/v1/patrol/plans").await.as_array().unwrap().is_empty());
    let res = app
        .send(
            Method::POST,
            &li,
            "/api/v1/patrol/plans",
            &json!({"zone_id": zone1, "name": "早晚巡查", "times": ["07:30", "19:00"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "squad members do not plan");
    let res = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/patrol/plans",
            &json!({"zone_id": zone1, "name": "早晚巡查", "times": ["07:30", "19:00"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let plan: Value = res.json().await.unwrap();
    assert_eq!(plan["weekdays"], json!([1, 2, 3, 4, 5, 6, 7]), "every day, weekends included");

    for day in 26..=32u32 {
        // Sessions last a working day; the squad logs in each morning.
        app.clock.set(beijing(day, 6, 50));
        let li = app.token("patrol_li").await;
        let ma = app.token("patrol_ma").await;
        let date = beijing(day, 12, 0).with_timezone(&Shanghai).date_naive().to_string();
        for (shift, hour) in [("morning", 7), ("evening", 19)] {
            if day == 29 && shift == "evening" {
                continue; // The evening round nobody walked.
            }
            app.clock.set(beijing(day, hour, 35));
            let round = round_at(&app, &li, &date, shift).await;
            let id = round["id"].as_i64().unwrap();
            assert_eq!(round["status"], "planned");
            let res = app
                .send(
                    Method::POST,
                    &li,
                    &format!("/api/v1/patrol/rounds/{id}/checkins"),
                    &json!({"code": gate["code"], "checklist": ["laundry", "fire_lane"]}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
            if day == 26 && shift == "morning" {
                // Not done yet: one checkpoint left.
                let (status, _) = problem(
                    app.send(Method::POST, &li, &format!("/api/v1/patrol/rounds/{id}/completion"), &json!({})).await,
                )
                .await;
                assert_eq!(status, StatusCode::CONFLICT);
                // A checkpoint of another zone is refused and nothing is recorded.
                let (status, p) = problem(
                    app.send(
                        Method::POST,
                        &li,
                        &format!("/api/v1/patrol/rounds/{id}/checkins"),
                        &json!({"checkpoint_id": elsewhere["id"]}),
                    )
                    .await,
                )
                .await;
                assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "checkpoint_id"));
                let (status, _) = problem(
                    app.send(
                        Method::POST,
                        &li,
                        &format!("/api/v1/patrol/rounds/{id}/checkins"),
                        &json!({"code": gate["code"]}),
                    )
                    .await,
                )
                .await;
                assert_eq!(status, StatusCode::CONFLICT, "one check-in per checkpoint");
                assert_eq!(app.get_json(&li, &format!("/api/v1/patrol/rounds/{id}")).await["checked"], 1);
                // Another zone's squad may not walk this round.
                let res = app
                    .send(
                        Method::POST,
                        &ma,
                        &format!("/api/v1/patrol/rounds/{id}/checkins"),
                        &json!({"checkpoint_id": corridor["id"]}),
                    )
                    .await;
                assert_eq!(res.status(), StatusCode::FORBIDDEN);
            }
            let res = app
                .send(
                    Method::POST,
                    &li,
                    &format!("/api/v1/patrol/rounds/{id}/checkins"),
                    &json!({"checkpoint_id": corridor["id"]}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
            if day == 28 && shift == "morning" {
                // Corridor clutter found and cleared on the spot, with a photo.
                let f = form(
                    &[
                        ("kind", "corridor_clutter".into()),
                        ("place_text", "2号院3号楼1单元楼道".into()),
                        ("fixed_on_spot", "true".into()),
                        ("round_id", id.to_string()),
                        ("note", "纸箱已清走".into()),
                    ],
                    vec![jpeg()],
                );
                let res = post_form(&app, &li, "/api/v1/patrol/findings", f).await;
                assert_eq!(res.status(), StatusCode::CREATED);
                let finding: Value = res.json().await.unwrap();
                assert!(finding["case_id"].is_null(), "fixed on the spot opens no case");
                assert_eq!(finding["photos"].as_array().unwrap().len(), 1);
                // The round shows what was found on it.
                let round = app.get_json(&li, &format!("/api/v1/patrol/rounds/{id}")).await;
                let found: Vec<i64> =
                    round["findings"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
                assert_eq!(found, [finding["id"].as_i64().unwrap()]);
            }
            let res = app.send(Method::POST, &li, &format!("/api/v1/patrol/rounds/{id}/completion"), &json!({})).await;
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.json::<Value>().await.unwrap()["status"], "done");
        }
        if day == 29 {
            // The missed evening is flagged to the zone leader once, by whichever node runs the jobs.
            app.clock.set(beijing(29, 21, 5));
            let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
            assert_eq!(report.missed_rounds, 1);
            assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().missed_rounds, 0);
            let inbox = app.get_json(&li, "/api/v1/inbox").await;
            assert!(
                inbox["items"].as_array().unwrap().iter().any(|m| m["title"].as_str().unwrap().starts_with("漏巡")),
                "{inbox}"
            );
            let round = round_at(&app, &li, "2024-02-29", "evening").await;
            assert_eq!(round["status"], "missed");
            let (status, _) = problem(
                app.send(
                    Method::POST,
                    &li,
                    &format!("/api/v1/patrol/rounds/{}/checkins", round["id"]),
                    &json!({"code": gate["code"]}),
                )
                .await,
            )
            .await;
            assert_eq!(status, StatusCode::CONFLICT, "a missed round stays missed");
        }
    }
    app.clock.set(beijing(32, 22, 0));
    let staff = app.token("zhangli").await;
    let li = app.token("patrol_li").await;
    let s = app.get_json(&staff, "/api/v1/patrol/summary?from=2024-02-26&to=2024-03-03").await;
    assert_eq!(
        (s["rounds"]["due"].as_i64(), s["rounds"]["done"].as_i64(), s["rounds"]["missed"].as_i64()),
        (Some(14), Some(13), Some(1))
    );
    let evening = &s["rounds_by_zone_shift"]["第一片区"]["evening"];
    assert_eq!((evening["done"].as_i64(), evening["missed"].as_i64()), (Some(6), Some(1)));
    assert_eq!(s["findings_by_type"]["corridor_clutter"], 1);
    assert_eq!(s["fixed_on_spot_share"], 1.0);
    assert_eq!(s["open_illegal_construction_cases"], 0);
    assert_eq!(app.get(&li, "/api/v1/patrol/summary").await.status(), StatusCode::OK, "squads see their figures");
    assert_eq!(app.get(&app.token("jumin_hu").await, "/api/v1/patrol/summary").await.status(), StatusCode::FORBIDDEN);

    // The member's shifts as a calendar feed, opened by a token that opens nothing else.
    let res = app.send(Method::POST, &li, "/api/v1/me/calendar_token", &json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let feed: Value = res.json().await.unwrap();
    let ics = app.client.get(app.url(feed["patrol"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(ics.status(), StatusCode::OK);
    assert!(ics.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let text = ics.text().await.unwrap();
    assert!(text.contains("BEGIN:VCALENDAR") && text.contains("早晚巡查 · 第一片区"), "{text}");
    assert!(text.matches("BEGIN:VEVENT").count() >= 14);
    let token = feed["token"].as_str().unwrap();
    assert_eq!(app.get(token, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED);
    let res = app.client.get(app.url("/api/v1/patrol/rounds.ics?token=wrong")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn step(app: &TestApp, token: &str, case: i64, pairs: &[(&str, &str)], photo: bool) -> reqwest::Response {
    let pairs: Vec<(&str, String)> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let photos = if photo { vec![jpeg()] } else { vec![] };
    post_form(app, token, &format!("/api/v1/patrol/cases/{case}/steps"), form(&pairs, photos)).await
}

async fn aunt_hus_window_guard_runs_from_finding_to_closed_and_the_board_returns_to_zero(app: TestApp) {
    app.clock.set(beijing(26, 7, 40));
    let staff = app.token("zhangli").await;
    let ma = app.token("patrol_ma").await;
    let hits =
        app.get_json(&staff, "/api/v1/households?q=3%E5%8F%B7%E9%99%A27%E5%8F%B7%E6%A5%BC1%E5%8D%95%E5%85%83102").await;
    let hu = hits[0]["household_id"].as_i64().unwrap();
    let count = |app: &TestApp, token: String| {
        let app_url = app.url("/api/v1/patrol/findings");
        let client = app.client.clone();
        async move {
            client
                .get(app_url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
                .as_array()
                .unwrap()
                .len()
        }
    };
    // Bad input first: nothing is recorded.
    let (status, p) = problem(
        post_form(&app, &ma, "/api/v1/patrol/findings", form(&[("kind", "window_guard".into())], vec![])).await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "place"));
    let not_image =
        form(&[("kind", "window_guard".into()), ("household_id", hu.to_string())], vec![b"%PDF-1.7".to_vec()]);
    assert_eq!(
        post_form(&app, &ma, "/api/v1/patrol/findings", not_image).await.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = form(
        &[("kind", "window_guard".into()), ("household_id", hu.to_string())],
        vec![vec![0xFF; wujia_core::media::MAX_PHOTO_BYTES + 10]],
    );
    assert_eq!(post_form(&app, &ma, "/api/v1/patrol/findings", huge).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(count(&app, staff.clone()).await, 0);
    assert!(app.get_json(&staff, "/api/v1/patrol/cases").await.as_array().unwrap().is_empty());

    // The morning round finds the outward window guard; the phone sends it twice (the first answer was lost).
    let finding = [
        ("kind", "window_guard".to_string()),
        ("household_id", hu.to_string()),
        ("note", "低层外扩护栏".into()),
        ("client_id", "phone-7f3a-0001".into()),
    ];
    let res = post_form(&app, &ma, "/api/v1/patrol/findings", form(&finding, vec![jpeg()])).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    let res = post_form(&app, &ma, "/api/v1/patrol/findings", form(&finding, vec![jpeg()])).await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(first["id"], again["id"], "a retry is not a second finding");
    assert_eq!(first["place_text"], "琉璃井路3号院7号楼1单元102");
    assert_eq!(first["recurrence"], false);
    let case = first["case_id"].as_i64().expect("not fixed on the spot: a case opens");
    let board = app.get_json(&staff, "/api/v1/patrol/board").await;
    assert_eq!(board["open"], 1);
    assert_eq!(
        (board["buildings"][0]["compound_name"].as_str(), board["buildings"][0]["building_number"].as_i64()),
        (Some("琉璃井路3号院"), Some(7))
    );
    let c = app.get_json(&staff, &format!("/api/v1/patrol/cases/{case}")).await;
    assert_eq!((c["status"].as_str(), c["steps"][0]["kind"].as_str()), (Some("noticed"), Some("notice")));
    assert!(c["number"].as_str().unwrap().starts_with("ZG-WT-2024-"));
    // Not handed to the property company (yet): it neither reads nor works the case.
    let wuye = app.token("wuye").await;
    assert_eq!(app.get(&wuye, &format!("/api/v1/patrol/cases/{case}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        step(&app, &wuye, case, &[("action", "visit"), ("outcome", "refused")], false).await.status(),
        StatusCode::NOT_FOUND
    );

    for day in [26, 27, 28] {
        app.clock.set(beijing(day, 18, 30));
        let staff = app.token("zhangli").await;
        let res =
            step(&app, &staff, case, &[("action", "visit"), ("outcome", "refused"), ("note", "闭门羹")], false).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let staff = app.token("zhangli").await;
    // Rules hold: no closing, no removal without agreement, no re-inspection without a photo.
    for (pairs, photo, want) in [
        (vec![("action", "close")], false, "action"),
        (vec![("action", "handle"), ("handled_by", "property")], false, "action"),
        (vec![("action", "visit"), ("outcome", "agreed")], false, "deadline"),
        (vec![("action", "teleport")], false, "action"),
    ] {
        let (status, p) = problem(step(&app, &staff, case, &pairs, photo).await).await;
        assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, want), "{pairs:?}");
    }
    assert_eq!(
        app.get_json(&staff, &format!("/api/v1/patrol/cases/{case}")).await["status"],
        "visiting",
        "nothing changed"
    );
    app.clock.set(beijing(29, 10, 0));
    let staff = app.token("zhangli").await;
    let res = step(
        &app,
        &staff,
        case,
        &[
            ("action", "visit"),
            ("outcome", "agreed"),
            ("deadline", "2024-03-05"),
            ("note", "带着设计图纸和既往案例上门，胡阿姨同意拆除"),
        ],
        false,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        step(&app, &staff, case, &[("action", "handle"), ("handled_by", "property")], false).await.status(),
        StatusCode::CREATED
    );
    let (status, p) =
        problem(step(&app, &staff, case, &[("action", "reinspect"), ("passed", "true")], false).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "photo"));
    app.clock.set(beijing(31, 9, 0));
    let staff = app.token("zhangli").await;
    assert_eq!(
        step(&app, &staff, case, &[("action", "reinspect"), ("passed", "true"), ("note", "已恢复原貌")], true)
            .await
            .status(),
        StatusCode::CREATED
    );
    let res = step(&app, &staff, case, &[("action", "close")], false).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let closed: Value = res.json().await.unwrap();
    assert_eq!((closed["status"].as_str(), closed["visits"].as_i64()), (Some("closed"), Some(4)));
    let photo = closed["steps"].as_array().unwrap().iter().find(|s| s["kind"] == "reinspect").unwrap()["photo"]
        .as_str()
        .unwrap()
        .to_string();
    let bytes = app.get(&staff, &photo).await.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]) && !bytes.windows(4).any(|w| w == b"Exif"));
    assert_eq!(app.get(&app.token("jumin_hu").await, &photo).await.status(), StatusCode::NOT_FOUND);
    let board = app.get_json(&staff, "/api/v1/patrol/board").await;
    assert_eq!(board["open"], 0, "the board is back to zero");
    assert_eq!(board["closed_30_days"], 1);
    assert_eq!(board["trend"].as_array().unwrap().len(), 12);
    let s = app.get_json(&staff, "/api/v1/patrol/summary?from=2024-02-26&to=2024-03-02").await;
    assert_eq!(s["cases_closed"], 1);
    assert!((s["mean_days_to_rectify"].as_f64().unwrap() - 5.06).abs() < 0.01);
    // The same household comes back: a recurrence.
    app.clock.set(beijing(32, 7, 45));
    let ma = app.token("patrol_ma").await;
    let staff = app.token("zhangli").await;
    let wuye = app.token("wuye").await;
    let back = post_form(
        &app,
        &ma,
        "/api/v1/patrol/findings",
        form(&[("kind", "window_guard".into()), ("household_id", hu.to_string())], vec![]),
    )
    .await;
    assert_eq!(back.json::<Value>().await.unwrap()["recurrence"], true);
    // Baselines: the building as delivered.
    let building = closed["building_id"].as_i64().unwrap();
    let res = post_form(
        &app,
        &staff,
        &format!("/api/v1/buildings/{building}/baselines"),
        form(&[("note", "交付时外立面无护栏".into())], vec![jpeg()]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        app.get_json(&wuye, &format!("/api/v1/buildings/{building}/baselines")).await[0]["note"],
        "交付时外立面无护栏"
    );
    // Every step is in the audit chain.
    let admin = app.token("admin").await;
    let events = app.get_json(&admin, &format!("/api/v1/audit/events?entity=case&entity_id={case}")).await;
    assert!(events.as_array().map_or(0, Vec::len) >= 8, "{events}");
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
}

async fn joint_meetings_carry_unfinished_actions_and_each_party_updates_its_own(app: TestApp) {
    app.clock.set(beijing(26, 9, 0));
    let staff = app.token("zhangli").await;
    let li = app.token("patrol_li").await;
    let open = post_form(
        &app,
        &li,
        "/api/v1/patrol/findings",
        form(&[("kind", "illegal_construction".into()), ("place_text", "1号院北侧绿地私搭棚子".into())], vec![]),
    )
    .await;
    let case = open.json::<Value>().await.unwrap()["case_id"].as_i64().unwrap();
    let res = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/meetings",
            &json!({"title": "2024年2月联席会", "starts_at": "2024-02-27T14:00", "place": "社区议事厅"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let m1 = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let planned = app.get_json(&staff, &format!("/api/v1/meetings/{m1}")).await;
    assert!(
        planned["agenda"].as_array().unwrap().iter().any(|i| i["kind"] == "open_case" && i["id"] == case),
        "{planned}"
    );
    // An action without an owner is refused and nothing is recorded.
    let bad = json!({"attendance": [{"party": "community", "name": "张丽"}], "minutes": "议定事项",
        "actions": [{"title": "拆除棚子", "party": "property", "owner": "", "due": "2024-03-05"}]});
    let (status, p) =
        problem(app.send(Method::POST, &staff, &format!("/api/v1/meetings/{m1}/minutes"), &bad).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "actions[0].owner"));
    assert_eq!(app.get_json(&staff, &format!("/api/v1/meetings/{m1}")).await["status"], "planned");
    app.clock.set(beijing(27, 16, 0));
    let staff = app.token("zhangli").await;
    let wuye = app.token("wuye").await;
    let kaifa = app.token("kaifa").await;
    let minutes = json!({
    "attendance": [{"party": "community", "name": "张丽"}, {"party": "property", "name": "王经理"}, {"party": "developer", "name": "赵工"}],
    "minutes": "三方议定：物业拆除北侧棚子；开发商复核6号院烟道设计。",
    "actions": [
        {"title": "拆除1号院北侧私搭棚子", "party": "property", "owner": "王经理", "due": "2024-03-05", "case_id": case},
        {"title": "复核6号院燃气热水器烟道设计", "party": "developer", "owner": "赵工", "due": "2024-03-10"}
    ]});
    let res = app.send(Method::POST, &staff, &format!("/api/v1/meetings/{m1}/minutes"), &minutes).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let held: Value = res.json().await.unwrap();
    assert_eq!((held["status"].as_str(), held["actions"].as_array().unwrap().len()), (Some("held"), 2));
    assert_eq!(
        app.send(Method::POST, &staff, &format!("/api/v1/meetings/{m1}/minutes"), &minutes).await.status(),
        StatusCode::CONFLICT
    );
    // Each party sees and updates its own actions.
    let mine = app.get_json(&wuye, "/api/v1/meeting_actions").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let property_action = mine[0].clone();
    let developer_action = app.get_json(&kaifa, "/api/v1/meeting_actions").await[0].clone();
    let res = app
        .send(
            Method::PATCH,
            &wuye,
            &format!("/api/v1/meeting_actions/{}", developer_action["id"]),
            &json!({"progress": "x", "version": developer_action["version"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app
        .send(
            Method::PATCH,
            &wuye,
            &format!("/api/v1/meeting_actions/{}", property_action["id"]),
            &json!({"progress": "已通知住户，周五拆除", "version": property_action["version"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, _) = problem(
        app.send(
            Method::PATCH,
            &wuye,
            &format!("/api/v1/meeting_actions/{}", property_action["id"]),
            &json!({"progress": "stale", "version": property_action["version"]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // The next meeting's agenda carries both actions, the property one ahead (earlier due).
    let m2 = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/meetings",
            &json!({"title": "2024年3月联席会", "starts_at": "2024-03-12 14:00"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let agenda = app.get_json(&staff, &format!("/api/v1/meetings/{m2}")).await["agenda"].clone();
    let carried: Vec<i64> = agenda
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "carried_action")
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(carried, [property_action["id"].as_i64().unwrap(), developer_action["id"].as_i64().unwrap()]);
    // Done on time: it leaves the agenda; the developer's stays until done.
    app.clock.set(beijing(32, 10, 0));
    let staff = app.token("zhangli").await;
    let wuye = app.token("wuye").await;
    let kaifa = app.token("kaifa").await;
    let now = app.get_json(&wuye, "/api/v1/meeting_actions").await[0].clone();
    let res = app
        .send(
            Method::PATCH,
            &wuye,
            &format!("/api/v1/meeting_actions/{}", now["id"]),
            &json!({"progress": "已拆除", "done": true, "version": now["version"]}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "done");
    let agenda = app.get_json(&staff, &format!("/api/v1/meetings/{m2}")).await["agenda"].clone();
    let carried: Vec<&Value> = agenda.as_array().unwrap().iter().filter(|i| i["kind"] == "carried_action").collect();
    assert_eq!(carried.len(), 1);
    assert_eq!(carried[0]["id"], developer_action["id"]);
    let s = app.get_json(&staff, "/api/v1/patrol/summary?from=2024-03-01&to=2024-03-31").await;
    assert_eq!((s["actions_due"].as_i64(), s["actions_done_on_time"].as_i64()), (Some(2), Some(1)));
    let ics = app.get(&kaifa, "/api/v1/meetings.ics").await.text().await.unwrap();
    assert!(ics.contains("2024年2月联席会") && ics.contains("2024年3月联席会"), "{ics}");
    assert_eq!(app.get(&app.token("jumin_hu").await, "/api/v1/meetings").await.status(), StatusCode::FORBIDDEN);
}

async fn patrol_pages_work_on_a_phone_without_javascript(app: TestApp) {
    app.clock.set(beijing(26, 6, 0));
    let staff = app.token("zhangli").await;
    let two = zone(&app, &staff, "第二片区").await["id"].as_i64().unwrap();
    let gate = checkpoint(&app, &staff, two, "3号院南门").await;
    let seven = checkpoint(&app, &staff, two, "3号院7号楼").await;
    app.send(
        Method::POST,
        &staff,
        "/api/v1/patrol/plans",
        &json!({"zone_id": two, "name": "早晚巡查", "times": ["07:30", "19:00"]}),
    )
    .await;
    app.clock.set(beijing(26, 7, 35));
    let ma = app.browser("patrol_ma").await;
    // Patrol members land on today's rounds.
    let res = ma.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.url().path(), "/patrol");
    let today = res.text().await.unwrap();
    assert!(today.contains("第二片区 · 早晚巡查") && today.contains("07:30–09:30"), "{today}");
    let round = app.get_json(&app.token("patrol_ma").await, "/api/v1/patrol/rounds").await[0]["id"].as_i64().unwrap();
    let page = ma.get(app.url(&format!("/patrol/rounds/{round}"))).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    assert!(page.contains("3号院南门") && page.contains("外扩护栏") && page.contains("data-offline=\"finding\""));
    // The QR sticker's page checks in with its code.
    let scan = ma
        .get(app.url(&format!("/patrol/scan/{}", gate["code"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(scan.contains("第二片区 · 3号院南门"));
    let res = ma
        .post(app.url(&format!("/patrol/rounds/{round}/checkins")))
        .form(&[("csrf", csrf.as_str()), ("code", gate["code"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("已签到：3号院南门"));
    let res = ma
        .post(app.url(&format!("/patrol/rounds/{round}/completion")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("还有 1 个巡查点未打卡"));
    let seven_id = seven["id"].to_string();
    let res = ma
        .post(app.url(&format!("/patrol/rounds/{round}/checkins")))
        .form(&[("csrf", csrf.as_str()), ("checkpoint_id", seven_id.as_str()), ("ok", "laundry"), ("ok", "fire_lane")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A finding typed with the address as squads write it, with a photo.
    let f = form(
        &[
            ("csrf", csrf.clone()),
            ("round_id", round.to_string()),
            ("kind", "window_guard".into()),
            ("address", "3-7-1-102".into()),
            ("client_id", String::new()),
        ],
        vec![jpeg()],
    );
    let res = ma.post(app.url("/patrol/findings")).multipart(f).send().await.unwrap();
    assert!(res.url().query().unwrap_or_default().starts_with("recorded="));
    let page = res.text().await.unwrap();
    assert!(page.contains("问题已记录") && page.contains("琉璃井路3号院7号楼1单元102") && page.contains("已立案整改"));
    let f = form(&[("csrf", csrf.clone()), ("round_id", round.to_string()), ("kind", "laundry".into())], vec![]);
    let res = ma.post(app.url("/patrol/findings")).multipart(f).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("请说明位置"));
    let res = ma
        .post(app.url(&format!("/patrol/rounds/{round}/completion")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.url().path(), "/patrol");
    assert!(res.text().await.unwrap().contains("已完成"));

    // Staff work the case from the board.
    let zl = app.browser("zhangli").await;
    let board = zl.get(app.url("/patrol/board")).send().await.unwrap().text().await.unwrap();
    assert!(
        board.contains("<svg") && board.contains("琉璃井路3号院7号楼") && board.contains("id=\"open-illegal\">1<"),
        "{board}"
    );
    let case = app.get_json(&staff, "/api/v1/patrol/cases").await[0]["id"].as_i64().unwrap();
    let page = zl.get(app.url(&format!("/patrol/cases/{case}"))).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let version = hidden(&page, "version");
    let res = zl
        .post(app.url(&format!("/patrol/cases/{case}/steps")))
        .multipart(form(&[("csrf", csrf.clone()), ("version", version.clone()), ("action", "close".into())], vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("复查合格后才能销号"));
    let res = zl
        .post(app.url(&format!("/patrol/cases/{case}/steps")))
        .multipart(form(
            &[
                ("csrf", csrf.clone()),
                ("version", version),
                ("action", "visit".into()),
                ("outcome", "refused".into()),
                ("note", "敲门无人应".into()),
            ],
            vec![],
        ))
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("拒绝（闭门羹）") && page.contains("敲门无人应"));
    // The case links to the service request a neighbour raised about it, by the number read off it.
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let cat = cats.as_array().unwrap().iter().find(|c| c["leaf"] == true).unwrap()["id"].clone();
    let r: Value = app.create_request(&staff, &json!({"category_id": cat, "description": "邻居反映外扩护栏", "channel": "phone", "location": "3号院7号楼"})).await;
    let version = hidden(&page, "version");
    let res = zl
        .post(app.url(&format!("/patrol/cases/{case}/steps")))
        .multipart(form(
            &[
                ("csrf", csrf.clone()),
                ("version", version.clone()),
                ("action", "link".into()),
                ("request_number", "WT-0000-000000".into()),
            ],
            vec![],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = zl
        .post(app.url(&format!("/patrol/cases/{case}/steps")))
        .multipart(form(
            &[
                ("csrf", csrf.clone()),
                ("version", version),
                ("action", "link".into()),
                ("request_number", r["number"].as_str().unwrap().into()),
            ],
            vec![],
        ))
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains(r["number"].as_str().unwrap()), "linked");
    // The building's delivery-day look, recorded from the case page to compare against.
    let building = app.get_json(&staff, &format!("/api/v1/patrol/cases/{case}")).await["building_id"].as_i64().unwrap();
    let res = zl
        .post(app.url(&format!("/patrol/buildings/{building}/baselines")))
        .multipart(form(
            &[
                ("csrf", csrf.clone()),
                ("note", "交付时一层无外扩护栏".into()),
                ("back", format!("/patrol/cases/{case}")),
            ],
            vec![jpeg()],
        ))
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("交付时一层无外扩护栏") && page.contains("交付时原貌"));

    // A joint meeting from the page: scheduled, minutes with an action for the property company.
    let res = zl
        .post(app.url("/patrol/meetings"))
        .form(&[("csrf", csrf.as_str()), ("title", "3月联席会"), ("starts_at", "2024-02-28T14:00"), ("place", "")])
        .send()
        .await
        .unwrap();
    let meeting_page = res.url().path().to_string();
    let page = res.text().await.unwrap();
    assert!(page.contains("整改中案件") && page.contains("外扩护栏"), "the open case is on the agenda: {page}");
    let res = zl
        .post(app.url(&format!("{meeting_page}/minutes")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("attend_community", "张丽"),
            ("attend_property", "王经理"),
            ("minutes", "物业协助拆除护栏"),
            ("action0_title", "协助拆除3号院7号楼外扩护栏"),
            ("action0_party", "property"),
            ("action0_owner", ""),
            ("action0_due", "2024-03-05"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("actions[0].owner"));
    let res = zl
        .post(app.url(&format!("{meeting_page}/minutes")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("attend_community", "张丽"),
            ("attend_property", "王经理"),
            ("minutes", "物业协助拆除护栏"),
            ("action0_title", "协助拆除3号院7号楼外扩护栏"),
            ("action0_party", "property"),
            ("action0_owner", "王经理"),
            ("action0_due", "2024-03-05"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("协助拆除3号院7号楼外扩护栏"));
    // The property company updates its action from its own list.
    let wuye = app.browser("wuye").await;
    let page = wuye.get(app.url("/patrol/meetings")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("协助拆除3号院7号楼外扩护栏") && page.contains("action-form"));
    let action = app.get_json(&app.token("wuye").await, "/api/v1/meeting_actions").await[0].clone();
    let res = wuye
        .post(app.url(&format!("/patrol/actions/{}", action["id"])))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("progress", "已约定周五拆除"),
            ("version", &action["version"].to_string()),
            ("back", "/patrol/meetings"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("已约定周五拆除"));
    let figures = zl.get(app.url("/patrol/figures")).send().await.unwrap().text().await.unwrap();
    assert!(figures.contains("巡查完成率") && figures.contains("外扩护栏"));
    let en = zl.get(app.url("/lang/en?next=/patrol/board")).send().await.unwrap().text().await.unwrap();
    assert!(en.contains("Zero illegal construction"));
}

async fn the_demo_replays_aunt_hus_case_and_a_month_of_rounds(app: TestApp) {
    let blobs = std::env::temp_dir().join(format!("wujia-demo-blobs-{}", std::process::id()));
    let n = wujia_web::load_patrol_history(&app.state.store, &blobs).await.unwrap();
    assert!(n > 20, "{n} findings");
    app.clock.set(beijing(26, 9, 0));
    let staff = app.token("zhangli").await;
    // 胡阿姨's case: three refusals, agreement with the drawings, removal by the property company, re-inspection.
    let cases = app.get_json(&staff, "/api/v1/patrol/cases?open=false").await;
    let hu = cases.as_array().unwrap().iter().find(|c| c["kind"] == "window_guard").expect("the window guard case");
    let detail = app.get_json(&staff, &format!("/api/v1/patrol/cases/{}", hu["id"])).await;
    let steps: Vec<(&str, &str)> = detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap(), s["outcome"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        steps,
        [
            ("notice", ""),
            ("visit", "refused"),
            ("visit", "refused"),
            ("visit", "refused"),
            ("visit", "agreed"),
            ("handle", "property"),
            ("reinspect", "passed"),
            ("close", "")
        ]
    );
    assert_eq!(detail["place_text"], "琉璃井路3号院7号楼1单元102");
    let board = app.get_json(&staff, "/api/v1/patrol/board").await;
    assert_eq!(board["open"], 0, "zero illegal construction");
    // Four weeks of rounds: every morning and evening but one, which was flagged.
    let s = app.get_json(&staff, "/api/v1/patrol/summary?from=2024-01-29&to=2024-02-25").await;
    assert_eq!((s["rounds"]["due"].as_i64(), s["rounds"]["missed"].as_i64()), (Some(4 * 28 * 2), Some(1)));
    assert_eq!(s["rounds_by_zone_shift"]["第三片区"]["evening"]["missed"], 1);
    assert!(s["fixed_on_spot"].as_i64().unwrap() > 10);
    let meetings = app.get_json(&staff, "/api/v1/meetings").await;
    assert_eq!(meetings.as_array().unwrap().len(), 3);
    let open = app.get_json(&app.token("wuye").await, "/api/v1/meeting_actions").await;
    assert_eq!(open[0]["title"], "春节后集中清理地下车库杂物");
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
    let _ = std::fs::remove_dir_all(blobs);
}

async fn plans_routes_and_stickers_are_managed_from_pages(app: TestApp) {
    app.clock.set(beijing(26, 6, 0));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url("/patrol/plans")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    assert!(page.contains("第一片区") && page.contains("李强(巡查队)（组长）"), "{page}");
    let zone = zone(&app, &app.token("zhangli").await, "第一片区").await["id"].as_i64().unwrap();
    let res = zl
        .post(app.url(&format!("/patrol/zones/{zone}/checkpoints")))
        .form(&[("csrf", csrf.as_str()), ("name", "1号院东门")])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("1号院东门"));
    let cp = app
        .get_json(&app.token("zhangli").await, "/api/v1/zones")
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["id"] == zone)
        .unwrap()["checkpoints"][0]
        .clone();
    let sticker = zl
        .get(app.url(&format!("/patrol/checkpoints/{}/sticker", cp["id"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sticker.contains("<svg") && sticker.contains(&format!("/patrol/scan/{}", cp["code"].as_str().unwrap())));
    let res = zl
        .post(app.url("/patrol/plans"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("zone_id", &zone.to_string()),
            ("name", "早晚巡查"),
            ("times", "7点半"),
            ("weekday", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("times"));
    let res = zl
        .post(app.url("/patrol/plans"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("zone_id", &zone.to_string()),
            ("name", "早晚巡查"),
            ("times", "07:30, 19:00"),
            ("weekday", "6"),
            ("weekday", "7"),
            ("window_minutes", "90"),
        ])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("早晚巡查 · 07:30 / 19:00 · 周六、周日"), "{page}");
    let wang = app.user_id_of("vol_wang").await.to_string();
    let res = zl
        .post(app.url(&format!("/patrol/zones/{zone}/members")))
        .form(&[("csrf", csrf.as_str()), ("user_id", wang.as_str())])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("王志刚(志愿者)"));
    // A squad member sees the plans but does not change them, and subscribes to their calendar.
    let li = app.browser("patrol_li").await;
    let plans = li.get(app.url("/patrol/plans")).send().await.unwrap().text().await.unwrap();
    assert!(plans.contains("1号院东门") && !plans.contains("plan-form") && !plans.contains("打印二维码"));
    let page = li.get(app.url("/patrol")).send().await.unwrap().text().await.unwrap();
    let res =
        li.post(app.url("/patrol/calendar")).form(&[("csrf", hidden(&page, "csrf").as_str())]).send().await.unwrap();
    let text = res.text().await.unwrap();
    let start = text.find("/api/v1/patrol/rounds.ics?token=").unwrap();
    let url: String = text[start..].chars().take_while(|c| !matches!(c, '<' | '"' | ' ')).collect();
    let ics = app.client.get(app.url(&url)).send().await.unwrap().text().await.unwrap();
    assert!(ics.contains("BEGIN:VCALENDAR"));
}
