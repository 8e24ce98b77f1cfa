//! Registry files: reading residents from XLSX or CSV (UTF-8 or GBK/GB18030) and writing exports.
//!
//! Reading is pure: bytes in, checked rows or every row's errors out. The store then resolves addresses
//! and writes all rows in one transaction, or none.

use crate::registry::{FieldError, ResidentDraft, ResidentInput};
use calamine::Data;
use chrono::NaiveDate;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;

mod delimited;
mod limits;
mod xlsx;

pub use limits::{Limits, column_letters};

/// Largest file accepted for import, in bytes.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// The columns of a registry file: key, Chinese header, whether required.
pub const COLUMNS: &[(&str, &str, bool)] = &[
    ("compound", "小区(院)", true),
    ("building", "楼号", true),
    ("unit", "单元", true),
    ("room", "房号", true),
    ("name", "姓名", true),
    ("gender", "性别", false),
    ("birth_date", "出生日期", false),
    ("id_card", "身份证号", false),
    ("phone", "联系电话", false),
    ("origin", "来源社区", false),
    ("move_in_date", "入住日期", false),
    ("relation", "与户主关系", false),
    ("wedding_date", "结婚日期", false),
    ("tags", "标签", false),
];

/// Why a whole file was refused before any row was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Larger than [`MAX_IMPORT_BYTES`].
    #[error("文件过大(上限 {limit} 字节) / file is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Neither XLSX nor text CSV.
    #[error("文件类型不支持,请上传 XLSX 或 CSV / unsupported file type: upload XLSX or CSV")]
    WrongType,
    /// Text that is neither UTF-8 nor GB18030.
    #[error("文件编码无法识别,请另存为 UTF-8 或 GBK 的 CSV / unreadable text encoding: save as UTF-8 or GBK CSV")]
    Encoding,
    /// An XLSX or CSV that could not be parsed.
    #[error("文件已损坏或格式错误 / the file is damaged: {0}")]
    Damaged(String),
    /// No header row, or a required column missing.
    #[error("缺少必填列「{0}」/ missing required column {0}")]
    MissingColumn(String),
    /// No data rows.
    #[error("文件中没有数据行 / the file has no data rows")]
    Empty,
    /// More data rows than [`Limits::rows`].
    #[error(
        "数据超过 {limit} 行(到第 {row} 行),请分成几个文件导入 / more than {limit} data rows (at row {row}): split the file"
    )]
    TooManyRows {
        /// The limit.
        limit: usize,
        /// The first row past it, as the spreadsheet shows it.
        row: usize,
    },
    /// Used columns spanning more than [`Limits::columns`].
    #[error(
        "第 {row} 行的 {column} 列超出了 {limit} 列的范围,请删去多余的列 / cell {column}{row} makes the table more than {limit} columns wide: delete the extra columns"
    )]
    TooManyColumns {
        /// The limit.
        limit: usize,
        /// The row of the cell past it.
        row: usize,
        /// The column of that cell, in letters.
        column: String,
    },
    /// More cells than [`Limits::cells`].
    #[error(
        "表格超过 {limit} 个单元格(到第 {row} 行),请分成几个文件导入 / more than {limit} cells (at row {row}): split the file"
    )]
    TooManyCells {
        /// The limit.
        limit: usize,
        /// The row where it was passed.
        row: usize,
    },
    /// A cell longer than [`Limits::cell_chars`].
    #[error("第 {row} 行 {column} 列超过 {limit} 个字符 / cell {column}{row} is longer than {limit} characters")]
    CellTooLong {
        /// The limit.
        limit: usize,
        /// The row of the cell.
        row: usize,
        /// Its column, in letters.
        column: String,
    },
    /// An XLSX file unpacking to more than [`Limits::unpacked_bytes`].
    #[error("文件解压后超过 {} MiB(在「{part}」处),不像是正常的表格 / the file unpacks to more than {} MiB (at {part}): not an ordinary spreadsheet", limit / (1024 * 1024), limit / (1024 * 1024))]
    Unpacks {
        /// The limit in bytes.
        limit: u64,
        /// The part of the archive where it was passed.
        part: String,
    },
}

impl FileError {
    /// The spreadsheet row a limit was passed at, when the error is about one row.
    pub fn row(&self) -> Option<usize> {
        match self {
            Self::TooManyRows { row, .. }
            | Self::TooManyColumns { row, .. }
            | Self::TooManyCells { row, .. }
            | Self::CellTooLong { row, .. } => Some(*row),
            _ => None,
        }
    }
}

/// An error in one cell or row of a file; `row` is the spreadsheet row number (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Row number as the spreadsheet shows it.
    pub row: usize,
    /// Column header, in Chinese as in the template.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// A household address as a file gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct HouseholdKey {
    /// Compound name, e.g. `琉璃井路3号院`.
    pub compound: String,
    /// Building number.
    pub building: u32,
    /// Unit number.
    pub unit: u32,
    /// Room.
    pub room: String,
}

/// One checked row.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// Row number as the spreadsheet shows it.
    pub row: usize,
    /// Where the resident lives.
    pub household: HouseholdKey,
    /// The resident.
    pub resident: ResidentDraft,
}

/// One non-blank row of a file: the number a person sees for it (Excel's row number, or the CSV line, with
/// blank lines and rows above the data counted) and its cells as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Row number as the spreadsheet shows it, from 1.
    pub number: usize,
    /// The cells, from the sheet's first used column.
    pub cells: Vec<String>,
}

/// A file's non-blank rows, the header row first.
pub type Table = Vec<Row>;

/// Reads a file's cells within [`Limits::IMPORT`], detecting XLSX by content and CSV's encoding. Blank rows are
/// left out, but every row keeps the number a person sees for it.
pub fn read_table(bytes: &[u8]) -> Result<Table, FileError> {
    read_table_within(bytes, Limits::IMPORT)
}

/// Reads a file's cells within `limits`, refusing it at the first cell past one.
pub fn read_table_within(bytes: &[u8], limits: Limits) -> Result<Table, FileError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(FileError::TooLarge { limit: MAX_IMPORT_BYTES });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return xlsx::read(bytes, limits);
    }
    if bytes.contains(&0) || bytes.starts_with(b"%PDF") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(FileError::WrongType);
    }
    delimited::read(&decode_text(bytes)?, limits)
}

/// Decodes UTF-8 (with or without BOM) or, failing that, GB18030 (a superset of GBK).
pub fn decode_text(bytes: &[u8]) -> Result<String, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(FileError::Encoding);
    }
    Ok(text.into_owned())
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.as_datetime().map(|dt| dt.date().to_string()).unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// The rows that passed the file's own checks, and the errors of those that did not.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Good rows.
    pub rows: Vec<ImportRow>,
    /// Every error found, in row order.
    pub errors: Vec<RowError>,
}

/// Checks every data row; returns the good rows only when no row has an error.
pub fn parse_rows(table: &Table, today: NaiveDate) -> Result<Vec<ImportRow>, Vec<RowError>> {
    let parsed = check_rows(table, today)?;
    if parsed.errors.is_empty() { Ok(parsed.rows) } else { Err(parsed.errors) }
}

/// Checks every data row and keeps both the good rows and the errors, so that the registry checks can
/// still run on the good rows and a dry run reports every problem at once. Fails only for whole-file
/// problems (no header, a missing required column).
pub fn check_rows(table: &Table, today: NaiveDate) -> Result<Parsed, Vec<RowError>> {
    let header = table.first().ok_or_else(|| vec![file_error(FileError::Empty)])?;
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, h) in header.cells.iter().enumerate() {
        let h = h.trim();
        if let Some((key, _, _)) = COLUMNS.iter().find(|(k, zh, _)| *k == h || *zh == h) {
            index.insert(key, i);
        }
    }
    if let Some((_, zh, _)) = COLUMNS.iter().find(|(k, _, req)| *req && !index.contains_key(k)) {
        return Err(vec![file_error(FileError::MissingColumn((*zh).to_string()))]);
    }
    if table.len() < 2 {
        return Err(vec![file_error(FileError::Empty)]);
    }
    let mut rows = Vec::with_capacity(table.len() - 1);
    let mut errors = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    for Row { number: row, cells } in table.iter().skip(1) {
        let row = *row;
        let get =
            |key: &str| index.get(key).and_then(|&c| cells.get(c)).map(|s| s.trim().to_string()).unwrap_or_default();
        let mut row_errors: Vec<FieldError> = Vec::new();
        for (key, _, _) in COLUMNS {
            if crate::text::has_forbidden(&get(key)) {
                row_errors.push(FieldError::new(key, crate::text::FORBIDDEN_MESSAGE));
            } else if index.get(key).and_then(|&c| cells.get(c)).is_some_and(|s| is_formula_like(s)) {
                row_errors.push(FieldError::new(key, formula_message()));
            }
        }
        let compound = get("compound");
        if compound.is_empty() {
            row_errors.push(FieldError::new("compound", "不能为空 / required"));
        }
        let mut number = |key: &str| -> Option<u32> {
            let raw = get(key);
            let digits = raw.trim_end_matches(['号', '楼', '栋', '单', '元']);
            match digits.parse::<u32>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    row_errors
                        .push(FieldError::new(key, format!("应为正整数,实际为「{raw}」/ must be a positive number")));
                    None
                }
            }
        };
        let building = number("building");
        let unit = number("unit");
        let room = get("room");
        if room.is_empty() || room.chars().count() > 10 {
            row_errors.push(FieldError::new(
                "room",
                "房号不能为空且不超过 10 个字符 / room is required, at most 10 characters",
            ));
        }
        let input = ResidentInput {
            name: get("name"),
            gender: get("gender"),
            birth_date: get("birth_date"),
            id_card: get("id_card"),
            phone: get("phone"),
            origin: get("origin"),
            move_in_date: get("move_in_date"),
            relation: get("relation"),
            wedding_date: get("wedding_date"),
            tags: get("tags"),
        };
        let resident = input.parse(today).map_err(|e| row_errors.extend(e)).ok();
        if let Some(id) = resident.as_ref().and_then(|r| r.id_card.as_ref())
            && let Some(first) = seen_ids.insert(id.as_str().to_string(), row)
        {
            row_errors.push(FieldError::new(
                "id_card",
                format!("与第 {first} 行的身份证号重复 / same ID number as row {first}"),
            ));
        }
        if row_errors.is_empty() {
            rows.push(ImportRow {
                row,
                household: HouseholdKey {
                    compound,
                    building: building.expect("checked"),
                    unit: unit.expect("checked"),
                    room,
                },
                resident: resident.expect("checked"),
            });
        } else {
            errors.extend(row_errors.into_iter().map(|e| RowError {
                row,
                column: column_title(&e.field),
                message: e.message,
            }));
        }
    }
    Ok(Parsed { rows, errors })
}

/// The Chinese header of a column key (the key itself when unknown).
pub fn column_title(key: &str) -> String {
    COLUMNS.iter().find(|(k, _, _)| *k == key).map_or(key, |(_, zh, _)| zh).to_string()
}

fn file_error(e: FileError) -> RowError {
    RowError { row: 1, column: String::new(), message: e.to_string() }
}

/// Whether a spreadsheet program could read this cell as a formula (CSV or formula injection): it begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return. A plain number such as `-3`, `+8613800001234` or `-1.5` is not.
pub fn is_formula_like(cell: &str) -> bool {
    let Some(first) = cell.chars().next() else { return false };
    match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => {
            let rest = &cell[1..];
            let plain_number = rest.chars().any(|c| c.is_ascii_digit())
                && rest.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ' ');
            !(rest.is_empty() || plain_number)
        }
        _ => false,
    }
}

/// A cell as every writer puts it in a CSV or XLSX file: a formula-like cell gets a leading `'`, so that Excel,
/// WPS and LibreOffice show it as text and never run it (OWASP's advice for CSV injection).
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if is_formula_like(cell) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// The error an importer gives for a formula-like cell: files may not bring formulas into the registry.
pub fn formula_message() -> &'static str {
    "以 = + - @ 开头,可能是表格公式,请去掉开头的符号 / begins with = + - @ and could run as a spreadsheet formula: \
     remove the leading sign"
}

/// File formats for export and templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Office Open XML spreadsheet.
    Xlsx,
    /// UTF-8 CSV with a BOM, which Chinese Excel opens correctly.
    Csv,
}

impl Format {
    /// Parses `xlsx` or `csv`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "xlsx" => Some(Self::Xlsx),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Csv => "text/csv; charset=utf-8",
        }
    }
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write the file: {0}")]
pub struct WriteError(String);

/// Writes rows under the registry's Chinese headers.
pub fn write_table(format: Format, rows: &[Vec<String>]) -> Result<Vec<u8>, WriteError> {
    let header: Vec<&str> = COLUMNS.iter().map(|(_, zh, _)| *zh).collect();
    write_sheet(format, &header, rows)
}

/// One sheet of a workbook: its name, headers and rows.
pub type Sheet<'a> = (&'a str, Vec<&'a str>, Vec<Vec<String>>);

/// Writes several sheets into one XLSX workbook, every cell as text.
pub fn write_workbook(sheets: &[Sheet<'_>]) -> Result<Vec<u8>, WriteError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let err = |e: rust_xlsxwriter::XlsxError| WriteError(e.to_string());
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (name, header, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).map_err(err)?;
        for (c, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, neutralise(h), &bold).map_err(err)?;
            sheet.set_column_width(c as u16, 14).map_err(err)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string((r + 1) as u32, c as u16, neutralise(v)).map_err(err)?;
            }
        }
    }
    book.save_to_buffer().map_err(err)
}

/// Writes rows under the given headers, every cell as text (attendance lists, reports).
pub fn write_sheet(format: Format, header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, WriteError> {
    match format {
        Format::Csv => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(header.iter().map(|h| neutralise(h).into_owned()))
                    .map_err(|e| WriteError(e.to_string()))?;
                for r in rows {
                    w.write_record(r.iter().map(|v| neutralise(v).into_owned()))
                        .map_err(|e| WriteError(e.to_string()))?;
                }
                w.flush().map_err(|e| WriteError(e.to_string()))?;
            }
            Ok(out)
        }
        Format::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            let err = |e: rust_xlsxwriter::XlsxError| WriteError(e.to_string());
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (c, h) in header.iter().enumerate() {
                sheet.write_string_with_format(0, c as u16, neutralise(h), &bold).map_err(err)?;
                sheet
                    .set_column_width(c as u16, if *h == "身份证号" || h.contains("地址") { 24 } else { 12 })
                    .map_err(err)?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    // Text cells keep ID numbers and room numbers exactly as written; formulas never run.
                    sheet.write_string((r + 1) as u32, c as u16, neutralise(v)).map_err(err)?;
                }
            }
            book.save_to_buffer().map_err(err)
        }
    }
}

/// The import template: the header and one example row.
pub fn template(format: Format) -> Result<Vec<u8>, WriteError> {
    let example: Vec<String> = [
        "琉璃井路3号院",
        "7",
        "2",
        "301",
        "张三",
        "男",
        "1958-03-14",
        "",
        "13800001234",
        "望坛社区",
        "2023-04-20",
        "户主",
        "1982-10-01",
        "党员、志愿者",
    ]
    .map(String::from)
    .to_vec();
    write_table(format, &[example])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 2, 26).unwrap()
    }

    const CSV: &str = "小区(院),楼号,单元,房号,姓名,性别,出生日期,身份证号,联系电话\n\
        琉璃井路3号院,7,2,301,胡秀兰,,,11010519491231002X,13800001234\n\
        琉璃井路3号院,7,2,301,胡建国,男,1975-06-01,,\n";

    #[test]
    fn reads_a_utf8_csv() {
        let rows = parse_rows(&read_table(CSV.as_bytes()).unwrap(), today()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].household.room, "301");
        assert_eq!(rows[0].resident.name, "胡秀兰");
        assert_eq!(rows[1].row, 3);
    }

    #[test]
    fn rows_keep_the_number_excel_shows() {
        let csv = "a,b\n\n1,\"two\nlines\"\n,\n\n3,x\n";
        let numbers: Vec<usize> = read_table(csv.as_bytes()).unwrap().iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 3, 6]);
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(2, 1, "a").unwrap();
        sheet.write_string(4, 3, "b").unwrap();
        let xlsx = book.save_to_buffer().unwrap();
        let rows = read_table(&xlsx).unwrap();
        assert_eq!(rows.iter().map(|r| (r.number, r.cells.len())).collect::<Vec<_>>(), [(3, 3), (5, 3)]);
    }

    #[test]
    fn reads_a_gbk_csv_as_chinese_excel_saves_it() {
        let (gbk, _, _) = encoding_rs::GBK.encode(CSV);
        assert!(std::str::from_utf8(&gbk).is_err());
        let rows = parse_rows(&read_table(&gbk).unwrap(), today()).unwrap();
        assert_eq!(rows[1].resident.name, "胡建国");
    }

    #[test]
    fn reports_every_bad_row_with_its_column() {
        let csv = "小区(院),楼号,单元,房号,姓名,身份证号,联系电话\n\
            琉璃井路3号院,7,2,301,胡秀兰,110105194912310021,\n\
            琉璃井路3号院,x,2,301,胡建国,,12345\n\
            琉璃井路3号院,7,2,302,李四,11010519491231002X,\n\
            琉璃井路3号院,7,2,303,王五,11010519491231002X,\n";
        let errs = parse_rows(&read_table(csv.as_bytes()).unwrap(), today()).unwrap_err();
        let got: Vec<(usize, &str)> = errs.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            got,
            [
                (2, "身份证号"),
                (2, "出生日期"),
                (2, "性别"),
                (3, "楼号"),
                (3, "联系电话"),
                (3, "出生日期"),
                (3, "性别"),
                (5, "身份证号")
            ]
        );
    }

    #[test]
    fn refuses_files_that_are_not_tables() {
        assert_eq!(read_table(b"\x00\x01binary"), Err(FileError::WrongType));
        assert_eq!(read_table(b"%PDF-1.7"), Err(FileError::WrongType));
        assert_eq!(read_table(b"PK\x03\x04garbage"), Err(FileError::WrongType));
        assert_eq!(read_table(&[0xB0, 0xFF, 0xFF, 0x30]), Err(FileError::Encoding));
        let errs = parse_rows(&read_table("姓名\n张三\n".as_bytes()).unwrap(), today()).unwrap_err();
        assert!(errs[0].message.contains("小区(院)"));
    }

    #[test]
    fn the_xlsx_template_reads_back() {
        let bytes = template(Format::Xlsx).unwrap();
        let rows = parse_rows(&read_table(&bytes).unwrap(), today()).unwrap();
        assert_eq!(rows[0].household.compound, "琉璃井路3号院");
        assert_eq!(rows[0].resident.tags, ["党员", "志愿者"]);
        let csv = template(Format::Csv).unwrap();
        assert_eq!(parse_rows(&read_table(&csv).unwrap(), today()).unwrap().len(), 1);
    }

    #[test]
    fn formula_like_cells_are_written_as_text_in_csv_and_xlsx() {
        for bad in
            ["=HYPERLINK(\"http://evil.example\",\"点我\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
        {
            assert!(is_formula_like(bad), "{bad:?}");
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        for good in ["胡秀兰", "-3", "+8613800001234", "-1.5", "-", "", "'=already text", "a=b"] {
            assert!(!is_formula_like(good), "{good:?}");
            assert_eq!(neutralise(good), good);
        }
        let evil = "=HYPERLINK(\"http://evil.example\",\"点我\")".to_string();
        let rows = vec![vec![evil.clone(), "-3".into()]];
        let csv = write_sheet(Format::Csv, &["姓名", "数"], &rows).unwrap();
        let table = read_table(&csv).unwrap();
        assert_eq!(table[1].cells, [format!("'{evil}"), "-3".to_string()]);
        for bytes in [
            write_sheet(Format::Xlsx, &["姓名", "数"], &rows).unwrap(),
            write_workbook(&[("表", vec!["姓名", "数"], rows.clone())]).unwrap(),
        ] {
            assert_eq!(read_table(&bytes).unwrap()[1].cells, [format!("'{evil}"), "-3".to_string()]);
        }
    }

    #[test]
    fn an_import_refuses_formula_cells_naming_row_and_column() {
        let csv = "小区(院),楼号,单元,房号,姓名,联系电话\n\
            琉璃井路3号院,7,2,301,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"点我\"\")\",\n\
            琉璃井路3号院,7,2,302,@SUM(A1),+8613800001234\n";
        let errs = parse_rows(&read_table(csv.as_bytes()).unwrap(), today()).unwrap_err();
        let got: Vec<(usize, &str)> =
            errs.iter().filter(|e| e.message == formula_message()).map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(got, [(2, "姓名"), (3, "姓名")]);
    }
}
