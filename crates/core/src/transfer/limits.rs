//! How much of a file an import reads: enough for the largest registry a street office keeps, little enough
//! that no file, whatever it declares, can exhaust the server's memory. A table is built cell by cell and
//! refused at the first cell past a limit, naming the row and column a person sees.

use super::{FileError, Row, Table};

/// The limits an import reads a file within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Non-blank rows below the header.
    pub rows: usize,
    /// Columns from the first used one to the last.
    pub columns: usize,
    /// Cells of the table, blank ones inside the used range included (rows × columns).
    pub cells: usize,
    /// Characters in one cell; Excel's own limit is 32,767.
    pub cell_chars: usize,
    /// Bytes the parts of an XLSX file unpack to, all together.
    pub unpacked_bytes: u64,
    /// Bytes an XLSX file's shared strings unpack to: they are held while the sheet is read, at up to twice
    /// their size in memory.
    pub strings_bytes: u64,
}

impl Limits {
    /// What every import reads within: 200,000 rows, 64 columns, 4 million cells of up to 32,767
    /// characters, an XLSX file unpacking to at most 256 MiB of which 64 MiB shared strings.
    pub const IMPORT: Self = Self {
        rows: 200_000,
        columns: 64,
        cells: 4_000_000,
        cell_chars: 32_767,
        unpacked_bytes: 256 * 1024 * 1024,
        strings_bytes: 64 * 1024 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::IMPORT
    }
}

/// The letters Excel shows for a column counted from 0: `A`, `Z`, `AA`, `XFD`.
pub fn column_letters(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        letters.push(char::from(b'A' + ((n - 1) % 26) as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// A table taken in one cell at a time. Blank cells are never stored, so a file that declares a huge used
/// range or places one stray cell far away costs nothing until it passes a limit.
#[derive(Debug)]
pub(crate) struct TableBuilder {
    limits: Limits,
    /// Non-blank rows in the order the file gives them; each holds its non-blank cells as (column, text).
    rows: Vec<(usize, Vec<(usize, String)>)>,
    first_column: usize,
    last_column: usize,
}

impl TableBuilder {
    pub(crate) fn new(limits: Limits) -> Self {
        Self { limits, rows: Vec::new(), first_column: usize::MAX, last_column: 0 }
    }

    /// Takes the cell in spreadsheet row `row` (from 1) and column `column` (from 0); `text` is already trimmed.
    pub(crate) fn push(&mut self, row: usize, column: usize, text: &str) -> Result<(), FileError> {
        if text.chars().count() > self.limits.cell_chars {
            return Err(FileError::CellTooLong { limit: self.limits.cell_chars, row, column: column_letters(column) });
        }
        if text.is_empty() {
            return Ok(());
        }
        let first = self.first_column.min(column);
        let last = self.last_column.max(column);
        if last - first >= self.limits.columns {
            return Err(FileError::TooManyColumns { limit: self.limits.columns, row, column: column_letters(column) });
        }
        let new_row = self.rows.last().is_none_or(|(number, _)| *number != row);
        let rows = self.rows.len() + usize::from(new_row);
        // The header is the first row and not counted.
        if rows > self.limits.rows + 1 {
            return Err(FileError::TooManyRows { limit: self.limits.rows, row });
        }
        if rows.saturating_mul(last - first + 1) > self.limits.cells {
            return Err(FileError::TooManyCells { limit: self.limits.cells, row });
        }
        (self.first_column, self.last_column) = (first, last);
        if new_row {
            self.rows.push((row, Vec::new()));
        }
        self.rows.last_mut().expect("pushed above").1.push((column, text.to_string()));
        Ok(())
    }

    /// The non-blank rows in order, each with the cells from the first used column to the last.
    pub(crate) fn finish(mut self) -> Table {
        // A file may list its rows out of order; a row listed twice is one row.
        self.rows.sort_by_key(|(number, _)| *number);
        let width = if self.rows.is_empty() { 0 } else { self.last_column - self.first_column + 1 };
        let mut table: Table = Vec::with_capacity(self.rows.len());
        for (number, cells) in self.rows {
            if table.last().is_none_or(|r: &Row| r.number != number) {
                table.push(Row { number, cells: vec![String::new(); width] });
            }
            let row = table.last_mut().expect("pushed above");
            for (column, text) in cells {
                row.cells[column - self.first_column] = text;
            }
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits =
        Limits { rows: 3, columns: 4, cells: 10, cell_chars: 5, unpacked_bytes: 1024, strings_bytes: 1024 };

    #[test]
    fn columns_are_named_as_excel_shows_them() {
        let names: Vec<String> = [0, 25, 26, 51, 701, 702, 16_383].into_iter().map(column_letters).collect();
        assert_eq!(names, ["A", "Z", "AA", "AZ", "ZZ", "AAA", "XFD"]);
    }

    #[test]
    fn a_table_keeps_rows_in_order_padded_to_the_used_columns() {
        let mut t = TableBuilder::new(SMALL);
        t.push(5, 3, "b").unwrap();
        t.push(3, 1, "a").unwrap();
        t.push(3, 2, "").unwrap();
        let rows = t.finish();
        assert_eq!(
            rows,
            [
                Row { number: 3, cells: vec!["a".into(), String::new(), String::new()] },
                Row { number: 5, cells: vec![String::new(), String::new(), "b".into()] },
            ]
        );
    }

    #[test]
    fn each_limit_is_refused_at_the_first_cell_past_it() {
        let mut t = TableBuilder::new(SMALL);
        assert_eq!(
            t.push(1, 0, "长度超过五个字"),
            Err(FileError::CellTooLong { limit: 5, row: 1, column: "A".into() })
        );
        t.push(1, 0, "a").unwrap();
        assert_eq!(t.push(1, 4, "b"), Err(FileError::TooManyColumns { limit: 4, row: 1, column: "E".into() }));
        t.push(1, 3, "b").unwrap();
        // Four columns wide: the header and one data row fill 8 of 10 cells; a third row would need 12.
        t.push(2, 0, "c").unwrap();
        assert_eq!(t.push(3, 0, "d"), Err(FileError::TooManyCells { limit: 10, row: 3 }));

        let mut t = TableBuilder::new(SMALL);
        for row in 1..=4 {
            t.push(row * 1000, 0, "x").unwrap();
        }
        assert_eq!(t.push(5000, 0, "x"), Err(FileError::TooManyRows { limit: 3, row: 5000 }));
        // Blank cells and far-away rows cost nothing.
        t.push(1_048_576, 16_383, "").unwrap();
        assert_eq!(t.finish().len(), 4);
    }
}
