//! Every HTTP route against a real server and a real database, on SQLite and PostgreSQL.

use crate::common::{PASSWORD, TestApp, hidden, problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    health_metrics_and_openapi_answer,
    wrong_passwords_are_refused_then_throttled,
    summary_counts_the_demo_community,
    households_are_found_by_address_name_and_phone_tail,
    a_bad_id_number_is_refused_with_its_field_and_nothing_changes,
    two_staff_editing_the_same_resident_conflict,
    a_resident_sees_only_their_own_household,
    a_building_social_worker_edits_only_their_buildings,
    phones_are_masked_for_roles_that_do_not_need_them,
    id_card_reads_are_logged_and_tampering_is_detected,
    the_edit_form_audits_the_phone_it_shows_and_each_role_sees_what_it_may_do,
    imports_report_every_bad_row_and_write_all_or_nothing,
    imports_read_gbk_and_refuse_wrong_files,
    exports_are_limited_to_what_the_role_may_see,
    malformed_json_gets_a_problem_naming_the_field,
    a_household_signs_up_with_a_one_time_code,
    cookie_sessions_need_the_csrf_token,
    admins_manage_accounts_and_api_tokens,
    pages_render_browse_edit_and_switch_language,
    tags_are_editable_and_counted,
    a_new_community_is_set_up_and_filled_by_import,
    a_request_runs_from_intake_to_close_with_deadlines_and_a_timeline,
    refused_request_actions_change_nothing,
    bad_request_intake_names_the_field,
    each_account_sees_only_the_requests_it_may,
    dissatisfaction_reopens_and_a_pause_moves_the_deadline,
    request_pages_take_in_act_and_count,
    open311_serves_the_catalogue_and_takes_requests_with_an_api_key,
    an_emergency_at_2am_reaches_the_person_on_duty_and_the_duty_groups,
    deadline_alerts_go_out_once_and_failed_deliveries_are_retried,
    enrolment_day_fifty_households_get_one_answer_and_are_all_counted,
    admins_edit_the_catalogue_and_the_holiday_calendar,
    orders_from_12345_are_imported_once_with_the_citys_deadline,
    the_demo_history_replays_the_articles_service_stories,
    concurrent_intakes_are_committed_together_with_distinct_numbers,
    photos_are_checked_stripped_of_location_and_shown_only_to_those_who_may,
);

async fn find_household(app: &TestApp, token: &str, q: &str) -> i64 {
    let hits = app.get_json(token, &format!("/api/v1/households?q={}", urlencode(q))).await;
    hits[0]["household_id"].as_i64().unwrap_or_else(|| panic!("no household for {q}: {hits}"))
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

async fn health_metrics_and_openapi_answer(app: TestApp) {
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-request-id"));
    let doc: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"].as_str().unwrap().chars().next(), Some('3'));
    assert_eq!(doc["paths"]["/api/v1/registry/summary"]["get"]["operationId"], "get_registry_summary");
    let res = app.client.get(app.url("/metrics")).bearer_auth(crate::common::METRICS_TOKEN).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let metrics = res.text().await.unwrap();
    let healthz = metrics
        .lines()
        .find_map(|l| l.strip_prefix("wujia_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} "))
        .unwrap_or_else(|| panic!("no /healthz count in {metrics}"));
    assert!(healthz.parse::<u64>().unwrap() >= 1, "{healthz}");
    assert!(
        metrics.contains("wujia_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.001\"}"),
        "{metrics}"
    );
    assert!(metrics.contains(&format!("wujia_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{metrics}");
    for standard in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        let value = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{standard} ")))
            .unwrap_or_else(|| panic!("no {standard} in {metrics}"));
        assert!(value.parse::<f64>().unwrap() > 0.0, "{standard} {value}");
    }
}

async fn wrong_passwords_are_refused_then_throttled(app: TestApp) {
    for _ in 0..5 {
        let res = app
            .send(Method::POST, "", "/api/v1/sessions", &json!({"username": "zhangli", "password": "wrong-password-1"}))
            .await;
        let (status, body) = problem(res).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["type"], "/problems/unauthorized");
    }
    let res =
        app.send(Method::POST, "", "/api/v1/sessions", &json!({"username": "zhangli", "password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    app.clock.advance(chrono::Duration::minutes(16));
    let res =
        app.send(Method::POST, "", "/api/v1/sessions", &json!({"username": "zhangli", "password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Unknown users and unauthenticated requests look the same as wrong passwords.
    let res =
        app.send(Method::POST, "", "/api/v1/sessions", &json!({"username": "nobody", "password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNAUTHORIZED);
}

async fn summary_counts_the_demo_community(app: TestApp) {
    let token = app.token("admin").await;
    let s = app.get_json(&token, "/api/v1/registry/summary").await;
    assert_eq!(s["compounds"], 6);
    assert_eq!(s["buildings"], 36);
    assert_eq!(s["households"], 2268);
    let residents = s["residents"].as_i64().unwrap();
    assert!(residents > 5000);
    let by_origin = s["residents_by_origin"].as_object().unwrap();
    assert_eq!(by_origin.len(), 5);
    assert_eq!(by_origin.values().map(|v| v.as_i64().unwrap()).sum::<i64>(), residents);
    for tag in ["elderly_60", "elderly_80", "school_age", "golden_wedding", "living_alone", "party_member"] {
        assert!(s["residents_by_tag"][tag].as_i64().unwrap() > 0, "{tag}");
    }
    // Patrol members have no figures; the street office does.
    let patrol = app.token("patrol_li").await;
    assert_eq!(app.get(&patrol, "/api/v1/registry/summary").await.status(), StatusCode::FORBIDDEN);
    let street = app.token("jiedao").await;
    assert_eq!(app.get_json(&street, "/api/v1/registry/summary").await["households"], 2268);
}

async fn households_are_found_by_address_name_and_phone_tail(app: TestApp) {
    let token = app.token("zhangli").await;
    let hu = find_household(&app, &token, "3号院7号楼1单元102").await;
    let same = find_household(&app, &token, "琉璃井路3号院7号楼1单元102室").await;
    assert_eq!(hu, same);
    let by_name = app.get_json(&token, &format!("/api/v1/households?q={}", urlencode("胡桂兰"))).await;
    let by_name = by_name.as_array().unwrap();
    assert!(by_name.iter().all(|h| h["name"] == "胡桂兰"));
    assert!(by_name.iter().any(|h| h["household_id"] == hu));
    let household = app.get_json(&token, &format!("/api/v1/households/{hu}")).await;
    assert_eq!(household["address"], "琉璃井路3号院7号楼1单元102");
    let phone = household["residents"][0]["phone"].as_str().unwrap().to_string();
    let tail = &phone[phone.len() - 4..];
    let by_tail = app.get_json(&token, &format!("/api/v1/households?q={tail}")).await;
    assert!(by_tail.as_array().unwrap().iter().any(|h| h["household_id"] == hu));
    let whole_unit =
        app.get_json(&token, &format!("/api/v1/households?q={}&limit=200", urlencode("3号院7号楼1单元"))).await;
    assert_eq!(whole_unit.as_array().unwrap().len(), 21);
    let none = app.get_json(&token, &format!("/api/v1/households?q={}", urlencode("9号院1号楼1单元101"))).await;
    assert!(none.as_array().unwrap().is_empty());
    let other_road =
        app.get_json(&token, &format!("/api/v1/households?q={}", urlencode("长安街3号院7号楼1单元102"))).await;
    assert!(other_road.as_array().unwrap().is_empty(), "{other_road}");
    // A surname finds the names that start with it, in name order, up to the limit.
    let hu_names = app.get_json(&token, &format!("/api/v1/households?q={}&limit=7", urlencode("胡"))).await;
    let names: Vec<&str> = hu_names.as_array().unwrap().iter().map(|h| h["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 7, "{hu_names}");
    assert!(names.iter().all(|n| n.starts_with('胡')), "{names:?}");
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
    // A given name alone matches anywhere in the name, when no name starts with it.
    let gui_lan = app.get_json(&token, &format!("/api/v1/households?q={}", urlencode("桂兰"))).await;
    let gui_lan = gui_lan.as_array().unwrap();
    assert!(gui_lan.iter().any(|h| h["name"] == "胡桂兰"));
    assert!(gui_lan.iter().all(|h| h["name"].as_str().unwrap().contains("桂兰")));
    if app.backend == crate::common::Backend::Sqlite {
        // The planner keeps its per-index summary but no per-value samples, which would re-plan every lookup.
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        let stats: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%' ORDER BY name")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(stats, ["sqlite_stat1"]);
        pool.close().await;
    }
}

async fn a_bad_id_number_is_refused_with_its_field_and_nothing_changes(app: TestApp) {
    let token = app.token("zhangli").await;
    let hu = find_household(&app, &token, "3号院7号楼1单元102").await;
    let before = app.get_json(&token, &format!("/api/v1/households/{hu}")).await["residents"][0].clone();
    let id = before["id"].as_i64().unwrap();
    let body = json!({"version": before["version"], "name": "胡桂兰", "id_card": "110105194912310021", "phone": "138", "relation": "户主", "birth_date": ""});
    let (status, p) = problem(app.send(Method::PUT, &token, &format!("/api/v1/residents/{id}"), &body).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"id_card") && fields.contains(&"phone"), "{p}");
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("身份证号"));
    let after = app.get_json(&token, &format!("/api/v1/residents/{id}")).await;
    assert_eq!(after["version"], before["version"]);
    assert_eq!(after["phone"], before["phone"]);
    // A good change goes through and moves the version on.
    let body = json!({"version": before["version"], "name": "胡桂兰", "gender": "女", "birth_date": before["birth_date"],
        "phone": "13911112222", "relation": "head", "origin": "望坛社区", "tags": "独居"});
    let res = app.send(Method::PUT, &token, &format!("/api/v1/residents/{id}"), &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["phone"], "13911112222");
    assert_eq!(changed["version"].as_i64(), before["version"].as_i64().map(|v| v + 1));
    assert!(changed["tags"].as_array().unwrap().contains(&json!("living_alone")));
    // An unknown origin community is named.
    let body = json!({"version": changed["version"], "name": "胡桂兰", "gender": "女", "birth_date": before["birth_date"], "origin": "火星社区"});
    let (status, p) = problem(app.send(Method::PUT, &token, &format!("/api/v1/residents/{id}"), &body).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "origin");
}

async fn two_staff_editing_the_same_resident_conflict(app: TestApp) {
    let token = app.token("zhangli").await;
    let hu = find_household(&app, &token, "3号院7号楼1单元102").await;
    let r = app.get_json(&token, &format!("/api/v1/households/{hu}")).await["residents"][0].clone();
    let id = r["id"].as_i64().unwrap();
    let body = |phone: &str| json!({"version": r["version"], "name": r["name"], "gender": r["gender"], "birth_date": r["birth_date"], "phone": phone, "relation": "head"});
    let path = format!("/api/v1/residents/{id}");
    let (one, two) = (body("13900000001"), body("13900000002"));
    let (a, b) = tokio::join!(app.send(Method::PUT, &token, &path, &one), app.send(Method::PUT, &token, &path, &two));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let version = app.get_json(&token, &format!("/api/v1/residents/{id}")).await["version"].as_i64().unwrap();
    assert_eq!(version, r["version"].as_i64().unwrap() + 1);
}

async fn a_resident_sees_only_their_own_household(app: TestApp) {
    let staff = app.token("zhangli").await;
    let own = find_household(&app, &staff, "3号院7号楼1单元102").await;
    let other = find_household(&app, &staff, "6号院1号楼2单元501").await;
    let me = app.token("jumin_hu").await;
    let mine = app.get_json(&me, &format!("/api/v1/households/{own}")).await;
    assert_eq!(mine["residents"][0]["name"], "胡桂兰");
    assert_eq!(mine["residents"][0]["phone_masked"], false);
    assert_eq!(app.get(&me, &format!("/api/v1/households/{other}")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&me, "/api/v1/households?q=1").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&me, "/api/v1/registry/summary").await.status(), StatusCode::FORBIDDEN);
    let other_resident =
        app.get_json(&staff, &format!("/api/v1/households/{other}")).await["residents"][0]["id"].as_i64().unwrap();
    assert_eq!(app.get(&me, &format!("/api/v1/residents/{other_resident}")).await.status(), StatusCode::FORBIDDEN);
}

async fn a_building_social_worker_edits_only_their_buildings(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = find_household(&app, &staff, "3号院7号楼1单元102").await; // 陈静's building
    let wang = find_household(&app, &staff, "6号院1号楼2单元501").await; // 孙磊's building
    let chen = app.token("sw_chen").await;
    let household = app.get_json(&chen, &format!("/api/v1/households/{hu}")).await;
    let r = &household["residents"][0];
    assert_eq!(r["phone_masked"], false, "a social worker calls their own residents");
    let body = json!({"version": r["version"], "name": r["name"], "gender": r["gender"], "birth_date": r["birth_date"], "relation": "head", "phone": "13700001111"});
    assert_eq!(
        app.send(Method::PUT, &chen, &format!("/api/v1/residents/{}", r["id"]), &body).await.status(),
        StatusCode::OK
    );
    let other = app.get_json(&chen, &format!("/api/v1/households/{wang}")).await;
    let o = &other["residents"][0];
    assert_eq!(o["phone_masked"], true);
    let body = json!({"version": o["version"], "name": "改名", "gender": o["gender"], "birth_date": o["birth_date"], "relation": "head"});
    assert_eq!(
        app.send(Method::PUT, &chen, &format!("/api/v1/residents/{}", o["id"]), &body).await.status(),
        StatusCode::FORBIDDEN
    );
    let unchanged = app.get_json(&staff, &format!("/api/v1/residents/{}", o["id"])).await;
    assert_eq!(unchanged["name"], o["name"]);
}

async fn phones_are_masked_for_roles_that_do_not_need_them(app: TestApp) {
    let staff = app.token("zhangli").await;
    let wang = find_household(&app, &staff, "6号院1号楼2单元501").await;
    let full = app.get_json(&staff, &format!("/api/v1/households/{wang}")).await;
    let phone = full["residents"][0]["phone"].as_str().unwrap().to_string();
    assert_eq!(phone.len(), 11);
    let street = app.token("jiedao").await;
    let masked = app.get_json(&street, &format!("/api/v1/households/{wang}")).await;
    assert_eq!(masked["residents"][0]["phone"], format!("{}****{}", &phone[..3], &phone[7..]));
    assert!(masked["residents"][0]["id_card"].as_str().unwrap().contains("***"));
    let property = app.token("wuye").await;
    assert_eq!(app.get(&property, &format!("/api/v1/households/{wang}")).await.status(), StatusCode::FORBIDDEN);
    // The staff member's read of full phone numbers is in the audit log.
    let admin = app.token("admin").await;
    let events = app.get_json(&admin, "/api/v1/audit/events?limit=20").await;
    assert!(events.as_array().unwrap().iter().any(|e| e["action"] == "resident.read_phone" && e["actor"] == "zhangli"));
}

async fn the_edit_form_audits_the_phone_it_shows_and_each_role_sees_what_it_may_do(app: TestApp) {
    let staff = app.token("zhangli").await;
    let admin = app.token("admin").await;
    let hu = find_household(&app, &staff, "3号院7号楼1单元102").await;
    let h = app.get_json(&staff, &format!("/api/v1/households/{hu}")).await;
    assert_eq!(h["actions"]["edit_residents"], true);
    assert_eq!(h["actions"]["reveal_id_cards"], true);
    assert_eq!(h["actions"]["view_history"], true);
    let resident = h["residents"][0]["id"].as_i64().unwrap();
    let phone = h["residents"][0]["phone"].as_str().unwrap().to_string();
    let phone_reads = || async {
        let events =
            app.get_json(&admin, &format!("/api/v1/audit/events?entity=resident&entity_id={resident}&limit=100")).await;
        events.as_array().unwrap().iter().filter(|e| e["action"] == "resident.read_phone").count()
    };
    let before = phone_reads().await;
    // The edit form shows the number in full to fill the field: that read is audited like any other.
    let page = app.browser("zhangli").await;
    let form = page.get(app.url(&format!("/residents/{resident}/edit"))).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains(&phone));
    assert_eq!(phone_reads().await, before + 1, "the form's full phone read is in the audit log");

    // The street office reads the household but may change nothing in it, and says so.
    let street = app.token("jiedao").await;
    let seen = app.get_json(&street, &format!("/api/v1/households/{hu}")).await;
    assert_eq!(seen["actions"]["edit_residents"], false);
    assert_eq!(seen["actions"]["issue_signup_code"], false);
    assert_eq!(seen["residents"][0]["phone_masked"], true);

    // The property company's console lists the compounds but not the register's figures.
    let property = app.browser("wuye").await;
    let console = property.get(app.url("/console")).send().await.unwrap();
    assert_eq!(console.status(), StatusCode::OK);
    let console = console.text().await.unwrap();
    assert!(console.contains("/compounds/"), "the property company finds its compounds");
    assert!(!console.contains("households-count"), "no figures of the register for the property company");
    let staff_console = page.get(app.url("/console")).send().await.unwrap().text().await.unwrap();
    assert!(staff_console.contains("households-count"));
}

async fn id_card_reads_are_logged_and_tampering_is_detected(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = find_household(&app, &staff, "3号院7号楼1单元102").await;
    let r = app.get_json(&staff, &format!("/api/v1/households/{hu}")).await["residents"][0].clone();
    let res = app.send(Method::POST, &staff, &format!("/api/v1/residents/{}/id_card", r["id"]), &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let number = res.json::<Value>().await.unwrap()["id_card"].as_str().unwrap().to_string();
    assert_eq!(number.len(), 18);
    assert!(r["id_card"].as_str().unwrap().ends_with(&number[14..]));
    let street = app.token("jiedao").await;
    let res = app.send(Method::POST, &street, &format!("/api/v1/residents/{}/id_card", r["id"]), &json!({})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let admin = app.token("admin").await;
    let events = app.get_json(&admin, &format!("/api/v1/audit/events?entity=resident&entity_id={}", r["id"])).await;
    let read = events.as_array().unwrap().iter().find(|e| e["action"] == "resident.read_id_card").expect("logged read");
    assert!(!read["after"].as_str().unwrap().contains(&number), "the log must not hold the number itself");
    let verify = app.get_json(&admin, "/api/v1/audit/verify").await;
    assert_eq!(verify["ok"], true);
    assert!(verify["checked"].as_i64().unwrap() >= 3);
    app.raw_sql("UPDATE events SET actor = 'mallory' WHERE seq = 2").await;
    let verify = app.get_json(&admin, "/api/v1/audit/verify").await;
    assert_eq!(verify["ok"], false);
    assert_eq!(verify["tampered_seq"], 2);
    assert_eq!(app.get(&staff, "/api/v1/audit/verify").await.status(), StatusCode::FORBIDDEN);
}

const HEADER: &str = "小区(院),楼号,单元,房号,姓名,性别,出生日期,身份证号,联系电话,来源社区,与户主关系,标签";

fn import_csv(rows: &[&str]) -> String {
    let mut s = HEADER.to_string();
    for r in rows {
        s.push('\n');
        s.push_str(r);
    }
    s.push('\n');
    s
}

async fn post_file(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/registry/imports{query}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn imports_report_every_bad_row_and_write_all_or_nothing(app: TestApp) {
    let token = app.token("zhangli").await;
    let before = app.get_json(&token, "/api/v1/registry/summary").await["residents"].as_i64().unwrap();
    let bad = import_csv(&[
        "琉璃井路1号院,1,1,2301,赵新,男,1980-01-02,,13812340001,望坛社区,户主,",
        "琉璃井路1号院,99,1,101,钱新,男,1980-01-02,,,望坛社区,户主,",
        "琉璃井路1号院,1,1,2301,孙新,女,1982-05-06,110105194912310021,,望坛社区,配偶,",
        "琉璃井路1号院,1,1,2301,李新,女,2012-05-06,,,火星社区,子女,不存在的标签",
    ]);
    // Every bad row is reported at once: checks of the file's own content and checks against the registry.
    let expected =
        [(3, "楼号".to_string()), (4, "身份证号".to_string()), (5, "来源社区".to_string()), (5, "标签".to_string())];
    for query in ["?dry_run=true", ""] {
        let (status, p) = problem(post_file(&app, &token, query, bad.clone().into_bytes()).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let got: Vec<(i64, String)> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(got, expected, "{p}");
    }
    assert_eq!(
        app.get_json(&token, "/api/v1/registry/summary").await["residents"].as_i64().unwrap(),
        before,
        "nothing half-written"
    );
    let good = import_csv(&[
        "琉璃井路1号院,1,1,2301,赵新,男,1980-01-02,11010119800102001X,13812340001,望坛社区,户主,党员",
        "琉璃井路1号院,1,1,2301,孙新,女,1982-05-06,,,安乐林,配偶,",
        "琉璃井路1号院,1,1,2302,周新,男,1975-03-04,,13812340003,李村社区,户主,",
    ]);
    let id =
        wujia_core::registry::IdCardNumber::compose(110101, chrono::NaiveDate::from_ymd_opt(1980, 1, 2).unwrap(), 1);
    let good = good.replace("11010119800102001X", id.as_str());
    let dry: Value = post_file(&app, &token, "?dry_run=true", good.clone().into_bytes()).await.json().await.unwrap();
    assert_eq!(
        (dry["households_created"].as_i64(), dry["residents_created"].as_i64(), dry["dry_run"].as_bool()),
        (Some(2), Some(3), Some(true))
    );
    assert_eq!(app.get_json(&token, "/api/v1/registry/summary").await["residents"].as_i64().unwrap(), before);
    let real: Value = post_file(&app, &token, "", good.clone().into_bytes()).await.json().await.unwrap();
    assert_eq!(real["residents_created"], 3);
    let s = app.get_json(&token, "/api/v1/registry/summary").await;
    assert_eq!(s["residents"].as_i64().unwrap(), before + 3);
    assert_eq!(s["households"], 2270);
    let again: Value = post_file(&app, &token, "", good.into_bytes()).await.json().await.unwrap();
    assert_eq!(
        (again["unchanged"].as_i64(), again["residents_created"].as_i64(), again["households_created"].as_i64()),
        (Some(3), Some(0), Some(0))
    );
    assert_eq!(app.get_json(&token, "/api/v1/registry/summary").await["residents"].as_i64().unwrap(), before + 3);
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true, "bulk-written events chain correctly");
    let found = find_household(&app, &token, "1号院1号楼1单元2301").await;
    let h = app.get_json(&token, &format!("/api/v1/households/{found}")).await;
    assert_eq!(h["residents"].as_array().unwrap().len(), 2);
    // Staff without import rights are refused.
    let street = app.token("jiedao").await;
    assert_eq!(post_file(&app, &street, "", b"x".to_vec()).await.status(), StatusCode::FORBIDDEN);
}

async fn imports_read_gbk_and_refuse_wrong_files(app: TestApp) {
    let token = app.token("zhangli").await;
    let csv = import_csv(&["琉璃井路2号院,1,1,2301,吴国庆,男,1950-10-01,,,三元街社区,户主,"]);
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let res = post_file(&app, &token, "", gbk.into_owned()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["residents_created"], 1);
    let (status, p) = problem(post_file(&app, &token, "", b"%PDF-1.7 not a table".to_vec()).await).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(p["detail"].as_str().unwrap().contains("XLSX"));
    let (status, _) = problem(post_file(&app, &token, "", vec![0xB0, 0xFF, 0xFE, 0x30, 0x0A]).await).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, p) = problem(post_file(&app, &token, "", "姓名\n张三\n".as_bytes().to_vec()).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p["detail"].as_str().unwrap().contains("小区(院)"));
    let huge = vec![b'a'; wujia_web::MAX_BODY_BYTES + 10];
    let (status, _) = problem(post_file(&app, &token, "", huge).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // The XLSX template downloads and imports as a dry run against the demo's compounds.
    let tpl = app.get(&token, "/api/v1/registry/template?format=xlsx").await;
    assert_eq!(tpl.status(), StatusCode::OK);
    let bytes = tpl.bytes().await.unwrap().to_vec();
    assert!(bytes.starts_with(b"PK"));
    let res = post_file(&app, &token, "?dry_run=true", bytes).await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
}

async fn exports_are_limited_to_what_the_role_may_see(app: TestApp) {
    let staff = app.token("zhangli").await;
    let csv = app.get(&staff, "/api/v1/registry/export?format=csv").await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].contains("身份证号"));
    let residents = app.get_json(&staff, "/api/v1/registry/summary").await["residents"].as_i64().unwrap();
    assert_eq!(lines.len() as i64, residents + 1);
    assert!(!lines[1].contains("****"), "staff export is unmasked: {}", lines[1]);
    let street = app.token("jiedao").await;
    let csv = app.get(&street, "/api/v1/registry/export?format=csv").await.text().await.unwrap();
    assert!(csv.lines().nth(1).unwrap().contains("***********"), "street export is masked");
    let chen = app.token("sw_chen").await;
    let xlsx = app.get(&chen, "/api/v1/registry/export?format=xlsx").await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let csv = app.get(&chen, "/api/v1/registry/export?format=csv").await.text().await.unwrap();
    let n = csv.lines().count() - 1;
    assert!(n > 0 && (n as i64) < residents / 2, "a social worker exports only their buildings: {n}");
    assert!(csv.lines().skip(1).all(|l| !l.starts_with("琉璃井路6号院")));
    let patrol = app.token("patrol_li").await;
    assert_eq!(app.get(&patrol, "/api/v1/registry/export?format=csv").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&staff, "/api/v1/registry/export?format=pdf").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn malformed_json_gets_a_problem_naming_the_field(app: TestApp) {
    let res = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body("{\"username\": 1, \"password\": \"x\"}")
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "username", "{p}");
    let res = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body("{\"password\": \"x\"}")
        .send()
        .await
        .unwrap();
    let (_, p) = problem(res).await;
    assert_eq!(p["errors"][0]["field"], "username", "{p}");
    let res = app
        .client
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::BAD_REQUEST);
    let res = app.client.post(app.url("/api/v1/sessions")).body("username=admin").send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::BAD_REQUEST);
    let token = app.token("zhangli").await;
    let res = app
        .client
        .put(app.url("/api/v1/residents/1"))
        .bearer_auth(&token)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "version");
    let res = app.get(&token, "/api/v1/residents/999999").await;
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
    let res = app.get(&token, "/api/v1/no-such-thing").await;
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND);
    // JSON bodies are small; a huge one is refused as a problem before it is parsed.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(wujia_web::MAX_JSON_BYTES));
    let res = app
        .client
        .put(app.url("/api/v1/residents/1"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::PAYLOAD_TOO_LARGE);
}

async fn a_household_signs_up_with_a_one_time_code(app: TestApp) {
    let staff = app.token("zhangli").await;
    let wang = find_household(&app, &staff, "6号院1号楼2单元501").await;
    let res = app.send(Method::POST, &staff, &format!("/api/v1/households/{wang}/signup_codes"), &json!({})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let code = res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
    let signup = |username: &str, password: &str, code: &str| json!({"code": code, "username": username, "display_name": "刘晓燕", "password": password});
    let (status, p) =
        problem(app.send(Method::POST, "", "/api/v1/signup", &signup("liuxy", "short", &code)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "password");
    let res =
        app.send(Method::POST, "", "/api/v1/signup", &signup("liuxy", "wangtan2024ok", &code.to_lowercase())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (status, _) =
        problem(app.send(Method::POST, "", "/api/v1/signup", &signup("liuxy2", "wangtan2024ok", &code)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a code works once");
    let res = app
        .send(Method::POST, "", "/api/v1/sessions", &json!({"username": "liuxy", "password": "wangtan2024ok"}))
        .await;
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let home = app.get_json(&token, &format!("/api/v1/households/{wang}")).await;
    assert_eq!(home["residents"].as_array().unwrap().len(), 3);
    // A patrol member cannot issue codes.
    let patrol = app.token("patrol_li").await;
    assert_eq!(
        app.send(Method::POST, &patrol, &format!("/api/v1/households/{wang}/signup_codes"), &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    // Codes expire after 7 days.
    let res = app.send(Method::POST, &staff, &format!("/api/v1/households/{wang}/signup_codes"), &json!({})).await;
    let code = res.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
    app.clock.advance(chrono::Duration::days(8));
    let (status, _) =
        problem(app.send(Method::POST, "", "/api/v1/signup", &signup("late", "wangtan2024ok", &code)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn cookie_sessions_need_the_csrf_token(app: TestApp) {
    let browser = app.browser("zhangli").await;
    let me = browser.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let res = browser
        .post(app.url("/api/v1/tags"))
        .json(&json!({"code": "x_tag", "name_zh": "测试", "name_en": "Test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF header");
    let page = browser.get(app.url("/console")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&page, "csrf");
    let res = browser
        .post(app.url("/api/v1/tags"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"code": "x_tag", "name_zh": "测试", "name_en": "Test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // A form without the token is refused and logs nobody out.
    let res = browser.post(app.url("/logout")).form(&[("csrf", "forged")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = browser.post(app.url("/logout")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert!(res.url().path().starts_with("/login"));
    assert_eq!(browser.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

async fn admins_manage_accounts_and_api_tokens(app: TestApp) {
    let admin = app.token("admin").await;
    let staff = app.token("zhangli").await;
    assert_eq!(app.get(&staff, "/api/v1/users").await.status(), StatusCode::FORBIDDEN);
    let users = app.get_json(&admin, "/api/v1/users").await;
    assert!(users.as_array().unwrap().iter().all(|u| u.get("password_hash").is_none()));
    let (status, p) = problem(
        app.send(
            Method::POST,
            &admin,
            "/api/v1/users",
            &json!({"username": "a b", "display_name": "", "role": "king"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "display_name", "role"]);
    let res = app
        .send(
            Method::POST,
            &admin,
            "/api/v1/users",
            &json!({"username": "wuye2", "display_name": "物业二部", "role": "property", "communities": [1]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let initial = created["initial_password"].as_str().unwrap().to_string();
    assert_eq!(created["user"]["must_change_password"], true);
    let res = app
        .send(
            Method::POST,
            &admin,
            "/api/v1/users",
            &json!({"username": "wuye2", "display_name": "x", "role": "property"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app.send(Method::POST, "", "/api/v1/sessions", &json!({"username": "wuye2", "password": initial})).await;
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let res = app
        .send(
            Method::POST,
            &token,
            "/api/v1/me/password",
            &json!({"current_password": initial, "new_password": "newpass2024x"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let id = created["user"]["id"].as_i64().unwrap();
    let res = app.send(Method::PATCH, &admin, &format!("/api/v1/users/{id}"), &json!({"active": false})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res =
        app.send(Method::POST, "", "/api/v1/sessions", &json!({"username": "wuye2", "password": "newpass2024x"})).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a disabled account cannot log in");
    assert_eq!(app.get(&token, "/api/v1/me").await.status(), StatusCode::UNAUTHORIZED, "its sessions ended");
    let res =
        app.send(Method::POST, &admin, "/api/v1/api_tokens", &json!({"name": "12345 bridge", "scope": "read"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let api_token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    assert!(api_token.starts_with("wjt_"));
    assert_eq!(app.get_json(&api_token, "/api/v1/registry/summary").await["households"], 2268);
    assert_eq!(app.get(&format!("{api_token}x"), "/api/v1/registry/summary").await.status(), StatusCode::UNAUTHORIZED);
}

async fn pages_render_browse_edit_and_switch_language(app: TestApp) {
    let anonymous = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = anonymous.get(app.url("/console")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/login?next=/console"));
    let b = app.browser("zhangli").await;
    let console = b.get(app.url("/console")).send().await.unwrap().text().await.unwrap();
    assert!(console.contains("望坛新苑") && console.contains("2268") && console.contains("lang=\"zh-CN\""));
    let results = b
        .get(app.url(&format!("/search?q={}", urlencode("3号院7号楼1单元102"))))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(results.contains("琉璃井路3号院7号楼1单元102"));
    let start = results.find("/households/").unwrap() + "/households/".len();
    let hid: String = results[start..].chars().take_while(char::is_ascii_digit).collect();
    let page = b.get(app.url(&format!("/households/{hid}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("胡桂兰"));
    let start = page.find("/residents/").unwrap() + "/residents/".len();
    let rid: String = page[start..].chars().take_while(char::is_ascii_digit).collect();
    let form = b.get(app.url(&format!("/residents/{rid}/edit"))).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&form, "csrf");
    let version = hidden(&form, "version");
    let res = b
        .post(app.url(&format!("/residents/{rid}/edit")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("name", "胡桂兰"),
            ("gender", "female"),
            ("birth_date", "1956-05-01"),
            ("id_card", "110105194912310021"),
            ("relation", "head"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"id_card-error\""), "the field is marked");
    assert!(html.contains("身份证号无效"));
    let res = b
        .post(app.url(&format!("/residents/{rid}/edit")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("name", "胡桂兰"),
            ("gender", "female"),
            ("birth_date", "1956-05-01"),
            ("phone", "13612345678"),
            ("relation", "head"),
            ("tags", "独居"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.url().path().starts_with("/households/"));
    assert!(res.text().await.unwrap().contains("13612345678"));
    b.get(app.url("/lang/en?next=/console")).send().await.unwrap();
    let en = b.get(app.url("/console")).send().await.unwrap().text().await.unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("At a glance"));
    b.get(app.url("/a11y?next=/console")).send().await.unwrap();
    let large = b.get(app.url("/console")).send().await.unwrap().text().await.unwrap();
    assert!(large.contains("<body class=\"large\">"));
    let resident = app.browser("jumin_hu").await;
    let portal = resident.get(app.url("/")).send().await.unwrap();
    assert_eq!(portal.url().path(), "/portal");
    let portal = portal.text().await.unwrap();
    assert!(portal.contains("琉璃井路3号院7号楼1单元102") && portal.contains("陈静"));
    assert_eq!(resident.get(app.url("/console")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let admin = app.browser("admin").await;
    let audit = admin.get(app.url("/admin/audit")).send().await.unwrap().text().await.unwrap();
    assert!(audit.contains("resident.update"));
}

async fn tags_are_editable_and_counted(app: TestApp) {
    let staff = app.token("zhangli").await;
    let res = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/tags",
            &json!({"code": "wedding_couple", "name_zh": "金婚伉俪", "name_en": "Golden couple"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/tags",
            &json!({"code": "wedding_couple", "name_zh": "另一个", "name_en": "x"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let (status, p) = problem(
        app.send(Method::POST, &staff, "/api/v1/tags", &json!({"code": "Bad Code", "name_zh": "x", "name_en": "x"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "code");
    let tags = app.get_json(&staff, "/api/v1/tags").await;
    assert!(tags["tags"].as_array().unwrap().iter().any(|t| t["code"] == "wedding_couple"));
    let summary = app.get_json(&staff, "/api/v1/registry/summary").await;
    assert_eq!(summary["residents_by_tag"]["wedding_couple"], 0);
    let patrol = app.token("patrol_li").await;
    let res =
        app.send(Method::POST, &patrol, "/api/v1/tags", &json!({"code": "y", "name_zh": "y", "name_en": "y"})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn a_new_community_is_set_up_and_filled_by_import(app: TestApp) {
    let admin = app.token("admin").await;
    let staff = app.token("zhangli").await;
    let body = json!({"name": "安乐林新苑", "code": "ALL", "street": "永外街道", "district": "东城区", "origins": ["安乐林社区", "李村社区"]});
    assert_eq!(app.send(Method::POST, &staff, "/api/v1/communities", &body).await.status(), StatusCode::FORBIDDEN);
    let res = app.send(Method::POST, &admin, "/api/v1/communities", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let community = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(app.send(Method::POST, &admin, "/api/v1/communities", &body).await.status(), StatusCode::CONFLICT);
    let (status, p) = problem(
        app.send(
            Method::POST,
            &admin,
            "/api/v1/communities",
            &json!({"name": "", "code": "x", "street": "s", "district": "d"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "code"]);
    // Staff of 望坛新苑 are not assigned to the new community.
    let path = format!("/api/v1/communities/{community}/compounds");
    assert_eq!(
        app.send(Method::POST, &staff, &path, &json!({"number": 1, "name": "安乐林路1号院"})).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app.send(Method::POST, &admin, &path, &json!({"number": 1, "name": "安乐林路1号院"})).await;
    let compound = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (status, p) = problem(
        app.send(
            Method::POST,
            &admin,
            &format!("/api/v1/compounds/{compound}/buildings"),
            &json!({"number": 1, "floors": 0, "units": 40}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    let res = app
        .send(
            Method::POST,
            &admin,
            &format!("/api/v1/compounds/{compound}/buildings"),
            &json!({"number": 1, "floors": 6, "units": 2}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let building: Value = res.json().await.unwrap();
    assert_eq!(building["units"], 2);
    let units = app.get_json(&admin, &format!("/api/v1/buildings/{}/units", building["id"])).await;
    let unit = units["units"][0]["id"].as_i64().unwrap();
    let res =
        app.send(Method::POST, &admin, &format!("/api/v1/units/{unit}/households"), &json!({"room": "601"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["address"], "安乐林路1号院1号楼1单元601");
    let (status, p) = problem(
        app.send(Method::POST, &admin, &format!("/api/v1/units/{unit}/households"), &json!({"room": "601"})).await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "duplicate households are refused: {p}");
    let (status, p) = problem(
        app.send(Method::POST, &admin, &format!("/api/v1/units/{unit}/households"), &json!({"room": " "})).await,
    )
    .await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("room")));
    let csv = "小区(院),楼号,单元,房号,姓名,性别,出生日期,来源社区\n安乐林路1号院,1,2,101,林一,男,1960-01-01,安乐林社区\n安乐林路1号院,1,3,101,林二,女,1961-01-01,李村\n";
    let res = app
        .client
        .post(app.url(&format!("/api/v1/registry/imports?community_id={community}")))
        .bearer_auth(&admin)
        .body(csv)
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((p["errors"][0]["row"].as_i64(), p["errors"][0]["field"].as_str()), (Some(3), Some("单元")));
    let good = csv.replace(",1,3,101,", ",1,1,101,");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/registry/imports?community_id={community}")))
        .bearer_auth(&admin)
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["residents_created"], 2);
    let summary = app.get_json(&admin, &format!("/api/v1/registry/summary?community_id={community}")).await;
    assert_eq!((summary["households"].as_i64(), summary["residents"].as_i64()), (Some(3), Some(2)));
    // Only a building social worker of the community can own a building.
    let id = building["id"].as_i64().unwrap();
    let zhangli = app.get_json(&staff, "/api/v1/me").await["user"]["id"].as_i64().unwrap();
    let res = app
        .send(Method::PUT, &admin, &format!("/api/v1/buildings/{id}/social_worker"), &json!({"user_id": zhangli}))
        .await;
    assert_eq!(problem(res).await.1["errors"][0]["field"], "user_id");
    // Work in 望坛新苑 goes only to those who work there: the new community's staff are not offered.
    let res = app
        .send(
            Method::POST,
            &admin,
            "/api/v1/users",
            &json!({"username": "anle_staff", "display_name": "安乐林社工", "role": "staff", "communities": [community]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let leaf = category_id(&app, &staff, "other.general.suggestion").await;
    let r: Value = app
        .create_request(
            &staff,
            &json!({"category_id": leaf, "description": "楼道堆物", "channel": "phone", "location": "3号院7号楼1单元"}),
        )
        .await;
    let body = json!({"action": "respond", "note": "已记录", "version": r["version"]});
    let res = app.send(Method::POST, &staff, &format!("/api/v1/requests/{}/actions", r["id"]), &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = app.browser("zhangli").await.get(app.url(&format!("/requests/{}", r["id"]))).send().await.unwrap();
    let page = page.text().await.unwrap();
    let me_name = app.get_json(&staff, "/api/v1/me").await["user"]["display_name"].as_str().unwrap().to_string();
    assert!(page.contains("value=\"dispatch\"") && page.contains(&format!("{me_name} · ")), "{page}");
    assert!(!page.contains("安乐林社工"), "{page}");
}

/// A multipart form, as a browser sends the request form.
fn fields(pairs: &[(&str, &str)]) -> reqwest::multipart::Form {
    pairs.iter().fold(reqwest::multipart::Form::new(), |f, (k, v)| f.text(k.to_string(), v.to_string()))
}

pub(crate) async fn category_id(app: &TestApp, token: &str, code: &str) -> i64 {
    let cats = app.get_json(token, "/api/v1/categories").await;
    cats.as_array().unwrap().iter().find(|c| c["code"] == code).unwrap_or_else(|| panic!("no category {code}"))["id"]
        .as_i64()
        .unwrap()
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let token = app.token(username).await;
    app.get_json(&token, "/api/v1/me").await["user"]["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, token: &str, request: &Value, body: Value) -> reqwest::Response {
    let mut body = body;
    body["version"] = request["version"].clone();
    app.send(Method::POST, token, &format!("/api/v1/requests/{}/actions", request["id"]), &body).await
}

async fn act_ok(app: &TestApp, token: &str, request: &Value, body: Value) -> Value {
    let res = act(app, token, request, body.clone()).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}: {v}");
    v
}

async fn a_request_runs_from_intake_to_close_with_deadlines_and_a_timeline(app: TestApp) {
    let resident = app.token("jumin_hu").await;
    let staff = app.token("zhangli").await;
    let property = app.token("wuye").await;
    let elevator = category_id(&app, &resident, "property.repair.elevator").await;
    let res = app
        .send(Method::POST, &resident, "/api/v1/requests", &json!({"category_id": elevator, "description": "7号楼1单元电梯停在3楼,门打不开", "answers": {"是否有人被困?": "否"}}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["number"], "WT-2024-000001");
    assert_eq!((r["channel"].as_str(), r["status"].as_str()), (Some("portal"), Some("received")));
    assert_eq!(r["location"], "琉璃井路3号院7号楼1单元102");
    assert_eq!(r["contact_name"], "胡桂兰");
    let received: chrono::DateTime<chrono::Utc> = r["received_at"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<chrono::Utc> = r["respond_due"].as_str().unwrap().parse().unwrap();
    let resolve_due: chrono::DateTime<chrono::Utc> = r["resolve_due"].as_str().unwrap().parse().unwrap();
    assert_eq!((due - received).num_minutes(), 30, "an emergency is answered within 30 minutes");
    assert_eq!((resolve_due - received).num_minutes(), 120, "and handled within 2 hours");
    let wuye = user_id(&app, "wuye").await;
    app.clock.advance(chrono::Duration::minutes(10));
    let r = act_ok(&app, &staff, &r, json!({"action": "respond", "note": "已电话联系胡阿姨,物业马上到"})).await;
    let r = act_ok(&app, &staff, &r, json!({"action": "dispatch", "lead": wuye})).await;
    assert_eq!(r["lead_id"], wuye);
    // The property company sees it in its own work list.
    let mine = app.get_json(&property, "/api/v1/requests?mine=true").await;
    assert!(mine.as_array().unwrap().iter().any(|x| x["id"] == r["id"]));
    let r = act_ok(&app, &property, &r, json!({"action": "start"})).await;
    app.clock.advance(chrono::Duration::minutes(40));
    let r =
        act_ok(&app, &property, &r, json!({"action": "resolve", "resolution": "维保单位到场,复位门机,电梯恢复运行"}))
            .await;
    let r = act_ok(
        &app,
        &staff,
        &r,
        json!({"action": "follow_up", "solved": "solved", "satisfaction": "satisfied", "note": "胡阿姨表示满意"}),
    )
    .await;
    assert_eq!(r["status"], "followed_up");
    let r = act_ok(&app, &staff, &r, json!({"action": "close"})).await;
    assert_eq!(r["status"], "closed");
    let detail = app.get_json(&resident, &format!("/api/v1/requests/{}", r["id"])).await;
    let actions: Vec<&str> =
        detail["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "request.create",
            "request.respond",
            "request.dispatch",
            "request.start",
            "request.resolve",
            "request.follow_up",
            "request.close"
        ]
    );
    let summary = app.get_json(&staff, "/api/v1/requests/summary?from=2024-02-01&to=2024-03-01").await;
    let overall = &summary["overall"];
    assert_eq!(overall["requests"], 1);
    assert_eq!(overall["response"]["value"], 1.0);
    assert_eq!(overall["resolution"]["value"], 1.0);
    assert_eq!(overall["satisfaction"]["value"], 1.0);
    assert_eq!(overall["response"]["small_sample"], true);
    assert_eq!(overall["mean_minutes_to_respond"], 10.0);
    assert!(summary["definitions"]["response_rate"].as_str().unwrap().contains("响应时限"));
    assert_eq!(summary["by_category"]["property"]["requests"], 1);
    assert_eq!(summary["by_channel"]["portal"]["requests"], 1);
    let outside = app.get_json(&staff, "/api/v1/requests/summary?from=2024-03-01&to=2024-04-01").await;
    assert_eq!(outside["overall"]["requests"], 0);
    let admin = app.token("admin").await;
    assert_eq!(app.get_json(&admin, "/api/v1/audit/verify").await["ok"], true);
}

async fn refused_request_actions_change_nothing(app: TestApp) {
    let staff = app.token("zhangli").await;
    let property = app.token("wuye").await;
    let power = category_id(&app, &staff, "utilities.supply.power").await;
    let wang = find_household(&app, &staff, "6号院1号楼2单元501").await;
    let r: Value = app.create_request(&staff, &json!({"category_id": power, "description": "6号院1号楼、2号楼停电", "channel": "phone", "household_id": wang, "contact_phone": "13800001111"})).await;
    assert_eq!(r["channel"], "phone");
    let (status, p) = problem(act(&app, &staff, &r, json!({"action": "close"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("received"), "{p}");
    let (status, _) = problem(act(&app, &property, &r, json!({"action": "respond", "note": "x"})).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the property company does not see requests it does not hold");
    let r2 = act_ok(&app, &staff, &r, json!({"action": "respond", "note": "已告知居民抢修中"})).await;
    // A stale version is refused.
    let (status, _) = problem(act(&app, &staff, &r, json!({"action": "respond", "note": "again"})).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let resident_id = user_id(&app, "jumin_hu").await;
    let (status, p) = problem(act(&app, &staff, &r2, json!({"action": "dispatch", "lead": resident_id})).await).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lead")));
    let wuye = user_id(&app, "wuye").await;
    let r3 = act_ok(&app, &staff, &r2, json!({"action": "dispatch", "lead": wuye})).await;
    let (status, p) = problem(act(&app, &staff, &r3, json!({"action": "resolve", "resolution": "done"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p["errors"][0]["message"].as_str().unwrap().contains("主办人"));
    let (status, _) = problem(act(&app, &staff, &r3, json!({"action": "fly"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let now = app.get_json(&staff, &format!("/api/v1/requests/{}", r["id"])).await;
    assert_eq!((now["status"].as_str(), now["version"].as_i64()), (Some("dispatched"), r3["version"].as_i64()));
    // The lead returns it to the dispatcher with a reason.
    let back =
        act_ok(&app, &property, &r3, json!({"action": "return", "reason": "属于供电公司线路故障,需街道协调"})).await;
    assert_eq!((back["status"].as_str(), back["lead_id"].as_i64()), (Some("responded"), None));
    let street = user_id(&app, "jiedao").await;
    let up = act_ok(&app, &staff, &back, json!({"action": "escalate", "to": street, "reason": "涉及供电公司"})).await;
    assert_eq!((up["status"].as_str(), up["lead_id"].as_i64()), (Some("dispatched"), Some(street)));
}

async fn bad_request_intake_names_the_field(app: TestApp) {
    let staff = app.token("zhangli").await;
    let leaf = category_id(&app, &staff, "other.general.suggestion").await;
    let parent = category_id(&app, &staff, "other").await;
    let cases = [
        (json!({"category_id": 99999, "description": "x", "location": "广场"}), "category_id"),
        (json!({"category_id": parent, "description": "x", "location": "广场"}), "category_id"),
        (json!({"category_id": leaf, "description": "x"}), "location"),
        (json!({"category_id": leaf, "description": "  ", "location": "广场"}), "description"),
        (
            json!({"category_id": leaf, "description": "x", "location": "广场", "channel": "hotline_12345"}),
            "external_no",
        ),
        (json!({"category_id": leaf, "description": "x", "location": "广场", "channel": "fax"}), "channel"),
        (json!({"category_id": leaf, "description": "x", "location": "广场", "contact_phone": "123"}), "contact_phone"),
    ];
    for (body, field) in cases {
        let (status, p) = problem(app.send(Method::POST, &staff, "/api/v1/requests", &body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(p["errors"].as_array().unwrap().iter().any(|e| e["field"] == field), "{body}: {p}");
    }
    let res = app.send(Method::POST, &staff, "/api/v1/requests", &json!({"category_id": leaf, "description": "12345 转来", "location": "广场", "channel": "hotline_12345", "external_no": "BJ12345-2024-0001"})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        app.get_json(&staff, "/api/v1/requests").await.as_array().unwrap().len(),
        1,
        "refused intakes wrote nothing"
    );
    let property = app.token("wuye").await;
    let (status, _) = problem(
        app.send(
            Method::POST,
            &property,
            "/api/v1/requests",
            &json!({"category_id": leaf, "description": "x", "location": "广场"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn each_account_sees_only_the_requests_it_may(app: TestApp) {
    let staff = app.token("zhangli").await;
    let hu = app.token("jumin_hu").await;
    let leaf = category_id(&app, &staff, "elderly.daily.groceries").await;
    let wang = find_household(&app, &staff, "6号院1号楼2单元501").await;
    let mine: Value = app.create_request(&hu, &json!({"category_id": leaf, "description": "腿脚不便,买菜困难"})).await;
    let other: Value = app
        .create_request(
            &staff,
            &json!({"category_id": leaf, "description": "代王先生登记", "channel": "walk_in", "household_id": wang}),
        )
        .await;
    let list = app.get_json(&hu, "/api/v1/requests").await;
    let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&mine["id"]]);
    assert_eq!(app.get(&hu, &format!("/api/v1/requests/{}", other["id"])).await.status(), StatusCode::NOT_FOUND);
    let street = app.token("jiedao").await;
    assert_eq!(app.get_json(&street, "/api/v1/requests").await.as_array().unwrap().len(), 2);
    let property = app.token("wuye").await;
    assert!(app.get_json(&property, "/api/v1/requests").await.as_array().unwrap().is_empty());
    // A building social worker sees the requests of their own buildings on one screen.
    let chen = app.token("sw_chen").await;
    let theirs = app.get_json(&chen, "/api/v1/requests?buildings=mine").await;
    assert_eq!(
        theirs.as_array().unwrap().iter().map(|r| &r["id"]).collect::<Vec<_>>(),
        [&mine["id"]],
        "3号院7号楼 is 陈静's"
    );
    let sun = app.token("sw_sun").await;
    let his = app.get_json(&sun, "/api/v1/requests?buildings=mine").await;
    assert_eq!(
        his.as_array().unwrap().iter().map(|r| &r["id"]).collect::<Vec<_>>(),
        [&other["id"]],
        "6号院1号楼 is 孙磊's"
    );
    let page = app
        .browser("sw_chen")
        .await
        .get(app.url("/requests?buildings=mine"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("只看我包的楼")
            && page.contains(mine["number"].as_str().unwrap())
            && !page.contains(other["number"].as_str().unwrap())
    );
    let open = app.get_json(&staff, "/api/v1/requests?status=open&category=elderly&channel=walk_in").await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (status, p) = problem(app.get(&staff, "/api/v1/requests?status=lost").await).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")));
    assert_eq!(app.get(&property, "/api/v1/requests/summary").await.status(), StatusCode::FORBIDDEN);
}

async fn dissatisfaction_reopens_and_a_pause_moves_the_deadline(app: TestApp) {
    let staff = app.token("zhangli").await;
    let kaifa = app.token("kaifa").await;
    let flue = category_id(&app, &staff, "housing.defect.flue").await;
    let wang = find_household(&app, &staff, "6号院1号楼2单元501").await;
    let r: Value = app.create_request(&staff, &json!({"category_id": flue, "description": "燃气热水器排烟口在开放式阳台上", "channel": "reception_day", "household_id": wang})).await;
    let developer = user_id(&app, "kaifa").await;
    let r = act_ok(&app, &staff, &r, json!({"action": "respond", "note": "接待日当场登记"})).await;
    let r = act_ok(&app, &staff, &r, json!({"action": "dispatch", "lead": developer})).await;
    let due_before: chrono::DateTime<chrono::Utc> = r["resolve_due"].as_str().unwrap().parse().unwrap();
    let r = act_ok(&app, &kaifa, &r, json!({"action": "pause", "reason": "王先生出差,约下周现场查看"})).await;
    app.clock.advance(chrono::Duration::days(3));
    let r = act_ok(&app, &kaifa, &r, json!({"action": "resume"})).await;
    let due_after: chrono::DateTime<chrono::Utc> = r["resolve_due"].as_str().unwrap().parse().unwrap();
    assert_eq!(due_after - due_before, chrono::Duration::days(3), "paused time does not count");
    let r = act_ok(&app, &kaifa, &r, json!({"action": "resolve", "resolution": "加装延长排烟管"})).await;
    let r = act_ok(
        &app,
        &staff,
        &r,
        json!({"action": "follow_up", "solved": "not_solved", "satisfaction": "dissatisfied"}),
    )
    .await;
    assert_eq!(
        (r["status"].as_str(), r["reopen_count"].as_i64(), r["lead_id"].as_i64()),
        (Some("in_progress"), Some(1), Some(developer))
    );
    let r = act_ok(&app, &kaifa, &r, json!({"action": "resolve", "resolution": "多轮协调后改造排烟口位置"})).await;
    let r =
        act_ok(&app, &staff, &r, json!({"action": "follow_up", "solved": "solved", "satisfaction": "satisfied"})).await;
    assert_eq!(r["status"], "followed_up");
}

async fn request_pages_take_in_act_and_count(app: TestApp) {
    // 胡阿姨 asks for help with groceries from her phone.
    let hu = app.browser("jumin_hu").await;
    let form = hu.get(app.url("/requests/new")).send().await.unwrap().text().await.unwrap();
    assert!(!form.contains("name=\"channel\""), "residents do not choose a channel");
    let csrf = hidden(&form, "csrf");
    let token = app.token("jumin_hu").await;
    let groceries = category_id(&app, &token, "elderly.daily.groceries").await.to_string();
    let res = hu
        .post(app.url("/requests/new"))
        .multipart(fields(&[("csrf", csrf.as_str()), ("category_id", groceries.as_str()), ("description", "")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("请描述诉求"));
    let res = hu
        .post(app.url("/requests/new"))
        .multipart(fields(&[
            ("csrf", csrf.as_str()),
            ("category_id", groceries.as_str()),
            ("description", "腿脚不便,想请志愿者帮忙买菜"),
            ("contact_phone", "13611112222"),
        ]))
        .send()
        .await
        .unwrap();
    assert!(res.url().path().starts_with("/requests/"));
    let page = res.text().await.unwrap();
    assert!(page.contains("WT-2024-000001") && page.contains("已受理") && page.contains("琉璃井路3号院7号楼1单元102"));
    // A photo taken on the phone goes with a new request; a file that is not a photo is refused and writes nothing.
    let jpeg = crate::common::jpeg();
    let with_photo = |bytes: Vec<u8>| {
        fields(&[("csrf", csrf.as_str()), ("category_id", groceries.as_str()), ("description", "楼道积水,附照片")])
            .part("photos", reqwest::multipart::Part::bytes(bytes).file_name("p.jpg"))
    };
    let res = hu.post(app.url("/requests/new")).multipart(with_photo(b"not a photo".to_vec())).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("JPEG"));
    let res = hu.post(app.url("/requests/new")).multipart(with_photo(jpeg)).send().await.unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("WT-2024-000002") && page.contains("/api/v1/photos/") && page.contains("居民拍摄"), "{page}");
    assert!(!page.contains("name=\"action\""), "a resident has no workflow actions");
    let id = app.get_json(&token, "/api/v1/requests").await[0]["id"].as_i64().unwrap();
    // Staff respond and dispatch from the page; only the actions the rules allow are offered.
    let staff = app.browser("zhangli").await;
    let page = staff.get(app.url(&format!("/requests/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("value=\"respond\"") && !page.contains("value=\"close\"") && !page.contains("value=\"dispatch\"")
    );
    let csrf = hidden(&page, "csrf");
    let version = hidden(&page, "version");
    let res = staff
        .post(app.url(&format!("/requests/{id}/act")))
        .form(&[("csrf", csrf.as_str()), ("version", version.as_str()), ("action", "respond"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = staff
        .post(app.url(&format!("/requests/{id}/act")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("action", "respond"),
            ("note", "已联系,安排志愿者"),
        ])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("已响应") && page.contains("value=\"dispatch\""));
    let version = hidden(&page, "version");
    let worker = user_id(&app, "sw_chen").await.to_string();
    let res = staff
        .post(app.url(&format!("/requests/{id}/act")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("action", "dispatch"),
            ("lead", worker.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(page.contains("已派单") && page.contains("陈静"));
    // The queue lists it; staff take in a phone call for a place with the staff form.
    let queue = staff.get(app.url("/requests")).send().await.unwrap().text().await.unwrap();
    assert!(queue.contains("WT-2024-000001"));
    let form = staff.get(app.url("/requests/new")).send().await.unwrap().text().await.unwrap();
    let pipe = category_id(&app, &token, "property.repair.pipe").await.to_string();
    let res = staff
        .post(app.url("/requests/new"))
        .multipart(fields(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("category_id", pipe.as_str()),
            ("description", "地库喷淋管爆裂"),
            ("channel", "phone"),
            ("location", "地下车库B2"),
            ("contact_name", "夜班保安"),
        ]))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("地下车库B2"));
    let res = staff
        .post(app.url("/requests/new"))
        .multipart(fields(&[
            ("csrf", hidden(&form, "csrf").as_str()),
            ("category_id", groceries.as_str()),
            ("description", "代登记"),
            ("channel", "walk_in"),
            ("location", "6号院1号楼2单元501"),
        ]))
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("琉璃井路6号院1号楼2单元501"), "a full address links the household");
    let figures = staff.get(app.url("/requests/figures")).send().await.unwrap().text().await.unwrap();
    assert!(figures.contains("响应率") && figures.contains("样本不足 30 件"));
    let mine = hu.get(app.url("/requests")).send().await.unwrap().text().await.unwrap();
    assert!(mine.contains("WT-2024-000001") && mine.contains("WT-2024-000002") && !mine.contains("WT-2024-000003"));
}

async fn open311_serves_the_catalogue_and_takes_requests_with_an_api_key(app: TestApp) {
    let services: Value =
        app.client.get(app.url("/open311/v2/services.json")).send().await.unwrap().json().await.unwrap();
    let elevator = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "property.repair.elevator")
        .expect("elevator service");
    assert_eq!((elevator["type"].as_str(), elevator["metadata"].as_bool()), (Some("realtime"), Some(true)));
    let xml = app.client.get(app.url("/open311/v2/services.xml")).send().await.unwrap();
    assert!(xml.headers()["content-type"].to_str().unwrap().starts_with("text/xml"));
    let xml = xml.text().await.unwrap();
    assert!(
        xml.contains("<services><service>") && xml.contains("<service_code>property.repair.elevator</service_code>")
    );
    let def: Value = app
        .client
        .get(app.url("/open311/v2/services/property.repair.elevator.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(def["attributes"][0]["code"], "q1");
    assert_eq!(def["attributes"][0]["description"], "是否有人被困?");
    assert_eq!(
        app.client.get(app.url("/open311/v2/services/nope.json")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let post = |body: String| {
        app.client
            .post(app.url("/open311/v2/requests.json"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let res = post("service_code=property.repair.elevator&address_string=x&description=y".into()).await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err[0]["code"], 403);
    let res = app.client.post(app.url("/open311/v2/requests.xml")).body("service_code=x").send().await.unwrap();
    assert!(res.text().await.unwrap().contains("<errors><error><code>403</code>"));

    let admin = app.token("admin").await;
    let zhangli = user_id(&app, "zhangli").await;
    let key: Value = app
        .send(Method::POST, &admin, "/api/v1/api_tokens", &json!({"name": "街道 12345 对接", "user_id": zhangli}))
        .await
        .json()
        .await
        .unwrap();
    let key = key["token"].as_str().unwrap().to_string();
    let enc = |s: &str| urlencode(s);
    let res = post(format!("api_key={key}&service_code=nope.nope.nope&address_string=x&description=y")).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = post(format!("api_key={key}&service_code=property.repair.elevator&description=y")).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.json::<Value>().await.unwrap()[0]["description"].as_str().unwrap().contains("address_string"));
    let body = format!(
        "api_key={key}&service_code=property.repair.elevator&address_string={}&description={}&attribute%5Bq1%5D={}&first_name={}&last_name={}&phone=13800138000",
        enc("琉璃井路3号院7号楼1单元电梯"),
        enc("电梯停在三楼"),
        enc("是"),
        enc("桂兰"),
        enc("胡")
    );
    let res = post(body).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let created: Value = res.json().await.unwrap();
    let number = created[0]["service_request_id"].as_str().unwrap().to_string();
    assert_eq!(number, "WT-2024-000001");
    assert!(created[0].get("token").is_none(), "GeoReport gives an id or a token, not both: {created}");
    let list: Value = app
        .client
        .get(app.url(&format!("/open311/v2/requests.json?api_key={key}&status=open")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["service_request_id"], number);
    assert_eq!(list[0]["status"], "open");
    let one: Value = app
        .client
        .get(app.url(&format!("/open311/v2/requests/{number}.json?api_key={key}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one[0]["service_code"], "property.repair.elevator");
    let token: Value = app
        .client
        .get(app.url(&format!("/open311/v2/tokens/{number}.json?api_key={key}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token[0]["service_request_id"], number);
    let staff = app.token("zhangli").await;
    let inside = app.get_json(&staff, "/api/v1/requests").await;
    assert_eq!(inside[0]["channel"], "open311");
    assert_eq!(inside[0]["answers"]["是否有人被困?"], "是");
    assert_eq!(inside[0]["contact_name"], "胡桂兰");
    let closed: Value = app
        .client
        .get(app.url(&format!("/open311/v2/requests.json?api_key={key}&status=closed")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(closed.as_array().unwrap().is_empty());
    // Asking by number overrides the other arguments; unknown numbers are left out, an unknown one alone is 404.
    let by_number: Value = app
        .client
        .get(app.url(&format!(
            "/open311/v2/requests.json?api_key={key}&status=closed&service_request_id={number},WT-1999-000009"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let numbers: Vec<&str> =
        by_number.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
    assert_eq!(numbers, [number.as_str()]);
    let missing = app
        .client
        .get(app.url(&format!("/open311/v2/requests/WT-1999-000009.json?api_key={key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// A stand-in for a group robot: records what it is sent and answers like WeCom (or fails on demand).
pub(crate) async fn robot(fail: bool) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::{Json, Router, routing::post};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |Json(v): Json<Value>| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(v);
                if fail {
                    (axum::http::StatusCode::BAD_GATEWAY, Json(json!({"errcode": 1})))
                } else {
                    (axum::http::StatusCode::OK, Json(json!({"errcode": 0})))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn an_emergency_at_2am_reaches_the_person_on_duty_and_the_duty_groups(app: TestApp) {
    let staff = app.token("zhangli").await;
    let (duty_hook, duty_seen) = robot(false).await;
    let (property_hook, property_seen) = robot(false).await;
    for (name, kind, target, purpose) in
        [("社区值班群", "wecom", &duty_hook, "duty"), ("物业值班线", "feishu", &property_hook, "property")]
    {
        let res = app
            .send(
                Method::POST,
                &staff,
                "/api/v1/notification_channels",
                &json!({"name": name, "kind": kind, "target": target, "purpose": purpose}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let (status, p) = problem(
        app.send(
            Method::POST,
            &staff,
            "/api/v1/notification_channels",
            &json!({"name": "x", "kind": "fax", "target": "ftp://x", "purpose": "all"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    // 王先生's neighbour 刘芳 is on the night shift; it is 2 a.m. in Beijing.
    let night = app.user_id_of("sw_liu").await;
    app.clock.advance(chrono::Duration::minutes(16 * 60 + 30));
    let now = wujia_web::Clock::now(&*app.clock);
    let shift = json!({"user_id": night, "starts_at": (now - chrono::Duration::hours(4)).to_rfc3339(), "ends_at": (now + chrono::Duration::hours(4)).to_rfc3339(), "note": "夜班"});
    assert_eq!(app.send(Method::POST, &staff, "/api/v1/duty", &shift).await.status(), StatusCode::CREATED);
    let resident_id = app.user_id_of("jumin_hu").await;
    let bad = json!({"user_id": resident_id, "starts_at": now.to_rfc3339(), "ends_at": (now + chrono::Duration::hours(1)).to_rfc3339()});
    assert_eq!(
        problem(app.send(Method::POST, &staff, "/api/v1/duty", &bad).await).await.1["errors"][0]["field"],
        "user_id"
    );
    let hu = app.token("jumin_hu").await;
    let pipe = category_id(&app, &hu, "property.repair.pipe").await;
    let r: Value =
        app.create_request(&hu, &json!({"category_id": pipe, "description": "地下车库喷淋管爆裂,水在漫延"})).await;
    // At once: the person on duty and the property company have it in their inboxes, the resident has a receipt.
    let sw = app.token("sw_liu").await;
    let inbox = app.get_json(&sw, "/api/v1/inbox").await;
    assert_eq!(inbox["unread"], 1);
    assert!(inbox["items"][0]["title"].as_str().unwrap().starts_with("紧急诉求 WT-2024-"));
    assert_eq!(inbox["items"][0]["link"], format!("/requests/{}", r["id"]));
    let wuye = app.token("wuye").await;
    assert_eq!(app.get_json(&wuye, "/api/v1/inbox").await["unread"], 1);
    assert!(app.get_json(&hu, "/api/v1/inbox").await["items"][0]["title"].as_str().unwrap().contains("已受理"));
    // The next run of the background jobs (every 10 s in a server) delivers to both groups in their formats.
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.delivered, 2);
    let duty = duty_seen.lock().unwrap().clone();
    assert_eq!(duty[0]["msgtype"], "text");
    assert!(duty[0]["text"]["content"].as_str().unwrap().contains("地下车库喷淋管爆裂"));
    assert!(property_seen.lock().unwrap()[0]["content"]["text"].as_str().unwrap().contains("紧急诉求"));
    let deliveries = app.get_json(&staff, "/api/v1/deliveries").await;
    assert!(deliveries.as_array().unwrap().iter().all(|d| d["status"] == "sent" && d["attempts"] == 1));
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().delivered, 0, "each delivery goes out once");
    // Every status change reaches the resident.
    let r = act_ok(&app, &staff, &r, json!({"action": "respond", "note": "物业已关闭总阀,维修工到场"})).await;
    let msgs = app.get_json(&hu, "/api/v1/inbox").await;
    assert!(msgs["items"][0]["title"].as_str().unwrap().contains("已响应"), "{msgs}");
    assert_eq!(r["status"], "responded");
    let page = app.browser("jumin_hu").await.get(app.url("/inbox")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已响应") && page.contains("条未读"));
    assert_eq!(app.send(Method::POST, &hu, "/api/v1/inbox/read", &json!({})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_json(&hu, "/api/v1/inbox").await["unread"], 0);
}

async fn deadline_alerts_go_out_once_and_failed_deliveries_are_retried(app: TestApp) {
    let staff = app.token("zhangli").await;
    let (hook, seen) = robot(true).await;
    app.send(
        Method::POST,
        &staff,
        "/api/v1/notification_channels",
        &json!({"name": "全部诉求", "kind": "dingtalk", "target": hook, "purpose": "all"}),
    )
    .await;
    let leaf = category_id(&app, &staff, "utilities.supply.power").await;
    let r: Value = app
        .create_request(&staff, &json!({"category_id": leaf, "description": "6号院停电", "location": "6号院"}))
        .await;
    let first = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!((first.delivered, first.retried), (0, 1));
    let d = &app.get_json(&staff, "/api/v1/deliveries").await[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert!(d["last_error"].as_str().unwrap().contains("502"));
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().retried, 0, "not before its retry time");
    // Power cuts are answered within 2 hours: at 1 h 45 min the staff are warned, after 2 h told it is late.
    app.clock.advance(chrono::Duration::minutes(95));
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.retried, 1);
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(report.alerts, 1);
    let inbox = app.get_json(&staff, "/api/v1/inbox").await;
    assert!(inbox["items"][0]["title"].as_str().unwrap().contains("即将到达响应时限"), "{inbox}");
    app.clock.advance(chrono::Duration::minutes(30));
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().alerts, 1);
    assert!(
        app.get_json(&staff, "/api/v1/inbox").await["items"][0]["title"].as_str().unwrap().contains("已超过响应时限")
    );
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().alerts, 0, "each alert once");
    // A paused clock raises nothing.
    let r = act_ok(&app, &staff, &r, json!({"action": "pause", "reason": "等待供电公司"})).await;
    app.clock.advance(chrono::Duration::hours(30));
    assert_eq!(wujia_web::run_jobs_once(&app.state).await.unwrap().alerts, 0);
    assert!(r["paused_reason"].is_string());
}

async fn enrolment_day_fifty_households_get_one_answer_and_are_all_counted(app: TestApp) {
    let staff = app.token("zhangli").await;
    let enrolment = category_id(&app, &staff, "education.enrolment.school_age").await;
    let mut households: Vec<i64> = app
        .get_json(&staff, &format!("/api/v1/households?q={}&limit=200", urlencode("1号院1号楼")))
        .await
        .as_array()
        .unwrap()
        .iter()
        .take(51)
        .map(|h| h["household_id"].as_i64().unwrap())
        .collect();
    households.push(find_household(&app, &staff, "3号院7号楼1单元102").await);
    let mut ids = Vec::new();
    for h in &households {
        let body = json!({"category_id": enrolment, "description": "孩子入学登记地址和社区选项怎么填?公布的电话打不进去", "channel": "wechat", "household_id": h});
        let res = app.send(Method::POST, &staff, "/api/v1/requests", &body).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let hu = app.token("jumin_hu").await;
    let before = app.get_json(&hu, "/api/v1/knowledge?category=education").await;
    assert!(before.as_array().unwrap().is_empty());
    let (status, p) = problem(
        app.send(Method::POST, &staff, "/api/v1/request_batches", &json!({"title": "入学", "request_ids": [ids[0]]}))
            .await,
    )
    .await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("request_ids")));
    let res = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/request_batches",
            &json!({"title": "适龄儿童入学信息采集:登记地址和社区选项怎么填", "request_ids": ids}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let batch = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (status, _) = problem(
        app.send(
            Method::POST,
            &staff,
            "/api/v1/request_batches",
            &json!({"title": "again", "request_ids": [ids[0], ids[1]]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a request is merged once");
    let answer = "登记地址填写房产证地址“琉璃井路X号院”;社区选项选择“望坛新苑社区(筹备组)”。街道社区建设办已确认,可通过入学微信工作群随时咨询。";
    let res = app
        .send(Method::POST, &staff, &format!("/api/v1/request_batches/{batch}/answer"), &json!({"answer": answer}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["resolved"], 52);
    let detail = app.get_json(&staff, &format!("/api/v1/request_batches/{batch}")).await;
    assert!(
        detail["requests"].as_array().unwrap().iter().all(|r| r["status"] == "resolved" && r["resolution"] == answer)
    );
    assert_eq!(detail["batch"]["knowledge_id"], done["knowledge_id"]);
    // The 51st household — and the 53rd — finds the answer before asking.
    let kb = app.get_json(&hu, "/api/v1/knowledge?category=education").await;
    assert_eq!(kb[0]["answer"], answer);
    let found = app.get_json(&hu, &format!("/api/v1/knowledge?q={}", urlencode("社区选项"))).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let form = app.browser("jumin_hu").await.get(app.url("/requests/new")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("id=\"knowledge\"") && form.contains("望坛新苑社区(筹备组)"));
    // 胡阿姨's household was among them and was told.
    let inbox = app.get_json(&hu, "/api/v1/inbox").await;
    assert!(inbox["items"].as_array().unwrap().iter().any(|m| m["title"].as_str().unwrap().contains("已办结")));
    // Every household is counted: 52 requests, all answered in time.
    let s = app.get_json(&staff, "/api/v1/requests/summary").await;
    assert_eq!(s["overall"]["requests"], 52);
    assert_eq!(s["overall"]["response"]["denominator"], 52);
    assert_eq!(s["overall"]["response"]["value"], 1.0);
    assert_eq!(s["overall"]["response"]["small_sample"], false);
    assert_eq!(s["by_channel"]["wechat"]["requests"], 52);
    let one = app.get_json(&staff, &format!("/api/v1/requests/{}", ids[5])).await;
    let steps: Vec<&str> = one["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(steps, ["request.create", "request.respond", "request.dispatch", "request.resolve"]);
}

async fn admins_edit_the_catalogue_and_the_holiday_calendar(app: TestApp) {
    let admin = app.token("admin").await;
    let staff = app.token("zhangli").await;
    let repair = category_id(&app, &admin, "property.repair").await;
    let body = json!({"parent_id": repair, "code": "doorbell", "name_zh": "门禁故障", "name_en": "Door entry fault", "handler": "property", "urgency": "general"});
    assert_eq!(app.send(Method::POST, &staff, "/api/v1/categories", &body).await.status(), StatusCode::FORBIDDEN);
    let res = app.send(Method::POST, &admin, "/api/v1/categories", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["code"], "property.repair.doorbell");
    assert_eq!((c["resolve_unit"].as_str(), c["resolve_value"].as_i64()), (Some("working_days"), Some(7)));
    assert_eq!(app.send(Method::POST, &admin, "/api/v1/categories", &body).await.status(), StatusCode::CONFLICT);
    let leaf = category_id(&app, &admin, "property.repair.doorbell").await;
    let (status, p) = problem(app.send(Method::POST, &admin, "/api/v1/categories", &json!({"parent_id": leaf, "code": "x", "name_zh": "x", "name_en": "x", "handler": "king", "urgency": "soon"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["parent_id", "handler", "urgency"]);
    let patch = json!({"urgency": "emergency", "respond": {"unit": "minutes", "value": 20}, "resolve": {"unit": "minutes", "value": 90}, "questions": ["哪个单元门?"]});
    let c: Value =
        app.send(Method::PATCH, &admin, &format!("/api/v1/categories/{leaf}"), &patch).await.json().await.unwrap();
    assert_eq!((c["respond_value"].as_i64(), c["urgency"].as_str()), (Some(20), Some("emergency")));
    let (status, _) = problem(
        app.send(
            Method::PATCH,
            &admin,
            &format!("/api/v1/categories/{leaf}"),
            &json!({"resolve": {"unit": "weeks", "value": 2}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // New limits apply to new requests at once.
    let r: Value = app
        .create_request(
            &staff,
            &json!({"category_id": leaf, "description": "单元门打不开", "location": "1号院1号楼1单元"}),
        )
        .await;
    let received: chrono::DateTime<chrono::Utc> = r["received_at"].as_str().unwrap().parse().unwrap();
    let due: chrono::DateTime<chrono::Utc> = r["respond_due"].as_str().unwrap().parse().unwrap();
    assert_eq!((due - received).num_minutes(), 20);
    // A later year's holidays are added as data; general requests then skip them.
    let days = app.get_json(&staff, "/api/v1/calendar?year=2024").await;
    assert!(days.as_array().unwrap().iter().any(|d| d["date"] == "2024-02-18" && d["kind"] == "workday"));
    assert_eq!(
        app.send(Method::PUT, &staff, "/api/v1/calendar/2024-02-27", &json!({"kind": "holiday", "name": "测试"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let general = category_id(&app, &admin, "other.general.suggestion").await;
    let before: Value =
        app.create_request(&staff, &json!({"category_id": general, "description": "建议", "location": "广场"})).await;
    assert_eq!(
        app.send(
            Method::PUT,
            &admin,
            "/api/v1/calendar/2024-02-27",
            &json!({"kind": "holiday", "name": "社区测试假日"})
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let after: Value =
        app.create_request(&staff, &json!({"category_id": general, "description": "建议", "location": "广场"})).await;
    let (a, b): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) = (
        before["resolve_due"].as_str().unwrap().parse().unwrap(),
        after["resolve_due"].as_str().unwrap().parse().unwrap(),
    );
    assert_eq!(b - a, chrono::Duration::days(1), "one more holiday, one day later");
    let (status, p) =
        problem(app.send(Method::PUT, &admin, "/api/v1/calendar/2024-13-01", &json!({"kind": "holiday"})).await).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("date")));
}

async fn orders_from_12345_are_imported_once_with_the_citys_deadline(app: TestApp) {
    let staff = app.token("zhangli").await;
    let file = "工单编号,受理时间,诉求类别,诉求内容,地址,联系人,联系电话,主办单位,协办单位,办结时限\n\
        BJ2024022600123,2024-02-26 08:15,停电,6号院1号楼、2号楼停电,琉璃井路6号院1号楼2单元501,王志刚,13800001111,永外街道,物业,2024-02-26 20:00\n\
        BJ2024022600124,2024-02-26 08:40,适龄儿童入学信息采集,登记地址怎么填,琉璃井路3号院,李女士,,永外街道,,\n";
    let post = |body: String, query: &str| {
        app.client.post(app.url(&format!("/api/v1/requests/imports{query}"))).bearer_auth(&staff).body(body).send()
    };
    let bad = file.replace("停电,6号院", "外星人,6号院").replace("13800001111", "123");
    let (status, p) = problem(post(bad, "").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let got: Vec<(i64, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(2, "诉求类别")]);
    let dry: Value = post(file.to_string(), "?dry_run=true").await.unwrap().json().await.unwrap();
    assert_eq!((dry["would_create"].as_i64(), dry["created"].as_i64()), (Some(2), Some(0)));
    assert!(app.get_json(&staff, "/api/v1/requests").await.as_array().unwrap().is_empty());
    let done: Value = post(file.to_string(), "").await.unwrap().json().await.unwrap();
    assert_eq!(done["created"], 2);
    let again: Value = post(file.to_string(), "").await.unwrap().json().await.unwrap();
    assert_eq!((again["created"].as_i64(), again["already_known"].as_i64()), (Some(0), Some(2)));
    let list = app.get_json(&staff, "/api/v1/requests?channel=hotline_12345").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let power = list.as_array().unwrap().iter().find(|r| r["external_no"] == "BJ2024022600123").unwrap();
    assert_eq!(power["location"], "琉璃井路6号院1号楼2单元501");
    assert!(power["household_id"].is_i64(), "a full address links the household");
    assert_eq!(
        power["resolve_due"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap(),
        "2024-02-26T12:00:00Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap()
    );
    let s = app.get_json(&staff, "/api/v1/requests/summary").await;
    assert_eq!((s["from_12345"].as_i64(), s["local"].as_i64()), (Some(2), Some(0)));
    let property = app.token("wuye").await;
    assert_eq!(
        app.client
            .post(app.url("/api/v1/requests/imports"))
            .bearer_auth(&property)
            .body(file.to_string())
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn the_demo_history_replays_the_articles_service_stories(app: TestApp) {
    let n = wujia_web::load_request_history(&app.state.store, wujia_web::Clock::now(&*app.clock)).await.unwrap();
    assert!(n > 200, "{n} requests");
    let staff = app.token("zhangli").await;
    let s = app.get_json(&staff, "/api/v1/requests/summary?from=2023-05-01&to=2024-03-01").await;
    assert_eq!(s["overall"]["response"]["value"], 1.0, "every request answered in time");
    assert!(s["overall"]["satisfaction"]["value"].as_f64().unwrap() > 0.95);
    assert!(s["overall"]["requests"].as_i64().unwrap() > 200);
    // Enrolment day: 53 requests on one day through the WeChat group, one answer.
    let day = app.get_json(&staff, "/api/v1/requests?status=closed&from=2023-08-15&to=2023-08-16&limit=200").await;
    let enrolment: Vec<&Value> =
        day.as_array().unwrap().iter().filter(|r| r["channel"] == "wechat" && r["batch_id"].is_i64()).collect();
    assert_eq!(enrolment.len(), 53);
    let kb = app.get_json(&staff, "/api/v1/knowledge?category=education").await;
    assert_eq!(kb.as_array().unwrap().len(), 1);
    // 2 a.m., 3 September 2023: the garage sprinkler pipe, reported from the portal, closed satisfied.
    let night = app
        .get_json(&staff, "/api/v1/requests?status=closed&category=property.repair.pipe&from=2023-09-03&to=2023-09-04")
        .await;
    let pipe = &night[0];
    assert_eq!((pipe["channel"].as_str(), pipe["followup_satisfaction"].as_str()), (Some("portal"), Some("satisfied")));
    // 王先生's flue went to the developer, paused while he was away, and was solved.
    let flue = app
        .get_json(&staff, "/api/v1/requests?status=closed&category=housing.defect.flue&from=2023-06-18&to=2023-06-19")
        .await;
    let detail = app.get_json(&staff, &format!("/api/v1/requests/{}", flue[0]["id"])).await;
    let steps: Vec<&str> =
        detail["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        steps.contains(&"request.pause")
            && steps.contains(&"request.resume")
            && steps.ends_with(&["request.follow_up", "request.close"])
    );
    // Work in hand today.
    let open = app.get_json(&staff, "/api/v1/requests?status=open").await;
    assert_eq!(open.as_array().unwrap().len(), 3);
    assert_eq!(app.get_json(&app.token("admin").await, "/api/v1/audit/verify").await["ok"], true);
}

async fn concurrent_intakes_are_committed_together_with_distinct_numbers(app: TestApp) {
    let staff = app.token("zhangli").await;
    let leaf = category_id(&app, &staff, "other.general.suggestion").await;
    let posts = (0..40).map(|i| {
        let body =
            json!({"category_id": leaf, "description": format!("建议 {i}"), "channel": "phone", "location": "广场"});
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/requests"), staff.clone());
        tokio::spawn(async move {
            client.post(url).bearer_auth(token).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
        })
    });
    let mut numbers = Vec::new();
    for p in posts.collect::<Vec<_>>() {
        numbers.push(p.await.unwrap()["number"].as_str().unwrap().to_string());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=40).map(|n| format!("WT-2024-{n:06}")).collect();
    assert_eq!(numbers, expected);
    assert_eq!(app.get_json(&staff, "/api/v1/requests?limit=100").await.as_array().unwrap().len(), 40);
    assert_eq!(app.get_json(&app.token("admin").await, "/api/v1/audit/verify").await["ok"], true);
}

async fn photos_are_checked_stripped_of_location_and_shown_only_to_those_who_may(app: TestApp) {
    let hu = app.token("jumin_hu").await;
    let pipe = category_id(&app, &hu, "property.repair.pipe").await;
    let r: Value = app.create_request(&hu, &json!({"category_id": pipe, "description": "厨房水管漏水"})).await;
    let jpeg = crate::common::jpeg();
    let post = |token: &str, body: Vec<u8>| {
        app.client
            .post(app.url(&format!("/api/v1/requests/{}/photos", r["id"])))
            .bearer_auth(token.to_string())
            .body(body)
            .send()
    };
    let res = post(&hu, jpeg.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let photo: Value = res.json().await.unwrap();
    assert_eq!((photo["media_type"].as_str(), photo["stage"].as_str()), (Some("image/jpeg"), Some("intake")));
    let url = photo["url"].as_str().unwrap().to_string();
    let bytes = app.get(&hu, &url).await.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]) && !bytes.windows(4).any(|w| w == b"Exif"), "location metadata removed");
    let staff = app.token("zhangli").await;
    assert_eq!(app.get(&staff, &url).await.status(), StatusCode::OK);
    let sun = app.token("wuye").await;
    assert_eq!(
        app.get(&sun, &url).await.status(),
        StatusCode::NOT_FOUND,
        "the property company does not hold this request"
    );
    let (status, _) = problem(post(&hu, b"%PDF-1.7 not a photo".to_vec()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = problem(post(&hu, vec![0xFF; wujia_core::media::MAX_PHOTO_BYTES + 2048]).await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let listed = app.get_json(&staff, &format!("/api/v1/requests/{}/photos", r["id"])).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let page = app
        .browser("zhangli")
        .await
        .get(app.url(&format!("/requests/{}", r["id"])))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&url) && page.contains("居民拍摄"));
    for _ in 0..8 {
        assert_eq!(post(&hu, jpeg.clone()).await.unwrap().status(), StatusCode::CREATED);
    }
    let (status, p) = problem(post(&hu, jpeg).await.unwrap()).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("photo")));
}

/// Two nodes starting together on an empty PostgreSQL database (several nodes share PostgreSQL; SQLite serves one
/// node) both come up, and the defaults are seeded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_seed_the_defaults_once() {
    let key = wujia_store::SecretKey::from_bytes([5; 32]);
    let Some(admin) = crate::common::postgres_admin_url() else {
        eprintln!("WUJIA_TEST_DATABASE_URL is not set: this PostgreSQL test is not run here");
        return;
    };
    let name = format!("wujia_seed_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
    let urls = vec![format!("{}/{name}", admin.rsplit_once('/').unwrap().0)];
    for url in urls {
        let (a, b) =
            tokio::join!(async { wujia_store::Store::connect(&url, &key).await.unwrap().migrate().await }, async {
                wujia_store::Store::connect(&url, &key).await.unwrap().migrate().await
            },);
        assert!(a.is_ok() && b.is_ok(), "{url}: {a:?} {b:?}");
        let store = wujia_store::Store::connect(&url, &key).await.unwrap();
        let codes: Vec<String> = store.categories().await.unwrap().into_iter().map(|c| c.code).collect();
        let mut unique = codes.clone();
        unique.dedup();
        assert_eq!(codes.len(), unique.len());
        assert_eq!(codes.len(), wujia_core::requests::default_catalogue().len());
        store.close().await;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&pool)
        .await
        .unwrap();
}
