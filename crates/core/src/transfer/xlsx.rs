//! Reading the first sheet of an XLSX file cell by cell. The file is a zip archive: before any part is parsed,
//! each part's declared size and then the bytes it really unpacks to are counted against the limit, so a small
//! file holding gigabytes of whitespace is refused without being held. The sheet is then streamed, so a sheet
//! declaring the whole A1:XFD1048576 range costs only the cells it holds.

use super::limits::{Limits, TableBuilder};
use super::{FileError, Table};
use calamine::{Data, DataRef, Reader, Xlsx};
use std::io::{Cursor, Read};

/// Reads the non-blank rows of the first sheet within `limits`.
pub(crate) fn read(bytes: &[u8], limits: Limits) -> Result<Table, FileError> {
    check_unpacked_size(bytes, limits)?;
    let damaged = |e: calamine::XlsxError| FileError::Damaged(e.to_string());
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|_| FileError::WrongType)?;
    let sheet = book.sheet_names().into_iter().next().ok_or(FileError::Empty)?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(damaged)?;
    let mut table = TableBuilder::new(limits);
    while let Some(cell) = cells.next_cell().map_err(damaged)? {
        let (row, column) = cell.get_position();
        table.push(row as usize + 1, column as usize, &cell_text(cell.get_value()))?;
    }
    Ok(table.finish())
}

/// The part holding the workbook's shared strings, which the reader keeps in memory.
const SHARED_STRINGS: &str = "xl/sharedStrings.xml";

/// Refuses an archive whose parts unpack to more than the limits: all together more than `unpacked_bytes`, or
/// its shared strings more than `strings_bytes`. First by the sizes its directory declares, then by inflating
/// each part through a reader that stops one byte past what is left, since a declared size may lie.
fn check_unpacked_size(bytes: &[u8], limits: Limits) -> Result<(), FileError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| FileError::WrongType)?;
    let damaged = |e: &dyn std::fmt::Display| FileError::Damaged(e.to_string());
    let refuse = |limit: u64, part: &str| FileError::Unpacks { limit, part: part.to_string() };
    let is_strings = |name: &str| name.eq_ignore_ascii_case(SHARED_STRINGS);
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).map_err(|e| damaged(&e))?;
        declared = declared.saturating_add(part.size());
        if is_strings(part.name()) && part.size() > limits.strings_bytes {
            return Err(refuse(limits.strings_bytes, part.name()));
        }
        if declared > limits.unpacked_bytes {
            return Err(refuse(limits.unpacked_bytes, part.name()));
        }
    }
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).map_err(|e| damaged(&e))?;
        let strings = is_strings(part.name());
        let left_in_file = limits.unpacked_bytes - unpacked;
        let left = if strings { left_in_file.min(limits.strings_bytes) } else { left_in_file };
        let read = std::io::copy(&mut part.by_ref().take(left + 1), &mut std::io::sink()).map_err(|e| damaged(&e))?;
        if read > left {
            let limit =
                if strings && read > limits.strings_bytes { limits.strings_bytes } else { limits.unpacked_bytes };
            return Err(refuse(limit, part.name()));
        }
        unpacked += read;
    }
    Ok(())
}

fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::SharedString(s) => s.trim().to_string(),
        DataRef::String(s) => s.trim().to_string(),
        other => super::cell_text(&Data::from(other.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A workbook whose one sheet holds `sheet_data` (the inside of `<sheetData>`) under `dimension`.
    fn workbook(dimension: &str, sheet_data: &str) -> Vec<u8> {
        let parts = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_string(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_string(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_string(),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>"#
                ),
            ),
        ];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in parts {
            zip.start_file(name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn inline(cell: &str, text: &str) -> String {
        format!(r#"<c r="{cell}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    #[test]
    fn a_sheet_declaring_every_cell_of_excel_costs_only_its_cells() {
        let data = format!(r#"<row r="1">{}</row><row r="2">{}</row>"#, inline("A1", "姓名"), inline("A2", "张三"));
        let bytes = workbook("A1:XFD1048576", &data);
        assert!(bytes.len() < 2048);
        let table = read(&bytes, Limits::IMPORT).unwrap();
        assert_eq!(
            table.iter().map(|r| (r.number, r.cells.clone())).collect::<Vec<_>>(),
            [(1, vec!["姓名".to_string()]), (2, vec!["张三".to_string()])]
        );
    }

    #[test]
    fn a_stray_cell_in_the_last_column_is_refused_naming_it() {
        let data = format!(r#"<row r="1">{}{}</row>"#, inline("A1", "姓名"), inline("XFD1", "x"));
        let err = read(&workbook("A1:XFD1", &data), Limits::IMPORT).unwrap_err();
        assert_eq!(err, FileError::TooManyColumns { limit: 64, row: 1, column: "XFD".into() });
        assert!(err.to_string().contains("XFD") && err.to_string().contains("64"), "{err}");
    }

    #[test]
    fn whitespace_that_unpacks_past_the_limit_is_refused_before_parsing() {
        let limits = Limits { unpacked_bytes: 1024 * 1024, ..Limits::IMPORT };
        let bomb = workbook("A1", &" ".repeat(2 * 1024 * 1024));
        assert!(bomb.len() < 16 * 1024, "{} bytes", bomb.len());
        let err = read(&bomb, limits).unwrap_err();
        assert_eq!(err, FileError::Unpacks { limit: 1024 * 1024, part: "xl/worksheets/sheet1.xml".into() });
        assert!(err.to_string().contains("1 MiB"), "{err}");
    }

    /// Rewrites the sizes that the local header and the central directory declare for `part`.
    fn declare_size(mut zip: Vec<u8>, part: &str, size: u32) -> Vec<u8> {
        let u16_at = |z: &[u8], at: usize| usize::from(u16::from_le_bytes([z[at], z[at + 1]]));
        for at in 0..zip.len().saturating_sub(46) {
            let (size_at, name_at) = match &zip[at..at + 4] {
                b"PK\x03\x04" => (at + 22, at + 30),
                b"PK\x01\x02" => (at + 24, at + 46),
                _ => continue,
            };
            let name_len = u16_at(&zip, if name_at == at + 30 { at + 26 } else { at + 28 });
            if zip.get(name_at..name_at + name_len) == Some(part.as_bytes()) {
                zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
        }
        zip
    }

    #[test]
    fn a_part_that_unpacks_to_more_than_it_declares_is_stopped_at_the_limit() {
        let limits = Limits { unpacked_bytes: 1024 * 1024, ..Limits::IMPORT };
        let bomb = declare_size(workbook("A1", &" ".repeat(2 * 1024 * 1024)), "xl/worksheets/sheet1.xml", 100);
        let err = read(&bomb, limits).unwrap_err();
        assert_eq!(err, FileError::Unpacks { limit: 1024 * 1024, part: "xl/worksheets/sheet1.xml".into() });
        // The declared sizes alone pass: it was the counted bytes that stopped it.
        let claims_little = declare_size(workbook("A1", ""), "xl/worksheets/sheet1.xml", 100);
        assert!(read(&claims_little, limits).is_ok());
    }

    #[test]
    fn shared_strings_past_their_own_limit_are_refused() {
        let limits = Limits { strings_bytes: 1024, ..Limits::IMPORT };
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for r in 0..200 {
            sheet.write_string(r, 0, format!("居民{r}")).unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        assert_eq!(read(&bytes, Limits::IMPORT).unwrap().len(), 200);
        let err = read(&bytes, limits).unwrap_err();
        assert_eq!(err, FileError::Unpacks { limit: 1024, part: SHARED_STRINGS.into() });
        let lying = declare_size(bytes, SHARED_STRINGS, 10);
        assert_eq!(read(&lying, limits).unwrap_err(), err);
    }

    #[test]
    fn a_cell_longer_than_excel_allows_is_refused_naming_row_and_column() {
        let data = format!(r#"<row r="7">{}</row>"#, inline("C7", &"长".repeat(32_768)));
        let err = read(&workbook("C7", &data), Limits::IMPORT).unwrap_err();
        assert_eq!(err, FileError::CellTooLong { limit: 32_767, row: 7, column: "C".into() });
    }
}
