//! Self-governance over HTTP on SQLite and PostgreSQL: reception days with bookings, the desk and every demand
//! answered; the volunteer team with shifts and hours.

use crate::common::{TestApp, hidden};
use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    wang_comes_in_tears_his_flue_is_answered_and_he_joins_the_volunteers,
    volunteers_sign_up_serve_and_are_counted,
    the_demo_figures_match_the_article_from_the_records,
    reception_pages_book_register_and_answer,
    volunteer_pages_apply_approve_sign_up_and_print_the_record,
    a_building_social_worker_sees_needs_requests_and_visits_of_their_households,
    a_topic_is_supported_discussed_voted_published_and_followed_to_completion,
    topic_pages_propose_support_vote_and_count,
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

async fn household(app: &TestApp, token: &str, address: &str) -> i64 {
    let q: String = address.bytes().map(|b| format!("%{b:02X}")).collect();
    app.get_json(token, &format!("/api/v1/households?q={q}")).await[0]["household_id"].as_i64().unwrap()
}

async fn act(app: &TestApp, token: &str, id: i64, version: i64, body: Value) -> Value {
    let mut body = body;
    body["version"] = json!(version);
    let res = app.send(Method::POST, token, &format!("/api/v1/requests/{id}/actions"), &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn wang_comes_in_tears_his_flue_is_answered_and_he_joins_the_volunteers(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    let day = json!({"title": "第三次居民接待日", "kind": "regular", "starts_at": "2024-03-10T09:00", "ends_at": "2024-03-10T11:00",
        "slot_minutes": 20, "slot_capacity": 2});
    // Bad sessions name the field and create nothing.
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            "/api/v1/reception_days",
            &json!({"title": "供暖专题", "kind": "themed",
        "starts_at": "2024-03-10T09:00", "ends_at": "2024-03-10T11:00"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "theme"));
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            "/api/v1/reception_days",
            &json!({"title": "x", "kind": "regular",
        "starts_at": "2024-03-10T11:00", "ends_at": "2024-03-10T09:00"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "ends_at"));
    assert_eq!(app.send(Method::POST, &hu, "/api/v1/reception_days", &day).await.status(), StatusCode::FORBIDDEN);
    let res = app.send(Method::POST, &staff, "/api/v1/reception_days", &day).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let detail = app.get_json(&hu, &format!("/api/v1/reception_days/{id}")).await;
    assert_eq!(detail["slots"].as_array().unwrap().len(), 6);
    assert!(!detail["bookings"].is_array(), "residents do not see others' bookings");
    let first = detail["slots"][0]["starts_at"].clone();
    // 胡阿姨 books from the portal; a second booking and a full slot are refused.
    let res = app
        .send(
            Method::POST,
            &hu,
            &format!("/api/v1/reception_days/{id}/bookings"),
            &json!({"slot": first, "topic": "楼道堆物"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (status, p) = problem(
        app.send(
            Method::POST,
            &hu,
            &format!("/api/v1/reception_days/{id}/bookings"),
            &json!({"slot": detail["slots"][1]["starts_at"]}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "household_id"));
    let other = household(&app, &staff, "1号院1号楼1单元101").await;
    let third = household(&app, &staff, "1号院1号楼1单元102").await;
    let res = app
        .send(
            Method::POST,
            &staff,
            &format!("/api/v1/reception_days/{id}/bookings"),
            &json!({"slot": first, "household_id": other, "name": "李大爷"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "staff book on a resident's behalf");
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            &format!("/api/v1/reception_days/{id}/bookings"),
            &json!({"slot": first, "household_id": third, "name": "赵阿姨"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "slot"), "two per slot");
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            &format!("/api/v1/reception_days/{id}/bookings"),
            &json!({"slot": "2024-03-10T01:05:00Z", "household_id": third, "name": "赵阿姨"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "slot"), "not a slot");
    assert_eq!(
        app.get_json(&staff, &format!("/api/v1/reception_days/{id}")).await["bookings"].as_array().unwrap().len(),
        2
    );

    // The day: 王先生 walks in, in tears; two demands, one for the developer and one for the property company.
    app.clock.set(beijing(3, 10, 9, 5));
    let staff = app.token("zhangli").await;
    let wang_home = household(&app, &staff, "6号院1号楼2单元501").await;
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            &format!("/api/v1/reception_days/{id}/visits"),
            &json!({"household_id": wang_home, "name": "王志刚", "demands": [{"text": "排烟口", "party": "landlord"}]}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "demands[0].party"));
    let res = app.send(Method::POST, &staff, &format!("/api/v1/reception_days/{id}/visits"), &json!({"household_id": wang_home, "name": "王志刚",
        "demands": [{"text": "燃气热水器排烟口在开放式阳台上，担心安全", "party": "developer"}, {"text": "单元门禁坏了", "party": "property"}]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let visit: Value = res.json().await.unwrap();
    assert_eq!((visit["queue_no"].as_i64(), visit["answered"].as_bool()), (Some(1), Some(false)));
    let flue = visit["demands"][0].clone();
    let door = visit["demands"][1].clone();
    let (status, _) = problem(
        app.send(Method::POST, &hu, &format!("/api/v1/reception_days/{id}/bookings"), &json!({"slot": first})).await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "booking closes when the day begins");
    // The property company answers its own demand; the developer may not answer it.
    let kaifa = app.token("kaifa").await;
    let wuye = app.token("wuye").await;
    let res = app
        .send(
            Method::PATCH,
            &kaifa,
            &format!("/api/v1/reception_demands/{}", door["id"]),
            &json!({"answer": "x", "version": door["version"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_json(&wuye, "/api/v1/reception_demands").await.as_array().unwrap().len(),
        1,
        "the property company's open demands"
    );
    let res = app
        .send(
            Method::PATCH,
            &wuye,
            &format!("/api/v1/reception_demands/{}", door["id"]),
            &json!({"answer": "当场登记，下午修复门禁", "version": door["version"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The flue becomes a service request held by the developer, worked through to a follow-up call.
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let flue_cat = cats.as_array().unwrap().iter().find(|c| c["code"] == "housing.defect.flue").unwrap()["id"].clone();
    let res = app
        .send(
            Method::PATCH,
            &staff,
            &format!("/api/v1/reception_demands/{}", flue["id"]),
            &json!({"category_id": flue_cat, "version": flue["version"]}),
        )
        .await;
    let linked: Value = res.json().await.unwrap();
    let rid = linked["request_id"].as_i64().expect("a request");
    assert_eq!(linked["answered"], false, "not answered until the answer reaches him");
    let r = app.get_json(&staff, &format!("/api/v1/requests/{rid}")).await;
    assert_eq!((r["channel"].as_str(), r["household_id"].as_i64()), (Some("reception_day"), Some(wang_home)));
    let kaifa_id = app.user_id_of("kaifa").await;
    let r = act(
        &app,
        &staff,
        rid,
        r["version"].as_i64().unwrap(),
        json!({"action": "respond", "note": "当场安抚，承诺对接开发商"}),
    )
    .await;
    let r =
        act(&app, &staff, rid, r["version"].as_i64().unwrap(), json!({"action": "dispatch", "lead": kaifa_id})).await;
    let r = act(&app, &kaifa, rid, r["version"].as_i64().unwrap(), json!({"action": "start"})).await;
    let s = app.get_json(&staff, "/api/v1/reception/summary?from=2024-03-01&to=2024-03-31").await;
    assert_eq!((s["visits"].as_i64(), s["visits_answered"].as_i64()), (Some(1), Some(0)));
    app.clock.set(beijing(3, 20, 10, 0));
    let staff = app.token("zhangli").await;
    let kaifa = app.token("kaifa").await;
    let r = act(
        &app,
        &kaifa,
        rid,
        r["version"].as_i64().unwrap(),
        json!({"action": "resolve", "resolution": "现场查看、多轮协调后加装延长排烟管"}),
    )
    .await;
    act(
        &app,
        &staff,
        rid,
        r["version"].as_i64().unwrap(),
        json!({"action": "follow_up", "solved": "solved", "satisfaction": "satisfied", "note": "王先生满意"}),
    )
    .await;
    let s = app.get_json(&staff, "/api/v1/reception/summary?from=2024-03-01&to=2024-03-31").await;
    assert_eq!(
        (s["sessions"].as_i64(), s["regular_sessions"].as_i64(), s["visits"].as_i64(), s["visits_answered"].as_i64()),
        (Some(1), Some(1), Some(1), Some(1))
    );
    assert_eq!(s["demands"]["share"], 1.0);
    assert_eq!(s["by_party"]["developer"]["answered"], 1);
    assert!((s["by_party"]["developer"]["mean_days_to_answer"].as_f64().unwrap() - 10.04).abs() < 0.01);
    // 王先生 then applies to the volunteer team from his account and becomes a core member.
    let wang = app.token("vol_wang").await;
    let home = app.get_json(&wang, &format!("/api/v1/households/{wang_home}")).await;
    let me = home["residents"].as_array().unwrap().iter().find(|r| r["name"] == "王志刚").unwrap()["id"].clone();
    let res = app
        .send(
            Method::POST,
            &wang,
            "/api/v1/volunteers",
            &json!({"resident_id": me, "skills": "水电维修", "availability": "周末"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "applied");
    assert_eq!(
        app.send(Method::POST, &wang, "/api/v1/volunteers", &json!({"resident_id": me})).await.status(),
        StatusCode::CONFLICT
    );
    let res = app
        .send(
            Method::PATCH,
            &staff,
            &format!("/api/v1/volunteers/{}", v["id"]),
            &json!({"decision": "approve", "core": true, "version": v["version"]}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["core"], true);
    let s = app.get_json(&staff, "/api/v1/volunteers/summary?from=2024-03-01&to=2024-03-31").await;
    assert_eq!((s["joined"].as_i64(), s["core_members"].as_i64()), (Some(1), Some(1)));
    // The resident's calendar shows her own booking.
    let feed: Value = app
        .send(Method::POST, &app.token("jumin_hu").await, "/api/v1/me/calendar_token", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let ics = app
        .client
        .get(app.url(&format!("/api/v1/reception_days.ics?token={}", feed["token"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("第三次居民接待日（我的预约）"), "{ics}");
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
}

async fn volunteers_sign_up_serve_and_are_counted(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    let wang = app.token("vol_wang").await;
    let resident_of = |token: String, address: &'static str, name: &'static str| {
        let app = &app;
        async move {
            let h = household(app, &token, address).await;
            let home = app.get_json(&token, &format!("/api/v1/households/{h}")).await;
            home["residents"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap()["id"].as_i64().unwrap()
        }
    };
    let wang_r = resident_of(staff.clone(), "6号院1号楼2单元501", "王志刚").await;
    let hu_r = resident_of(staff.clone(), "3号院7号楼1单元102", "胡桂兰").await;
    // Staff register 王先生 (approved at once by a decision); 胡阿姨 applies herself.
    let v: Value = app
        .send(Method::POST, &staff, "/api/v1/volunteers", &json!({"resident_id": wang_r, "team": "吾家有治"}))
        .await
        .json()
        .await
        .unwrap();
    app.send(
        Method::PATCH,
        &staff,
        &format!("/api/v1/volunteers/{}", v["id"]),
        &json!({"decision": "approve", "version": v["version"]}),
    )
    .await;
    let h: Value = app
        .send(Method::POST, &hu, "/api/v1/volunteers", &json!({"resident_id": hu_r, "team": "吾家有乐"}))
        .await
        .json()
        .await
        .unwrap();
    // A resident may not apply for someone of another household.
    let res = app.send(Method::POST, &hu, "/api/v1/volunteers", &json!({"resident_id": wang_r})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let shift = |title: &str, from: &str, to: &str, capacity: i64| json!({"title": title, "kind": "patrol", "starts_at": from, "ends_at": to, "capacity": capacity});
    let (status, p) = problem(app.send(Method::POST, &staff, "/api/v1/shifts", &json!({"title": "x", "kind": "party", "starts_at": "2024-03-02T19:00", "ends_at": "2024-03-02T21:00", "capacity": 1})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "kind"));
    let s1: Value = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/shifts",
            &shift("晚巡查（第四片区）", "2024-03-02T19:00", "2024-03-02T21:00", 1),
        )
        .await
        .json()
        .await
        .unwrap();
    let s2: Value = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/shifts",
            &shift("早巡查（第四片区）", "2024-03-03T07:30", "2024-03-03T09:30", 2),
        )
        .await
        .json()
        .await
        .unwrap();
    let s3: Value = app
        .send(Method::POST, &staff, "/api/v1/shifts", &shift("接待日引导", "2024-03-10T09:00", "2024-03-10T11:00", 3))
        .await
        .json()
        .await
        .unwrap();
    // An application not yet approved cannot sign up; 王先生 can, once.
    let (status, p) =
        problem(app.send(Method::POST, &hu, &format!("/api/v1/shifts/{}/signups", s1["id"]), &json!({})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "volunteer_id"));
    assert_eq!(
        app.send(Method::POST, &wang, &format!("/api/v1/shifts/{}/signups", s1["id"]), &json!({})).await.status(),
        StatusCode::CREATED
    );
    let (status, p) =
        problem(app.send(Method::POST, &wang, &format!("/api/v1/shifts/{}/signups", s1["id"]), &json!({})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "shift_id"));
    app.send(
        Method::PATCH,
        &staff,
        &format!("/api/v1/volunteers/{}", h["id"]),
        &json!({"decision": "approve", "version": h["version"]}),
    )
    .await;
    let hu = app.token("jumin_hu").await;
    let (status, p) =
        problem(app.send(Method::POST, &hu, &format!("/api/v1/shifts/{}/signups", s1["id"]), &json!({})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "shift_id"), "the shift is full");
    assert_eq!(
        app.get_json(&hu, "/api/v1/me").await["user"]["role"],
        "volunteer",
        "approval makes the account a volunteer's"
    );
    app.send(Method::POST, &wang, &format!("/api/v1/shifts/{}/signups", s3["id"]), &json!({})).await;
    app.send(Method::POST, &hu, &format!("/api/v1/shifts/{}/signups", s2["id"]), &json!({})).await;
    let wang_v = v["id"].as_i64().unwrap();
    let hu_v = h["id"].as_i64().unwrap();
    // The evening before, each volunteer with an account is reminded once.
    app.clock.set(beijing(3, 1, 20, 0));
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.shift_reminders, 1, "only 王先生's shift starts within a day");
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().shift_reminders, 0);
    let inbox = app.get_json(&app.token("vol_wang").await, "/api/v1/inbox").await;
    assert!(inbox["items"][0]["title"].as_str().unwrap().contains("晚巡查（第四片区）"));
    // Hours for a shift he did not sign up for are refused, and nothing is recorded.
    app.clock.set(beijing(3, 3, 10, 0));
    let (status, p) = problem(
        app.send(
            Method::POST,
            &app.token("vol_wang").await,
            &format!("/api/v1/shifts/{}/signups/{wang_v}/attendance", s2["id"]),
            &json!({"action": "report", "minutes": 60}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "shift_id"));
    // Shift 1: checked in and out on the evening round.
    app.clock.set(beijing(3, 2, 18, 55));
    let wang = app.token("vol_wang").await;
    let att = |shift: &Value, v: i64| format!("/api/v1/shifts/{}/signups/{v}/attendance", shift["id"]);
    assert_eq!(
        app.send(Method::POST, &wang, &att(&s1, wang_v), &json!({"action": "check_in"})).await.status(),
        StatusCode::OK
    );
    app.clock.set(beijing(3, 2, 21, 0));
    let out: Value =
        app.send(Method::POST, &wang, &att(&s1, wang_v), &json!({"action": "check_out"})).await.json().await.unwrap();
    assert_eq!((out["minutes"].as_i64(), out["minutes_status"].as_str()), (Some(125), Some("approved")));
    // Shift 2: 胡阿姨 did not come; staff mark the no-show.
    app.clock.set(beijing(3, 3, 10, 0));
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    assert_eq!(
        app.send(Method::POST, &hu, &att(&s2, hu_v), &json!({"action": "no_show"})).await.status(),
        StatusCode::FORBIDDEN
    );
    let ns: Value =
        app.send(Method::POST, &staff, &att(&s2, hu_v), &json!({"action": "no_show"})).await.json().await.unwrap();
    assert_eq!(ns["no_show"], true);
    // Shift 3: hours reported afterwards, approved by staff; too many minutes are refused.
    app.clock.set(beijing(3, 10, 12, 0));
    let wang = app.token("vol_wang").await;
    let staff = app.token("zhangli").await;
    let (status, p) =
        problem(app.send(Method::POST, &wang, &att(&s3, wang_v), &json!({"action": "report", "minutes": 500})).await)
            .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "minutes"));
    let rep: Value = app
        .send(Method::POST, &wang, &att(&s3, wang_v), &json!({"action": "report", "minutes": 90}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rep["minutes_status"], "pending");
    let ok: Value =
        app.send(Method::POST, &staff, &att(&s3, wang_v), &json!({"action": "approve"})).await.json().await.unwrap();
    assert_eq!(ok["minutes_status"], "approved");
    let record = app.get_json(&wang, &format!("/api/v1/volunteers/{wang_v}/record")).await;
    assert_eq!((record["hours"].as_f64(), record["points"].as_i64()), (Some(3.58), Some(35)));
    assert_eq!(record["shifts"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.get(&app.token("jumin_hu").await, &format!("/api/v1/volunteers/{wang_v}/record")).await.status(),
        StatusCode::NOT_FOUND
    );
    let s = app.get_json(&staff, "/api/v1/volunteers/summary?from=2024-03-01&to=2024-03-31").await;
    assert_eq!(
        (
            s["volunteers"].as_i64(),
            s["joined"].as_i64(),
            s["shifts"].as_i64(),
            s["signups"].as_i64(),
            s["no_shows"].as_i64()
        ),
        (Some(2), Some(2), Some(3), Some(3), Some(1))
    );
    assert!((s["hours"].as_f64().unwrap() - 3.58).abs() < 0.01);
    let board = app.get_json(&staff, "/api/v1/volunteers?status=approved").await;
    assert_eq!(board[0]["name"], "王志刚", "the recognition board puts most hours first");
}

async fn the_demo_figures_match_the_article_from_the_records(app: TestApp) {
    wujia_web::load_request_history(&app.state.store, wujia_web::Clock::now(&*app.clock)).await.unwrap();
    let (visits, joined) = wujia_web::load_reception_history(&app.state.store).await.unwrap();
    assert!(visits >= 110, "{visits} visits");
    assert_eq!(joined, 21);
    let staff = app.token("zhangli").await;
    // 6 regular and 2 themed reception days, 110+ visits, every demand answered: computed from the records.
    let s = app.get_json(&staff, "/api/v1/reception/summary?from=2023-06-01&to=2023-12-31").await;
    assert_eq!((s["regular_sessions"].as_i64(), s["themed_sessions"].as_i64()), (Some(6), Some(2)));
    assert!(s["visits"].as_i64().unwrap() >= 110);
    assert_eq!(s["visits_answered"], s["visits"]);
    assert_eq!(s["demands"]["share"], 1.0);
    assert!(s["by_theme"]["供暖季准备"]["demands"].as_i64().unwrap() > 0);
    // 王先生's demand at the first session is the flue request the developer solved.
    let days = app.get_json(&staff, "/api/v1/reception_days").await;
    let first = days.as_array().unwrap().last().unwrap()["id"].clone();
    let day = app.get_json(&staff, &format!("/api/v1/reception_days/{first}")).await;
    let wang = day["visits"].as_array().unwrap().iter().find(|v| v["name"] == "王志刚").expect("王先生's visit");
    assert!(wang["demands"][0]["request_number"].as_str().unwrap().starts_with("WT-2023-"));
    assert_eq!(wang["answered"], true);
    // 21 residents joined the volunteer team; 王先生 is a core member with hours on the board.
    let v = app.get_json(&staff, "/api/v1/volunteers/summary?from=2023-06-01&to=2024-02-26").await;
    assert_eq!(v["joined"], 21);
    assert!(v["hours"].as_f64().unwrap() > 50.0);
    let board = app.get_json(&staff, "/api/v1/volunteers?status=approved").await;
    let w = board.as_array().unwrap().iter().find(|x| x["name"] == "王志刚").unwrap();
    assert_eq!(w["core"], true);
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
}

async fn reception_pages_book_register_and_answer(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url("/reception")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let res = zl
        .post(app.url("/reception"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "供暖专题接待日"),
            ("kind", "themed"),
            ("theme", ""),
            ("date", "2024-03-10"),
            ("from", "09:00"),
            ("to", "11:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("主题接待日须写明主题"));
    let res = zl
        .post(app.url("/reception"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "供暖专题接待日"),
            ("kind", "themed"),
            ("theme", "供暖"),
            ("date", "2024-03-10"),
            ("from", "09:00"),
            ("to", "11:00"),
            ("slot_minutes", "30"),
            ("slot_capacity", "1"),
        ])
        .send()
        .await
        .unwrap();
    let day_path = res.url().path().to_string();
    assert!(day_path.starts_with("/reception/"));
    // 胡阿姨 books from her phone; the slot she took shows as full to the next household.
    let hu = app.browser("jumin_hu").await;
    let page = hu.get(app.url("/reception")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("供暖专题接待日") && page.contains("09:00–09:30（余 1）"), "{page}");
    let slot = app.get_json(&app.token("jumin_hu").await, "/api/v1/reception_days").await[0]["starts_at"]
        .as_str()
        .unwrap()
        .to_string();
    let slot = chrono::DateTime::parse_from_rfc3339(&slot).unwrap().with_timezone(&Utc).to_rfc3339();
    let res = hu
        .post(app.url(&format!("{day_path}/bookings")))
        .form(&[("csrf", hidden(&page, "csrf").as_str()), ("slot", slot.as_str()), ("topic", "暖气不热")])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("预约成功") && page.contains("09:00–09:30（余 0）"), "{page}");
    // The desk: a walk-in with two demands, one answered at once.
    app.clock.set(beijing(3, 10, 9, 10));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url(&day_path)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let res = zl
        .post(app.url(&format!("{day_path}/visits")))
        .form(&[("csrf", csrf.as_str()), ("name", ""), ("address", "6-1-2-501")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = zl
        .post(app.url(&format!("{day_path}/visits")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "王志刚"),
            ("address", "6-1-2-501"),
            ("demand0", "暖气片漏水"),
            ("party0", "property"),
            ("demand1", "想参加志愿服务"),
            ("party1", "community"),
        ])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("1. 王志刚") && page.contains("尚有诉求待答复"), "{page}");
    // The desk finds a household by its address only: a phone number typed there registers nobody and names no home.
    let staff = app.token("zhangli").await;
    let hu_home = app.get_json(&staff, "/api/v1/households?q=3-7-1-102").await[0]["household_id"].as_i64().unwrap();
    let phone = app.get_json(&staff, &format!("/api/v1/households/{hu_home}")).await["residents"][0]["phone"]
        .as_str()
        .unwrap()
        .to_string();
    let res = zl
        .post(app.url(&format!("{day_path}/visits")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "胡秀英"),
            ("address", phone.as_str()),
            ("demand0", "问问"),
            ("party0", "community"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("找不到这个住户地址"), "{page}");
    let day = app.get_json(&staff, &day_path.replace("/reception/", "/api/v1/reception_days/")).await;
    assert_eq!(day["visits"].as_array().unwrap().len(), 1, "the phone registered a visit: {day}");
    let visit = app
        .get_json(&app.token("zhangli").await, &day_path.replace("/reception/", "/api/v1/reception_days/"))
        .await["visits"][0]
        .clone();
    for d in visit["demands"].as_array().unwrap() {
        zl.post(app.url(&format!("/reception/demands/{}", d["id"])))
            .form(&[
                ("csrf", csrf.as_str()),
                ("answer", "当场答复"),
                ("version", &d["version"].to_string()),
                ("back", &day_path),
            ])
            .send()
            .await
            .unwrap();
    }
    let page = zl.get(app.url(&day_path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("诉求均已答复"));
    let figures =
        zl.get(app.url("/reception/figures?from=2024-03-01&to=2024-03-31")).send().await.unwrap().text().await.unwrap();
    assert!(figures.contains("100.0%") && figures.contains("供暖"), "{figures}");
}

async fn volunteer_pages_apply_approve_sign_up_and_print_the_record(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let hu = app.browser("jumin_hu").await;
    let page = hu.get(app.url("/volunteer")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("申请加入志愿者队伍") && page.contains("胡桂兰"));
    let csrf = hidden(&page, "csrf");
    let me = hidden(&page.replace("<option value=", "<input name=\"resident_id\" value="), "resident_id");
    let res = hu
        .post(app.url("/volunteer"))
        .form(&[("csrf", csrf.as_str()), ("resident_id", me.as_str()), ("team", "吾家有乐"), ("skills", "剪纸")])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("待审核"));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url("/volunteers")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("待审核的申请") && page.contains("剪纸"));
    let zcsrf = hidden(&page, "csrf");
    let v = app.get_json(&app.token("zhangli").await, "/api/v1/volunteers?status=applied").await[0].clone();
    let res = zl
        .post(app.url(&format!("/volunteers/{}/decision", v["id"])))
        .form(&[("csrf", zcsrf.as_str()), ("decision", "approve"), ("version", &v["version"].to_string())])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("id=\"joined\">1<"));
    let res = zl
        .post(app.url("/shifts"))
        .form(&[
            ("csrf", zcsrf.as_str()),
            ("title", "重阳活动引导"),
            ("kind", "activity"),
            ("team", "吾家有乐"),
            ("date", "2024-03-02"),
            ("from", "09:00"),
            ("to", "11:00"),
            ("capacity", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("重阳活动引导"));
    let page = hu.get(app.url("/volunteer")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已加入") && page.contains("重阳活动引导"));
    let shift = app.get_json(&app.token("jumin_hu").await, "/api/v1/shifts").await[0]["id"].as_i64().unwrap();
    let res =
        hu.post(app.url(&format!("/shifts/{shift}/signup"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("签到"));
    let vid = v["id"].as_i64().unwrap();
    app.clock.set(beijing(3, 2, 8, 58));
    let hu = app.browser("jumin_hu").await;
    let page = hu.get(app.url("/volunteer")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    hu.post(app.url(&format!("/shifts/{shift}/attendance/{vid}")))
        .form(&[("csrf", csrf.as_str()), ("action", "check_in"), ("back", "/volunteer")])
        .send()
        .await
        .unwrap();
    app.clock.set(beijing(3, 2, 11, 2));
    let res = hu
        .post(app.url(&format!("/shifts/{shift}/attendance/{vid}")))
        .form(&[("csrf", csrf.as_str()), ("action", "check_out"), ("back", "/volunteer")])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("2.1 h · 已确认"));
    let record = hu.get(app.url(&format!("/volunteers/{vid}/record"))).send().await.unwrap().text().await.unwrap();
    assert!(
        record.contains("志愿服务记录证明")
            && record.contains("id=\"total-hours\">2.1<")
            && record.contains("重阳活动引导"),
        "{record}"
    );
}

async fn a_building_social_worker_sees_needs_requests_and_visits_of_their_households(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let staff = app.token("zhangli").await;
    let hu_home = household(&app, &staff, "3号院7号楼1单元102").await;
    // Whose building is it?
    let mut worker = None;
    for w in ["sw_liu", "sw_chen", "sw_zhao", "sw_sun"] {
        let t = app.token(w).await;
        let list = app.get_json(&t, "/api/v1/my/households?all=true").await;
        if list["households"].as_array().unwrap().iter().any(|h| h["household_id"] == hu_home) {
            worker = Some((w, t));
        }
    }
    let (name, token) = worker.expect("胡阿姨's building has a social worker");
    let mine = app.get_json(&token, "/api/v1/my/households").await;
    let needs = mine["needs"].as_object().unwrap();
    assert!(needs["elderly_60"].as_i64().unwrap() > 0 && needs.contains_key("living_alone"));
    assert!(
        mine["households"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| !h["needs"].as_array().unwrap().is_empty() || h["open_requests"].as_i64().unwrap() > 0)
    );
    // 胡阿姨 asks for help; her household shows an open request on the worker's list and page.
    let hu = app.token("jumin_hu").await;
    let cats = app.get_json(&hu, "/api/v1/categories").await;
    let groceries =
        cats.as_array().unwrap().iter().find(|c| c["code"] == "elderly.daily.groceries").unwrap()["id"].clone();
    app.send(
        Method::POST,
        &hu,
        "/api/v1/requests",
        &json!({"category_id": groceries, "description": "想请志愿者帮忙买菜"}),
    )
    .await;
    let list = app.get_json(&token, "/api/v1/my/households?all=true").await;
    let row = list["households"].as_array().unwrap().iter().find(|h| h["household_id"] == hu_home).unwrap().clone();
    assert_eq!(row["open_requests"], 1);
    let browser = app.browser(name).await;
    let page = browser.get(app.url("/my/households")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("琉璃井路3号院7号楼1单元102") && page.contains("60岁以上"), "{page}");
    let page = browser.get(app.url(&format!("/households/{hu_home}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("想请志愿者帮忙买菜"), "the household page shows its requests");
    // 胡阿姨 reaches her building social worker from the portal.
    let hb = app.browser("jumin_hu").await;
    let portal = hb.get(app.url("/portal")).send().await.unwrap().text().await.unwrap();
    let res = hb
        .post(app.url("/portal/message"))
        .form(&[("csrf", hidden(&portal, "csrf").as_str()), ("text", "家里的灯坏了，能帮忙找人修吗？")])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("留言已送达包楼社工"));
    let inbox = app.get_json(&token, "/api/v1/inbox").await;
    assert!(
        inbox["items"].as_array().unwrap().iter().any(|m| m["body"] == "家里的灯坏了，能帮忙找人修吗？"),
        "{inbox}"
    );
    // Another worker's building is not theirs to list.
    let other = ["sw_liu", "sw_chen", "sw_zhao", "sw_sun"].into_iter().find(|w| *w != name).unwrap();
    let building = row["building_id"].as_i64().unwrap();
    let res = app.get(&app.token(other).await, &format!("/api/v1/my/households?building_id={building}")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn a_topic_is_supported_discussed_voted_published_and_followed_to_completion(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let admin = app.token("admin").await;
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    let wang = app.token("vol_wang").await;
    let community = app.get_json(&staff, "/api/v1/me").await["communities"][0].as_i64().unwrap();
    let (status, p) = problem(
        app.send(
            Method::PATCH,
            &admin,
            &format!("/api/v1/communities/{community}/settings"),
            &json!({"topic_threshold": 0}),
        )
        .await,
    )
    .await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "topic_threshold"));
    assert_eq!(
        app.send(
            Method::PATCH,
            &admin,
            &format!("/api/v1/communities/{community}/settings"),
            &json!({"topic_threshold": 2})
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let res = app
        .send(
            Method::POST,
            &hu,
            "/api/v1/topics",
            &json!({"title": "在3号院增设电动自行车充电棚", "body": "楼道充电危险，建议在3号院北侧建充电棚。"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let id = t["id"].as_i64().unwrap();
    assert_eq!((t["status"].as_str(), t["supports"].as_i64()), (Some("proposed"), Some(1)));
    let act = |token: String, body: Value| {
        let app = &app;
        async move {
            let v = app.get_json(&token, &format!("/api/v1/topics/{id}")).await["version"].clone();
            let mut body = body;
            body["version"] = v;
            app.send(Method::POST, &token, &format!("/api/v1/topics/{id}/actions"), &body).await
        }
    };
    let vote_body = json!({"action": "open_vote", "mode": "per_household", "options": ["同意", "不同意", "弃权"], "quorum": 3, "closes_at": "2024-03-08T20:00"});
    let (status, p) = problem(act(staff.clone(), vote_body.clone()).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "status"), "not enough support to vote");
    assert_eq!(
        app.send(Method::POST, &hu, &format!("/api/v1/topics/{id}/supports"), &json!({})).await.status(),
        StatusCode::CONFLICT
    );
    let res = app.send(Method::POST, &wang, &format!("/api/v1/topics/{id}/supports"), &json!({})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "tabled");
    // The discussion, moderated.
    app.send(Method::POST, &wang, &format!("/api/v1/topics/{id}/comments"), &json!({"text": "支持，建议加装监控"}))
        .await;
    app.send(Method::POST, &hu, &format!("/api/v1/topics/{id}/comments"), &json!({"text": "不文明的留言"})).await;
    let notes = app.get_json(&staff, &format!("/api/v1/topics/{id}")).await["notes"].clone();
    let rude = notes.as_array().unwrap().iter().find(|n| n["text"] == "不文明的留言").unwrap()["id"].clone();
    assert_eq!(
        app.send(Method::POST, &hu, &format!("/api/v1/topics/{id}/comments/{rude}/hidden"), &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(Method::POST, &staff, &format!("/api/v1/topics/{id}/comments/{rude}/hidden"), &json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let seen = app.get_json(&hu, &format!("/api/v1/topics/{id}")).await;
    assert!(seen["notes"].as_array().unwrap().iter().any(|n| n["text"] == "（该留言已被隐藏）"));
    assert_eq!(
        act(staff.clone(), json!({"action": "meeting", "at": "2024-03-05T19:00", "minutes": "议事会讨论选址与费用"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(act(staff.clone(), vote_body).await.status(), StatusCode::OK);
    // Ballots: online once per household; paper ballots entered by staff with their origin.
    let ballot = |token: String, body: Value| {
        let app = &app;
        async move { app.send(Method::POST, &token, &format!("/api/v1/topics/{id}/ballots"), &body).await }
    };
    assert_eq!(ballot(hu.clone(), json!({"choice": "同意"})).await.status(), StatusCode::CREATED);
    let (status, p) = problem(ballot(hu.clone(), json!({"choice": "不同意"})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "voter"));
    let hu_home = household(&app, &staff, "3号院7号楼1单元102").await;
    let paper = household(&app, &staff, "1号院1号楼1单元101").await;
    let (status, p) = problem(ballot(staff.clone(), json!({"choice": "同意", "household_id": hu_home})).await).await;
    assert_eq!(
        (status, field(&p)),
        (StatusCode::UNPROCESSABLE_ENTITY, "voter"),
        "a paper ballot for a household that voted online"
    );
    let (status, p) = problem(ballot(staff.clone(), json!({"choice": "随便", "household_id": paper})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "option"));
    assert_eq!(
        ballot(staff.clone(), json!({"choice": "同意", "household_id": paper})).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(ballot(wang.clone(), json!({"choice": "不同意"})).await.status(), StatusCode::CREATED);
    let live = app.get_json(&hu, &format!("/api/v1/topics/{id}")).await;
    assert_eq!((live["ballots"].as_i64(), live["my_household_voted"].as_bool()), (Some(3), Some(true)));
    let (status, p) = problem(act(staff.clone(), json!({"action": "count"})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "closes_at"), "count after closing");
    // After closing: no more ballots; the count is published with a week for objections.
    app.clock.set(beijing(3, 9, 9, 0));
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    let late = household(&app, &staff, "1号院1号楼1单元102").await;
    let (status, p) = problem(ballot(staff.clone(), json!({"choice": "同意", "household_id": late})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "closes_at"));
    let res = act(staff.clone(), json!({"action": "count", "objection_days": 7})).await;
    let t: Value = res.json().await.unwrap();
    assert_eq!(
        (t["status"].as_str(), t["result"]["winner"].as_str(), t["result"]["quorum_met"].as_bool()),
        (Some("publicized"), Some("同意"), Some(true))
    );
    assert_eq!(t["result"]["counts"][0], json!(["同意", 2]));
    assert_eq!(act(hu.clone(), json!({"action": "objection", "text": "担心占用绿地"})).await.status(), StatusCode::OK);
    let (status, _) = problem(act(staff.clone(), json!({"action": "start"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not before the objection period ends");
    app.clock.set(beijing(3, 17, 9, 0));
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    let (status, p) = problem(act(hu.clone(), json!({"action": "objection", "text": "太晚了"})).await).await;
    assert_eq!((status, field(&p)), (StatusCode::UNPROCESSABLE_ENTITY, "objection_until"));
    assert_eq!(act(staff.clone(), json!({"action": "start"})).await.status(), StatusCode::OK);
    assert_eq!(
        act(staff.clone(), json!({"action": "progress", "text": "已完成选址，物业开始施工"})).await.status(),
        StatusCode::OK
    );
    assert_eq!(act(staff.clone(), json!({"action": "complete"})).await.status(), StatusCode::OK);
    let done = app.get_json(&hu, &format!("/api/v1/topics/{id}")).await;
    assert_eq!(done["status"], "completed");
    let kinds: Vec<&str> = done["notes"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"objection") && kinds.contains(&"progress"));
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
}

async fn topic_pages_propose_support_vote_and_count(app: TestApp) {
    app.clock.set(beijing(3, 1, 9, 0));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url("/topics")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let res = zl
        .post(app.url("/topics"))
        .form(&[("csrf", csrf.as_str()), ("title", ""), ("body", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = zl
        .post(app.url("/topics"))
        .form(&[("csrf", csrf.as_str()), ("title", "小区停车收费标准"), ("body", "物业提出地面停车收费，请居民表决。")])
        .send()
        .await
        .unwrap();
    let path = res.url().path().to_string();
    let page = res.text().await.unwrap();
    assert!(page.contains("议事中") && page.contains("open-vote"), "staff topics are tabled at once");
    let version = hidden(&page, "version");
    let res = zl
        .post(app.url(&format!("{path}/action")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "open_vote"),
            ("version", version.as_str()),
            ("mode", "per_household"),
            ("options", "同意\n不同意"),
            ("quorum", "1"),
            ("closes_at", "2024-03-05T20:00"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("表决中"));
    let hu = app.browser("jumin_hu").await;
    let page = hu.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let res = hu
        .post(app.url(&format!("{path}/ballot")))
        .form(&[("csrf", hidden(&page, "csrf").as_str()), ("choice", "同意")])
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("本户已投票"));
    let res = zl
        .post(app.url(&format!("{path}/ballot")))
        .form(&[("csrf", csrf.as_str()), ("address", "3-7-1-102"), ("choice", "不同意")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("已投过票"));
    app.clock.set(beijing(3, 6, 9, 0));
    let zl = app.browser("zhangli").await;
    let page = zl.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let res = zl
        .post(app.url(&format!("{path}/action")))
        .form(&[
            ("csrf", hidden(&page, "csrf").as_str()),
            ("action", "count"),
            ("version", hidden(&page, "version").as_str()),
            ("objection_days", "7"),
        ])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("表决结果公示") && page.contains("表决结果：同意"), "{page}");
    let list = app.browser("jumin_hu").await.get(app.url("/topics")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("小区停车收费标准") && list.contains("公示中"));
}
