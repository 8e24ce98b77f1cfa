//! Hostile spreadsheets posted by staff to the registry import (also as a dry run) and to the 12345 import, on
//! SQLite and PostgreSQL: a 2 KB file declaring every cell of Excel and a file claiming to unpack to a gigabyte
//! are refused with a problem naming the limit, and the server answers afterwards.

use crate::common::{TestApp, problem};
use reqwest::StatusCode;
use std::io::{Cursor, Read, Write};

on_both!(a_spreadsheet_declaring_every_cell_of_excel_is_refused_and_the_server_answers);

/// A workbook as spreadsheet programs write it (header and one row), with each part passed through `patch`.
fn workbook(patch: impl Fn(&str, Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let columns = [
        ("小区(院)", "琉璃井路3号院"),
        ("楼号", "7"),
        ("单元", "2"),
        ("房号", "301"),
        ("姓名", "张三"),
        ("性别", "男"),
        ("出生日期", "1958-03-14"),
    ];
    for (c, (h, v)) in columns.into_iter().enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
        sheet.write_string(1, c as u16, v).unwrap();
    }
    let plain = book.save_to_buffer().unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(plain)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let name = part.name().to_string();
        let mut bytes = Vec::new();
        part.read_to_end(&mut bytes).unwrap();
        out.start_file(name.as_str(), options).unwrap();
        out.write_all(&patch(&name, bytes)).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// The workbook with its sheet's XML changed by `edit`.
fn with_sheet(edit: impl Fn(String) -> String) -> Vec<u8> {
    workbook(|name, bytes| {
        if name == "xl/worksheets/sheet1.xml" { edit(String::from_utf8(bytes).unwrap()).into_bytes() } else { bytes }
    })
}

/// The sheet's used range declared as all of Excel, A1:XFD1048576.
fn every_cell_declared(xml: String) -> String {
    let start = xml.find("<dimension ref=\"").unwrap() + "<dimension ref=\"".len();
    let end = start + xml[start..].find('"').unwrap();
    format!("{}A1:XFD1048576{}", &xml[..start], &xml[end..])
}

/// A workbook whose sheet declares (in the local header and the central directory) that it unpacks to 1 GiB.
fn claims_a_gigabyte() -> Vec<u8> {
    let mut zip = workbook(|_, bytes| bytes);
    let part = b"xl/worksheets/sheet1.xml";
    let u16_at = |z: &[u8], at: usize| usize::from(u16::from_le_bytes([z[at], z[at + 1]]));
    for at in 0..zip.len() - 46 {
        let (size_at, name_len, name_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (at + 22, u16_at(&zip, at + 26), at + 30),
            b"PK\x01\x02" => (at + 24, u16_at(&zip, at + 28), at + 46),
            _ => continue,
        };
        if zip.get(name_at..name_at + name_len) == Some(&part[..]) {
            zip[size_at..size_at + 4].copy_from_slice(&(1u32 << 30).to_le_bytes());
        }
    }
    zip
}

async fn a_spreadsheet_declaring_every_cell_of_excel_is_refused_and_the_server_answers(app: TestApp) {
    let staff = app.token("zhangli").await;
    let declared = with_sheet(every_cell_declared);
    assert!(declared.len() < 8 * 1024, "a small file: {} bytes", declared.len());
    // The declared range costs nothing: the one row is read and imported.
    let post = |path: &str, body: Vec<u8>| app.client.post(app.url(path)).bearer_auth(&staff).body(body).send();
    for path in ["/api/v1/registry/imports?dry_run=true", "/api/v1/registry/imports"] {
        let res = post(path, declared.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}: {}", res.text().await.unwrap());
    }
    let (status, p) = problem(post("/api/v1/requests/imports", declared.clone()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not the city's columns: {p}");
    let summary = app.get_json(&staff, "/api/v1/registry/summary").await;
    assert!(summary["residents"].as_i64().unwrap() > 0, "{summary}");

    // One stray cell in Excel's last column, as well as the whole range declared.
    let stray = with_sheet(|xml| {
        every_cell_declared(xml)
            .replace("</row></sheetData>", r#"<c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>"#)
    });
    let cases: [(&str, &Vec<u8>, &[&str]); 6] = [
        ("/api/v1/registry/imports?dry_run=true", &stray, &["XFD", "64"]),
        ("/api/v1/registry/imports", &stray, &["XFD", "64"]),
        ("/api/v1/requests/imports", &stray, &["XFD", "64"]),
        ("/api/v1/registry/imports?dry_run=true", &claims_a_gigabyte(), &["256 MiB"]),
        ("/api/v1/registry/imports", &claims_a_gigabyte(), &["256 MiB"]),
        ("/api/v1/requests/imports", &claims_a_gigabyte(), &["256 MiB"]),
    ];
    for (path, body, names) in cases {
        let (status, p) = problem(post(path, body.clone()).await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {p}");
        let e = &p["errors"][0];
        assert_eq!(e["field"], "file", "{path}: {p}");
        let message = e["message"].as_str().unwrap();
        for name in names {
            assert!(message.contains(name), "{path}: the problem names the limit ({name}): {p}");
        }
        assert!(message.contains("上限") || message.contains("超"), "in Chinese: {message}");
        assert!(message.contains("more than"), "in English: {message}");
    }
    let after = app.get_json(&staff, "/api/v1/registry/summary").await;
    assert_eq!(after["residents"], summary["residents"], "the server still answers and nothing more was written");
}
