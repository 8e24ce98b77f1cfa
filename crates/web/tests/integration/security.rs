//! Integration on SQLite and PostgreSQL, playing the attacker: formula injection through the exports, pages that
//! could be framed, sniffed, cached or scripted, and metrics read by anyone.

use crate::common::{Backend, METRICS_TOKEN, TestApp};
use calamine::{Data, Reader, Xlsx};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_resident_named_as_a_formula_is_text_in_the_registry_csv_and_xlsx,
    a_formula_in_an_attendance_list_is_text,
    a_formula_in_the_governance_report_is_text,
    an_import_with_a_formula_cell_is_refused,
    every_response_sends_the_security_headers,
    metrics_need_the_token,
    webhooks_to_this_machine_or_the_intranet_are_refused,
);

const EVIL: &str = "=HYPERLINK(\"http://evil.example/\",\"点我\")";

/// Every cell of every sheet of an XLSX file, read back with calamine.
fn xlsx_cells(bytes: &[u8]) -> Vec<String> {
    let mut book = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut cells = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        assert!(book.worksheet_formula(&name).unwrap().used_cells().next().is_none(), "no formula in {name}");
        cells.extend(range.used_cells().map(|(_, _, c)| match c {
            Data::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    cells
}

fn assert_neutralised(cells: &[String]) {
    assert!(cells.iter().any(|c| c == &format!("'{EVIL}")), "the formula is written as text: {cells:?}");
    assert!(!cells.iter().any(|c| c.starts_with(['=', '+', '@'])), "no cell starts a formula: {cells:?}");
}

/// The resident of 胡's household, renamed underneath as a resident could name herself.
async fn hu_resident_named_evil(app: &TestApp) -> i64 {
    let hu = app.token("jumin_hu").await;
    let home = app.get_json(&hu, "/api/v1/me").await["household_id"].as_i64().unwrap();
    let id = app.get_json(&hu, &format!("/api/v1/households/{home}")).await["residents"][0]["id"].as_i64().unwrap();
    app.raw_sql(&format!("UPDATE residents SET name = '{}' WHERE id = {id}", EVIL.replace('\'', "''"))).await;
    id
}

async fn a_resident_named_as_a_formula_is_text_in_the_registry_csv_and_xlsx(app: TestApp) {
    hu_resident_named_evil(&app).await;
    let staff = app.token("zhangli").await;
    let csv = app.get(&staff, "/api/v1/registry/export?format=csv").await.bytes().await.unwrap();
    let table = wujia_core::transfer::read_table(&csv).unwrap();
    let cells: Vec<String> = table.into_iter().flat_map(|r| r.cells).collect();
    assert_neutralised(&cells);
    let xlsx = app.get(&staff, "/api/v1/registry/export?format=xlsx").await.bytes().await.unwrap();
    assert_neutralised(&xlsx_cells(&xlsx));
}

async fn a_formula_in_an_attendance_list_is_text(app: TestApp) {
    let resident = hu_resident_named_evil(&app).await;
    let staff = app.token("zhangli").await;
    let res = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/activities",
            &json!({"title": "健康讲座", "place": "活动室", "starts_at": "2024-03-25T09:00",
                "ends_at": "2024-03-25T10:00", "capacity": 50}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = app
        .send(
            Method::POST,
            &staff,
            &format!("/api/v1/activities/{id}/registrations"),
            &json!({"resident_id": resident, "note": "@SUM(1+1)*cmd|' /C calc'!A0"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let xlsx = app.get(&staff, &format!("/api/v1/activities/{id}/attendance.xlsx")).await.bytes().await.unwrap();
    let cells = xlsx_cells(&xlsx);
    assert_neutralised(&cells);
    assert!(cells.contains(&"'@SUM(1+1)*cmd|' /C calc'!A0".to_string()), "{cells:?}");
}

async fn a_formula_in_the_governance_report_is_text(app: TestApp) {
    let staff = app.token("zhangli").await;
    let res = app
        .send(
            Method::POST,
            &staff,
            "/api/v1/activities",
            &json!({"title": EVIL, "place": "活动室", "starts_at": "2024-02-20T09:00",
                "ends_at": "2024-02-20T10:00", "capacity": 50}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let xlsx =
        app.get(&staff, "/api/v1/reports/governance.xlsx?from=2024-02-01&to=2024-02-29").await.bytes().await.unwrap();
    assert_neutralised(&xlsx_cells(&xlsx));
}

async fn an_import_with_a_formula_cell_is_refused(app: TestApp) {
    let staff = app.token("zhangli").await;
    let csv = format!("小区(院),楼号,单元,房号,姓名\n琉璃井路3号院,7,2,301,\"{}\"\n", EVIL.replace('"', "\"\""));
    let res = app.client.post(app.url("/api/v1/registry/imports")).bearer_auth(&staff).body(csv).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.unwrap();
    let e = &p["errors"][0];
    assert_eq!((e["row"].as_i64(), e["field"].as_str()), (Some(2), Some("姓名")), "{p}");
    assert!(e["message"].as_str().unwrap().contains("公式"), "{p}");
    let before = app.get_json(&staff, "/api/v1/registry/summary").await["residents"].clone();
    let res = app.client.post(app.url("/api/v1/registry/imports")).bearer_auth(&staff).body(csv_again()).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get_json(&staff, "/api/v1/registry/summary").await["residents"], before, "nothing written");
}

fn csv_again() -> String {
    "小区(院),楼号,单元,房号,姓名\n琉璃井路3号院,7,2,301,@SUM(A1)\n".to_string()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

async fn every_response_sends_the_security_headers(app: TestApp) {
    let browser = app.browser("zhangli").await;
    let staff = app.token("zhangli").await;
    let page = browser.get(app.url("/")).send().await.unwrap();
    let api = app.get(&staff, "/api/v1/me").await;
    let login = app.client.get(app.url("/login")).send().await.unwrap();
    for res in [&page, &api, &login] {
        let csp = header(res, "content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(header(res, "x-content-type-options"), "nosniff");
        assert_eq!(header(res, "referrer-policy"), "same-origin");
        assert_eq!(header(res, "cache-control"), "no-store", "{}", res.url());
        assert_eq!(header(res, "strict-transport-security"), "", "no HSTS over plain HTTP");
    }
    let js = app.client.get(app.url("/assets/app.js")).send().await.unwrap();
    assert!(header(&js, "cache-control").starts_with("public"), "assets stay cacheable");
    // The pages' own code obeys the policy: no inline script and no inline handler in any template.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let html = std::fs::read_to_string(&path).unwrap();
        for (i, _) in html.match_indices("<script") {
            assert!(html[i..].split('>').next().unwrap().contains(" src="), "inline script in {}", path.display());
        }
        for attr in
            [" onclick=", " onload=", " onchange=", " onsubmit=", " oninput=", " onerror=", "javascript:", " style="]
        {
            assert!(!html.contains(attr), "{attr} in {}", path.display());
        }
    }
    // Behind TLS: HSTS, and the session cookie is Secure.
    let backend = app.backend;
    drop(app);
    let Some(tls) = TestApp::spawn_with(backend, |c| c.secure_cookies = true).await else { return };
    let login = tls.client.get(tls.url("/login")).send().await.unwrap();
    assert!(header(&login, "strict-transport-security").starts_with("max-age="));
    let form_cookie = header(&login, "set-cookie");
    assert!(form_cookie.starts_with("wujia_form_csrf=") && form_cookie.contains("Secure"), "{form_cookie}");
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(tls.url("/login"))
        .form(&[("username", "zhangli"), ("password", crate::common::PASSWORD), ("csrf", "x"), ("next", "/")])
        .header("cookie", "wujia_form_csrf=x")
        .send()
        .await
        .unwrap();
    let cookies: Vec<&str> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("wujia_session")), "logged in: {cookies:?}");
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
}

async fn metrics_need_the_token(app: TestApp) {
    let get = |token: Option<&'static str>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(get(None).await, StatusCode::UNAUTHORIZED, "anyone reading the metrics");
    assert_eq!(get(Some("guess")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get(Some(METRICS_TOKEN)).await, StatusCode::OK);
    assert!(!format!("{:?}", app.state.config).contains(METRICS_TOKEN), "the token is never printed");
    let backend: Backend = app.backend;
    drop(app);
    let Some(off) = TestApp::spawn_with(backend, |c| c.metrics_token = None).await else { return };
    let res = off.client.get(off.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no token configured: no metrics");
}

async fn webhooks_to_this_machine_or_the_intranet_are_refused(app: TestApp) {
    let backend = app.backend;
    drop(app);
    let Some(app) = TestApp::spawn_with(backend, |c| c.webhook_allow_hosts.clear()).await else { return };
    let staff = app.token("zhangli").await;
    let (hook, seen) = crate::api::robot(false).await;
    let channel = |target: String| {
        let (app, staff) = (&app, staff.clone());
        async move {
            app.send(
                Method::POST,
                &staff,
                "/api/v1/notification_channels",
                &json!({"name": "值班群", "kind": "wecom", "target": target, "purpose": "all"}),
            )
            .await
        }
    };
    for target in [
        hook.clone(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://localhost:6379/".into(),
        "http://[::1]/x".into(),
    ] {
        let res = channel(target.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{target}");
        let p: Value = res.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], "target", "{p}");
        assert!(p["errors"][0]["message"].as_str().unwrap().contains("WUJIA_WEBHOOK_ALLOW_HOSTS"), "{p}");
    }
    // A channel stored with a public address that later points here is refused when it is called.
    let res = channel("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-secret".into()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.raw_sql(&format!("UPDATE notification_channels SET target = '{hook}/robot-secret?key=robot-secret'")).await;
    let leaf = crate::api::category_id(&app, &staff, "utilities.supply.power").await;
    app.create_request(&staff, &json!({"category_id": leaf, "description": "6号院停电", "location": "6号院"})).await;
    let report = wujia_web::run_jobs_once(&app.state).await.unwrap();
    assert_eq!(report.delivered, 0);
    assert!(seen.lock().unwrap().is_empty(), "the robot on this machine was never called");
    let d = &app.get_json(&staff, "/api/v1/deliveries").await[0];
    let error = d["last_error"].as_str().unwrap();
    assert!(error.contains("WUJIA_WEBHOOK_ALLOW_HOSTS") && !error.contains("robot-secret"), "{error}");
    assert!(!d.to_string().contains("robot-secret"), "no key in the path or query of a listed delivery: {d}");
}
