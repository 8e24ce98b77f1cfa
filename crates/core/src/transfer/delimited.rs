//! Reading CSV text one cell at a time, so that no record, however many cells or bytes it holds, is kept whole:
//! each cell is refused as soon as it grows past the cell limit, and the table past its other limits.

use super::limits::{Limits, TableBuilder};
use super::{FileError, Table, column_letters};
use csv_core::ReadFieldResult;

/// Reads the non-blank rows of CSV text within `limits`. Excel shows each record as a row (a quoted cell may span
/// lines) and each blank line as an empty row; the parser skips blank lines before a record, so they are counted
/// from where the record's reading began.
pub(crate) fn read(text: &str, limits: Limits) -> Result<Table, FileError> {
    let bytes = text.as_bytes();
    let mut parser = csv_core::Reader::new();
    let mut table = TableBuilder::new(limits);
    // A character takes at most four bytes, so a cell longer than this is too long whatever it holds.
    let max_cell_bytes = limits.cell_chars.saturating_mul(4);
    let mut cell = vec![0u8; 1024];
    let (mut at, mut filled, mut column, mut number) = (0, 0, 0, 0);
    let mut record_start = Some(0);
    loop {
        let (result, read, written) = parser.read_field(&bytes[at..], &mut cell[filled..]);
        at += read;
        filled += written;
        match result {
            ReadFieldResult::InputEmpty => {}
            ReadFieldResult::OutputFull if cell.len() > max_cell_bytes => {
                return Err(FileError::CellTooLong {
                    limit: limits.cell_chars,
                    row: row_number(bytes, record_start, number),
                    column: column_letters(column),
                });
            }
            ReadFieldResult::OutputFull => cell.resize((cell.len() * 2).min(max_cell_bytes + 1), 0),
            ReadFieldResult::Field { record_end } => {
                if let Some(start) = record_start.take() {
                    number = row_number(bytes, Some(start), number);
                }
                let text = std::str::from_utf8(&cell[..filled]).map_err(|e| FileError::Damaged(e.to_string()))?;
                table.push(number, column, text.trim())?;
                (filled, column) = (0, column + 1);
                if record_end {
                    (record_start, column) = (Some(at), 0);
                }
            }
            ReadFieldResult::End => return Ok(table.finish()),
        }
    }
}

/// The row a record begun at `start` shows as, after the row `previous`: one more, plus the blank lines skipped.
fn row_number(bytes: &[u8], start: Option<usize>, previous: usize) -> usize {
    let Some(start) = start else { return previous };
    let skipped = bytes.get(start..).unwrap_or_default();
    previous + 1 + skipped.iter().take_while(|b| matches!(b, b'\n' | b'\r')).filter(|b| **b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits =
        Limits { rows: 10, columns: 4, cells: 40, cell_chars: 5, unpacked_bytes: 0, strings_bytes: 0 };

    #[test]
    fn a_record_of_a_million_empty_cells_is_nothing() {
        let table = read(&format!("a{}\nb\n", ",".repeat(1_000_000)), SMALL).unwrap();
        assert_eq!(
            table.iter().map(|r| (r.number, r.cells.clone())).collect::<Vec<_>>(),
            [(1, vec!["a".to_string()]), (2, vec!["b".to_string()])]
        );
    }

    #[test]
    fn a_long_cell_is_refused_before_it_is_held_naming_row_and_column() {
        let csv = format!("a,b\n\n\"x\ny\",\"{}\"\n", "长".repeat(1_000_000));
        assert_eq!(read(&csv, SMALL), Err(FileError::CellTooLong { limit: 5, row: 3, column: "B".into() }));
    }

    #[test]
    fn wide_and_long_files_are_refused_at_the_row_past_the_limit() {
        assert_eq!(read("a,,,,e\n", SMALL), Err(FileError::TooManyColumns { limit: 4, row: 1, column: "E".into() }));
        let rows = "x\n".repeat(12);
        assert_eq!(read(&rows, SMALL), Err(FileError::TooManyRows { limit: 10, row: 12 }));
    }
}
