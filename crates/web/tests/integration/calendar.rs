//! The holiday calendar: the shipped State Council arrangements checked day by day against chinesecalendar,
//! deadlines across the 2026 Spring Festival, the warnings when a year is missing, seeding an existing database,
//! and the page that extends the calendar.

use crate::common::{Backend, TestApp, hidden, python};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use wujia_store::{SecretKey, Store};

on_both!(
    every_shipped_year_matches_chinesecalendar_day_by_day,
    a_one_day_limit_before_the_2026_spring_festival_falls_on_the_makeup_saturday,
    the_dashboard_and_the_duty_wall_warn_when_a_year_is_missing,
    an_existing_database_missing_2026_gets_it_after_migrate,
    admins_extend_the_calendar_on_its_page,
    the_official_list_is_imported_through_the_api_all_or_nothing,
);

fn beijing(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Shanghai.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap().with_timezone(&Utc)
}

/// The entries of a year as the API lists them: date → kind.
async fn entries(app: &TestApp, token: &str, year: i32) -> BTreeMap<NaiveDate, String> {
    let days = app.get_json(token, &format!("/api/v1/calendar?year={year}")).await;
    days.as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap().parse().unwrap(), d["kind"].as_str().unwrap().to_string()))
        .collect()
}

/// Prints, for every day of the years chinesecalendar covers, `YYYY-MM-DD W` (a working day) or `R` (a day off).
const CHINESE_CALENDAR: &str = r#"
import datetime
import chinese_calendar
from chinese_calendar.constants import holidays, workdays
years = sorted({d.year for d in holidays} | {d.year for d in workdays})
print("years", " ".join(str(y) for y in years))
day = datetime.date(years[0], 1, 1)
while day.year <= years[-1]:
    print(day.isoformat(), "W" if chinese_calendar.is_workday(day) else "R")
    day += datetime.timedelta(days=1)
"#;

async fn every_shipped_year_matches_chinesecalendar_day_by_day(app: TestApp) {
    let token = app.token("zhangli").await;
    let out = python(CHINESE_CALENDAR, &[]);
    let mut lines = out.lines();
    let theirs_years: Vec<i32> =
        lines.next().unwrap().strip_prefix("years ").unwrap().split(' ').map(|y| y.parse().unwrap()).collect();
    // Every year the maintained source has published, we ship (a newer chinesecalendar with 2027 fails here).
    let shipped: Vec<i32> = wujia_core::requests::shipped_arrangements().iter().map(|y| y.year).collect();
    assert_eq!(theirs_years, shipped, "the years chinesecalendar covers and the years we ship");
    let mut ours: BTreeMap<NaiveDate, String> = BTreeMap::new();
    for year in &shipped {
        ours.extend(entries(&app, &token, *year).await);
    }
    let mut differences = Vec::new();
    let mut days = 0;
    for line in lines {
        let (date, status) = line.split_once(' ').unwrap();
        let date: NaiveDate = date.parse().unwrap();
        let working = match ours.get(&date).map(String::as_str) {
            Some("workday") => true,
            Some("holiday") => false,
            Some(other) => panic!("{date}: unknown kind {other}"),
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        };
        days += 1;
        if working != (status == "W") {
            differences.push(date.to_string());
        }
    }
    assert_eq!(days, (2004..=2026).map(|y| if y % 4 == 0 { 366 } else { 365 }).sum::<i32>());
    // One known difference, where we follow the notice: the 2006 notice (国办发明电〔2005〕35号) made Saturday
    // 31 December 2005 a working day ("12月31日(星期六)上班"); chinesecalendar 1.11.0 has it as a day off
    // (its issue #125).
    assert_eq!(differences, ["2005-12-31"], "days where the shipped calendar and chinesecalendar disagree");
}

async fn a_one_day_limit_before_the_2026_spring_festival_falls_on_the_makeup_saturday(app: TestApp) {
    // Friday 13 February 2026, 16:00 in Beijing: the Spring Festival runs 15–23 February, Saturday 14 February
    // and Saturday 28 February are make-up working days.
    app.clock.set(beijing(2026, 2, 13, 16));
    let staff = app.token("zhangli").await;
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let general = cats.as_array().unwrap().iter().find(|c| c["code"] == "other.general.suggestion").unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = app
        .create_request(&staff, &json!({"category_id": general, "description": "节前建议", "location": "广场"}))
        .await;
    let due = |k: &str| r[k].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert_eq!(due("respond_due"), beijing(2026, 2, 14, 16), "one working day: the make-up Saturday");
    // Seven: the 14th, then 24–27 February, the make-up Saturday the 28th, and Monday 2 March.
    assert_eq!(due("resolve_due"), beijing(2026, 3, 2, 16));
}

/// The staff's token and a logged-in browser, with the clock at `at` (sessions do not survive a jump of years).
async fn staff_at(app: &TestApp, at: DateTime<Utc>) -> (String, reqwest::Client) {
    app.clock.set(at);
    (app.token("zhangli").await, app.browser("zhangli").await)
}

async fn page(app: &TestApp, browser: &reqwest::Client, path: &str) -> String {
    browser.get(app.url(path)).send().await.unwrap().text().await.unwrap()
}

async fn the_dashboard_and_the_duty_wall_warn_when_a_year_is_missing(app: TestApp) {
    // June 2026: the year is covered and December is far.
    let (staff, browser) = staff_at(&app, beijing(2026, 6, 15, 9)).await;
    assert_eq!(app.get_json(&staff, "/api/v1/dashboard").await["calendar_warning"], Value::Null);
    assert_eq!(app.get_json(&staff, "/api/v1/duty_wall").await["calendar_warning"], Value::Null);
    assert!(!page(&app, &browser, "/dashboard").await.contains("calendar-warning"));
    assert!(!page(&app, &browser, "/duty").await.contains("calendar-warning"));

    // 1 December 2026: 2027 has no arrangement yet.
    let (staff, browser) = staff_at(&app, beijing(2026, 12, 1, 9)).await;
    for path in ["/api/v1/dashboard", "/api/v1/duty_wall"] {
        let w = &app.get_json(&staff, path).await["calendar_warning"];
        assert_eq!((w["year"].as_i64(), w["urgency"].as_str()), (Some(2027), Some("upcoming")), "{path}: {w}");
        assert!(w["message"].as_str().unwrap().starts_with("2027 年的节假日安排尚未录入"), "{w}");
        assert_eq!(w["href"], "/admin/calendar?year=2027");
    }
    let english = app
        .client
        .get(app.url("/api/v1/duty_wall"))
        .bearer_auth(&staff)
        .header("cookie", "wujia_lang=en")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(english["calendar_warning"]["message"].as_str().unwrap().contains("for 2027 has not been recorded"));
    for path in ["/dashboard", "/duty"] {
        let html = page(&app, &browser, path).await;
        assert!(html.contains("id=\"calendar-warning\""), "{path}");
        assert!(html.contains("2027 年的节假日安排尚未录入") && html.contains("href=\"/admin/calendar?year=2027\""));
    }

    // January 2027 without it: urgent, deadlines are being counted on weekends alone.
    let (staff, browser) = staff_at(&app, beijing(2027, 1, 4, 9)).await;
    let w = &app.get_json(&staff, "/api/v1/dashboard").await["calendar_warning"];
    assert_eq!((w["year"].as_i64(), w["urgency"].as_str()), (Some(2027), Some("urgent")));
    assert!(page(&app, &browser, "/duty").await.contains("role=\"alert\" id=\"calendar-warning\""));

    // Once an admin records 2027, the warning goes.
    let admin = app.token("admin").await;
    let res = app
        .client
        .post(app.url("/api/v1/calendar/import"))
        .bearer_auth(&admin)
        .body("2027-01-01,holiday,元旦\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get_json(&staff, "/api/v1/dashboard").await["calendar_warning"], Value::Null);
    assert!(!page(&app, &browser, "/dashboard").await.contains("calendar-warning"));
}

async fn an_existing_database_missing_2026_gets_it_after_migrate(app: TestApp) {
    let token = app.token("zhangli").await;
    let shipped_2026 = entries(&app, &token, 2026).await;
    assert_eq!(shipped_2026.values().filter(|k| *k == "holiday").count(), 33);
    assert_eq!(shipped_2026.values().filter(|k| *k == "workday").count(), 6);
    // A database from before this version: only 2024 and 2025, no record of years, and an admin's own change of
    // 2025 (8 October returned to a working day).
    for sql in [
        "DROP TABLE calendar_years",
        "DELETE FROM _sqlx_migrations WHERE version = 17",
        "DELETE FROM calendar_days WHERE day < '2024-01-01' OR day >= '2026-01-01'",
        "DELETE FROM calendar_days WHERE day = '2025-10-08'",
    ] {
        app.raw_sql(sql).await;
    }
    assert!(entries(&app, &token, 2026).await.is_empty());
    let key = || SecretKey::from_bytes([42; 32]);
    let (a, b) = (
        Store::connect(&app.database_url, &key()).await.unwrap(),
        Store::connect(&app.database_url, &key()).await.unwrap(),
    );
    if app.backend == Backend::Postgres {
        // Two nodes start at once.
        let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
        ra.unwrap();
        rb.unwrap();
    } else {
        // SQLite serves one node; a second start finds everything done.
        a.migrate().await.unwrap();
        b.migrate().await.unwrap();
    }
    assert_eq!(entries(&app, &token, 2026).await, shipped_2026, "2026 as shipped");
    assert_eq!(entries(&app, &token, 2010).await.len(), 37, "and the years before 2024");
    let y2025 = entries(&app, &token, 2025).await;
    assert!(!y2025.contains_key(&NaiveDate::from_ymd_opt(2025, 10, 8).unwrap()), "the admin's change stays");
    assert_eq!(y2025.len(), 32);
    // Once more changes nothing.
    a.migrate().await.unwrap();
    assert_eq!(entries(&app, &token, 2025).await, y2025);
    let years = a.calendar_years().await.unwrap();
    assert_eq!(years.iter().copied().collect::<Vec<_>>(), (2004..=2026).collect::<Vec<_>>());
    a.close().await;
    b.close().await;
}

async fn admins_extend_the_calendar_on_its_page(app: TestApp) {
    app.clock.set(beijing(2026, 12, 1, 9));
    let admin_token = app.token("admin").await;
    let admin = app.browser("admin").await;
    let get = |path: String| {
        let admin = admin.clone();
        async move { admin.get(path).send().await.unwrap() }
    };
    let page = get(app.url("/admin/calendar")).await.text().await.unwrap();
    assert!(page.contains("href=\"/admin/calendar\""), "in the admin navigation");
    assert!(page.contains("节假日 · 2027") && page.contains("id=\"calendar-warning\""), "opens on the missing year");
    let csrf = hidden(&page, "csrf");

    // A holiday span with its make-up working days.
    let res = admin
        .post(app.url("/admin/calendar/span"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "春节"),
            ("from", "2027-02-06"),
            ("to", "2027-02-12"),
            ("workdays", "2027-02-14, 2027-02-20"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("已录入 9 天（2027 年）"), "{html}");
    let y2027 = entries(&app, &admin_token, 2027).await;
    assert_eq!(y2027.len(), 9);
    assert_eq!(y2027[&NaiveDate::from_ymd_opt(2027, 2, 20).unwrap()], "workday");
    assert!(!html.contains("calendar-warning"), "2027 is recorded now");

    // A span with a make-up day inside it is refused by field, and nothing is written.
    let res = admin
        .post(app.url("/admin/calendar/span"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "劳动节"),
            ("from", "2027-05-01"),
            ("to", "2027-05-05"),
            ("workdays", "2027-05-03"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("2027-05-03 在假期之内"), "{html}");
    assert!(html.contains("value=\"劳动节\""), "what was typed is kept");
    assert_eq!(entries(&app, &admin_token, 2027).await.len(), 9);

    // The official list pasted: a bad row refuses it all, by row number.
    let import = |lines: &'static str, csrf: String| {
        let admin = admin.clone();
        let url = app.url("/admin/calendar/import");
        async move {
            let form = reqwest::multipart::Form::new().text("csrf", csrf).text("lines", lines);
            admin.post(url).multipart(form).send().await.unwrap()
        }
    };
    let res = import(
        "日期,类型,名称\n2027-01-01,holiday,元旦\n2027-13-01,holiday,元旦\n2027-01-04,rest,元旦\n",
        csrf.clone(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("第 3 行：日期应为 YYYY-MM-DD") && html.contains("第 4 行：类型应为"), "{html}");
    assert_eq!(entries(&app, &admin_token, 2027).await.len(), 9, "nothing half-written");
    let res = import("2027-01-01,holiday,元旦\n2027-01-02,休,元旦\n2027-01-03,holiday,元旦\n", csrf.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("已录入 3 天"));
    assert_eq!(entries(&app, &admin_token, 2027).await.len(), 12);
    // A CSV file, in GBK as Excel saves it.
    let (gbk, _, _) = encoding_rs::GBK.encode("2027-04-05,holiday,清明节\n");
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(gbk.into_owned()).file_name("2027.csv"));
    let res = admin.post(app.url("/admin/calendar/import")).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(entries(&app, &admin_token, 2027).await[&NaiveDate::from_ymd_opt(2027, 4, 5).unwrap()], "holiday");

    // Removing an entry; without the form's token nothing changes.
    let res = admin.post(app.url("/admin/calendar/2027-01-03/remove")).form(&[("csrf", "wrong")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res =
        admin.post(app.url("/admin/calendar/2027-01-03/remove")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.url().as_str().ends_with("/admin/calendar?year=2027"));
    assert!(!entries(&app, &admin_token, 2027).await.contains_key(&NaiveDate::from_ymd_opt(2027, 1, 3).unwrap()));

    // The English page, and staff who are not admins do not get it.
    let page = get(app.url("/lang/en?next=/admin/calendar?year=2027")).await.text().await.unwrap();
    assert!(page.contains("Holidays · 2027") && page.contains("Import the official list"), "{page}");
    let staff = app.browser("zhangli").await;
    assert_eq!(staff.get(app.url("/admin/calendar")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

async fn the_official_list_is_imported_through_the_api_all_or_nothing(app: TestApp) {
    app.clock.set(beijing(2026, 12, 31, 10));
    let admin = app.token("admin").await;
    let staff = app.token("zhangli").await;
    let post = |token: &str, body: &'static str| {
        app.client.post(app.url("/api/v1/calendar/import")).bearer_auth(token).body(body).send()
    };
    assert_eq!(post(&staff, "2027-01-01,holiday,元旦\n").await.unwrap().status(), StatusCode::FORBIDDEN);
    let res = post(&admin, "2027-01-01,holiday,元旦\n2027-01-01,workday,元旦\nx\n").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = res.json().await.unwrap();
    let rows: Vec<(i64, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(2, "date"), (3, "row")]);
    assert!(entries(&app, &admin, 2027).await.is_empty());
    let res = post(&admin, "2027-01-01,holiday,元旦\n2026-12-31,workday,元旦\n").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"entries": 2, "years": [2026, 2027]}));
    // A 2027 deadline is now counted with its 元旦: Thursday 31 December 2026 at 10:00, one working day, skips
    // Friday 1 January 2027.
    let cats = app.get_json(&staff, "/api/v1/categories").await;
    let general = cats.as_array().unwrap().iter().find(|c| c["code"] == "other.general.suggestion").unwrap()["id"]
        .as_i64()
        .unwrap();
    let r =
        app.create_request(&staff, &json!({"category_id": general, "description": "建议", "location": "广场"})).await;
    assert_eq!(r["respond_due"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), beijing(2027, 1, 4, 10));
}
