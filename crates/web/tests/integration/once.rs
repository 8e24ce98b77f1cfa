//! What the product does once holds under concurrency, and text that no database or XML parser takes reaches
//! neither (issue 15, points 2 and 5).

use crate::common::{TestApp, problem, python};
use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_same_order_file_posted_twice_at_once_is_taken_in_once,
    the_order_import_keeps_the_api_limits_and_names_the_row_excel_shows,
    a_finding_sent_twice_at_once_is_recorded_once,
    control_characters_are_refused_at_the_edge_naming_the_field,
    out_of_range_coordinates_are_refused_naming_the_field,
    open311_xml_stays_well_formed_whatever_the_database_holds,
);

const HEADER: &str = "工单编号,受理时间,诉求类别,诉求内容,地址,联系人,联系电话,主办单位,协办单位,办结时限";

fn orders_file(n: usize) -> String {
    let mut file = format!("{HEADER}\n");
    for i in 0..n {
        file.push_str(&format!("BJ20240226{i:05},2024-02-26 08:{:02},停电,{i} 号楼停电,琉璃井路3号院,,,,,\n", i % 60));
    }
    file
}

async fn post_orders(app: &TestApp, token: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.client.post(app.url("/api/v1/requests/imports")).bearer_auth(token).body(body).send().await.unwrap()
}

fn issues(p: &Value) -> Vec<(i64, String)> {
    p["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {p}"))
        .iter()
        .map(|e| (e["row"].as_i64().unwrap_or(0), e["field"].as_str().unwrap().to_string()))
        .collect()
}

async fn hotline_count(app: &TestApp, token: &str) -> usize {
    app.get_json(token, "/api/v1/requests?channel=hotline_12345&limit=500").await.as_array().unwrap().len()
}

async fn the_same_order_file_posted_twice_at_once_is_taken_in_once(app: TestApp) {
    let staff = app.token("zhangli").await;
    let file = orders_file(50);
    let (a, b) = tokio::join!(post_orders(&app, &staff, file.clone()), post_orders(&app, &staff, file.clone()));
    let mut created = 0;
    for res in [a, b] {
        match res.status() {
            StatusCode::OK => {
                let done: Value = res.json().await.unwrap();
                created += done["created"].as_i64().unwrap();
            }
            StatusCode::CONFLICT => {
                let (_, p) = problem(res).await;
                assert!(p["detail"].as_str().unwrap().contains("BJ20240226"), "the conflict names the order: {p}");
            }
            other => panic!("an import answered {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!(created, 50);
    assert_eq!(hotline_count(&app, &staff).await, 50, "50 orders, 50 requests");
    // Posted again afterwards, every order is already known.
    let again: Value = post_orders(&app, &staff, file).await.json().await.unwrap();
    assert_eq!((again["created"].as_i64(), again["already_known"].as_i64()), (Some(0), Some(50)));
}

/// An XLSX whose cells are placed at the given (row, column), both counted from 0 as Excel's A1 is (0, 0).
fn xlsx(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, c, v) in cells {
        sheet.write_string(*r, *c, *v).unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn xlsx_row(row: u32, values: &[&'static str]) -> Vec<(u32, u16, &'static str)> {
    values.iter().enumerate().map(|(c, v)| (row, c as u16, *v)).collect()
}

async fn the_order_import_keeps_the_api_limits_and_names_the_row_excel_shows(app: TestApp) {
    let staff = app.token("zhangli").await;
    // A description longer than the API takes is refused, not stored.
    let long = format!("{HEADER}\nBJ1,2024-02-26 08:15,停电,{},琉璃井路3号院,,,,,\n", "停".repeat(2001));
    let (status, p) = problem(post_orders(&app, &staff, long).await).await;
    assert_eq!((status, issues(&p)), (StatusCode::UNPROCESSABLE_ENTITY, vec![(2, "诉求内容".to_string())]));
    // An order received after now (2024-02-26 09:30 in Beijing) is refused.
    let future = format!("{HEADER}\nBJ1,2024-02-27 08:15,停电,停电,琉璃井路3号院,,,,,\n");
    let (status, p) = problem(post_orders(&app, &staff, future).await).await;
    assert_eq!((status, issues(&p)), (StatusCode::UNPROCESSABLE_ENTITY, vec![(2, "受理时间".to_string())]));
    // A CSV's blank line is a row Excel shows.
    let csv = format!(
        "{HEADER}\nBJ1,2024-02-26 08:15,停电,停电,琉璃井路3号院,,,,,\n\nBJ2,2024-02-26 08:15,外星人,停电,琉璃井路3号院,,,,,\n"
    );
    let (_, p) = problem(post_orders(&app, &staff, csv).await).await;
    assert_eq!(issues(&p), [(4, "诉求类别".to_string())]);
    // An XLSX whose first rows are empty, with a blank row and a stray note: Excel's row numbers.
    let header: Vec<&str> = HEADER.split(',').collect();
    let mut cells = vec![(0, 12, "导出于 2024-02-26")];
    cells.extend(xlsx_row(2, &header));
    cells.extend(xlsx_row(3, &["BJ1", "2024-02-26 08:15", "停电", "停电", "琉璃井路3号院"]));
    cells.extend(xlsx_row(5, &["BJ2", "2024-02-26 08:15", "外星人", "停电", "琉璃井路3号院"]));
    let (status, p) = problem(post_orders(&app, &staff, xlsx(&cells)).await).await;
    assert_eq!((status, issues(&p)), (StatusCode::UNPROCESSABLE_ENTITY, vec![(6, "诉求类别".to_string())]));
    // A header naming a column twice is refused: which of the two is the order number?
    let twice = "工单编号,受理时间,诉求类别,诉求内容,地址,工单编号\nBJ1,2024-02-26 08:15,停电,停电,琉璃井路3号院,BJ9\n";
    let (status, p) = problem(post_orders(&app, &staff, twice).await).await;
    assert_eq!((status, issues(&p)), (StatusCode::UNPROCESSABLE_ENTITY, vec![(1, "工单编号".to_string())]));
    assert_eq!(hotline_count(&app, &staff).await, 0, "nothing was written");
}

async fn a_finding_sent_twice_at_once_is_recorded_once(app: TestApp) {
    app.clock.set(Shanghai.with_ymd_and_hms(2024, 2, 26, 7, 40, 0).unwrap().with_timezone(&Utc));
    let staff = app.token("zhangli").await;
    let ma = app.token("patrol_ma").await;
    let hits =
        app.get_json(&staff, "/api/v1/households?q=3%E5%8F%B7%E9%99%A27%E5%8F%B7%E6%A5%BC1%E5%8D%95%E5%85%83102").await;
    let hu = hits[0]["household_id"].as_i64().unwrap();
    let send = || {
        let form = reqwest::multipart::Form::new()
            .text("kind", "window_guard")
            .text("household_id", hu.to_string())
            .text("note", "低层外扩护栏")
            .text("client_id", "phone-7f3a-0002");
        app.client.post(app.url("/api/v1/patrol/findings")).bearer_auth(&ma).multipart(form).send()
    };
    let (a, b) = tokio::join!(send(), send());
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CREATED], "one recorded, the other answered with it");
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    let all = app.get_json(&staff, "/api/v1/patrol/findings").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
}

async fn control_characters_are_refused_at_the_edge_naming_the_field(app: TestApp) {
    // The unauthenticated login: a NUL is a client mistake naming the field, not a server fault.
    let (status, p) = problem(
        app.send(Method::POST, "", "/api/v1/sessions", &json!({"username": "zhang\u{0}li", "password": "x"})).await,
    )
    .await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("username")));
    let res = app
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=zhang%00li&password=x")
        .send()
        .await
        .unwrap();
    let (status, p) = problem(res).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("username")));
    let res = app.client.get(app.url("/api/v1/households?q=%00")).bearer_auth(app.token("zhangli").await).send();
    let (status, p) = problem(res.await.unwrap()).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("q")));

    // A description with U+0001 is refused, nested fields are named by their path, and newlines and tabs pass.
    let staff = app.token("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let leaf = cats.as_array().unwrap().iter().find(|c| c["code"] == "property.repair.elevator").unwrap()["id"].clone();
    let body = json!({"category_id": leaf, "description": "电梯\u{1}停了", "location": "3号院"});
    let (status, p) = problem(app.send(Method::POST, &staff, "/api/v1/requests", &body).await).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("description")));
    let body =
        json!({"category_id": leaf, "description": "电梯", "location": "3号院", "answers": {"楼层": "三\u{7f}"}});
    let (status, p) = problem(app.send(Method::POST, &staff, "/api/v1/requests", &body).await).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("answers.楼层")));
    app.create_request(&staff, &json!({"category_id": leaf, "description": "电梯\n\t停了", "location": "3号院"})).await;

    // A multipart form (a patrol finding) is read the same way.
    let ma = app.token("patrol_ma").await;
    let form = reqwest::multipart::Form::new().text("kind", "window_guard").text("note", "护栏\u{0}");
    let res = app.client.post(app.url("/api/v1/patrol/findings")).bearer_auth(&ma).multipart(form).send();
    let (status, p) = problem(res.await.unwrap()).await;
    assert_eq!((status, p["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));

    // Open311's form body too.
    let key = open311_key(&app).await;
    let res = open311_post(
        &app,
        format!("api_key={key}&service_code=property.repair.elevator&address_string=x&description=%01"),
    )
    .await;
    assert_eq!(res.status().as_u16() / 100, 4);
    assert!(res.text().await.unwrap().contains("description"));
    let list = app.get_json(&staff, "/api/v1/requests?channel=open311").await;
    assert!(list.as_array().unwrap().is_empty(), "{list}");
}

async fn open311_key(app: &TestApp) -> String {
    let admin = app.token("admin").await;
    let zhangli = app.user_id_of("zhangli").await;
    let key: Value = app
        .send(Method::POST, &admin, "/api/v1/api_tokens", &json!({"name": "街道 12345 对接", "user_id": zhangli}))
        .await
        .json()
        .await
        .unwrap();
    key["token"].as_str().unwrap().to_string()
}

async fn open311_post(app: &TestApp, body: String) -> reqwest::Response {
    app.client
        .post(app.url("/open311/v2/requests.json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn out_of_range_coordinates_are_refused_naming_the_field(app: TestApp) {
    let key = open311_key(&app).await;
    for (lat, long, field) in
        [("91", "116.4", "lat"), ("39.9", "181", "long"), ("1e308", "116.4", "lat"), ("39.9", "NaN", "long")]
    {
        let res = open311_post(
            &app,
            format!("api_key={key}&service_code=property.repair.elevator&lat={lat}&long={long}&description=y"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "lat={lat} long={long}");
        let err: Value = res.json().await.unwrap();
        assert!(err[0]["description"].as_str().unwrap().starts_with(field), "{lat},{long}: {err}");
    }
    let res = open311_post(
        &app,
        format!("api_key={key}&service_code=property.repair.elevator&lat=39.8712&long=116.4021&description=y"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let staff = app.token("zhangli").await;
    let list = app.get_json(&staff, "/api/v1/requests?channel=open311").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "only the good one was taken in");
}

async fn open311_xml_stays_well_formed_whatever_the_database_holds(app: TestApp) {
    let key = open311_key(&app).await;
    let staff = app.token("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let leaf = cats.as_array().unwrap().iter().find(|c| c["code"] == "property.repair.elevator").unwrap()["id"].clone();
    let row =
        app.create_request(&staff, &json!({"category_id": leaf, "description": "电梯停了", "location": "3号院"})).await;
    // Text written before intake refused control characters.
    let chr = match app.backend {
        crate::common::Backend::Sqlite => "char",
        crate::common::Backend::Postgres => "chr",
    };
    app.raw_sql(&format!(
        "UPDATE service_requests SET description = 'a' || {chr}(1) || 'b' || {chr}(27) || '<&>' WHERE id = {}",
        row["id"]
    ))
    .await;
    let xml = app
        .client
        .get(app.url(&format!("/open311/v2/requests.xml?api_key={key}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out = python(
        "import sys, xml.etree.ElementTree as E\n\
         root = E.fromstring(sys.argv[1].encode())\n\
         print(root.find('request/description').text)",
        &[&xml],
    );
    assert_eq!(out.trim(), "ab<&>");
}
