//! Integration on SQLite and PostgreSQL, playing the attacker: formula injection through the exports.

use crate::common::TestApp;
use calamine::{Data, Reader, Xlsx};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_resident_named_as_a_formula_is_text_in_the_registry_csv_and_xlsx,
    a_formula_in_an_attendance_list_is_text,
    a_formula_in_the_governance_report_is_text,
    an_import_with_a_formula_cell_is_refused,
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
    let cells: Vec<String> = table.into_iter().flatten().collect();
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
