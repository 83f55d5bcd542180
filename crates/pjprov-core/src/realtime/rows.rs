//! The rows the binary fetched from PostgreSQL, as res_config_pgsql reads them: per table, the result of
//! the query the [`Plan`](super::Plan) names (`SELECT * FROM table WHERE id LIKE '%' ESCAPE '\' ORDER BY
//! id`), every value in PostgreSQL's text form, NULLs left out (`PQgetvalue` gives `""` for a NULL, which
//! the decoding drops anyway).
//!
//! Rows are input: nothing here trusts their size or content. A row is kept as one string and the ends of
//! its cells, so 100,000 rows cost 100,000 allocations per table rather than one per value.

use std::fmt;

/// Every table fetched for one build.
#[derive(Default, Clone)]
pub struct RealtimeRows {
    tables: Vec<TableRows>,
}

impl fmt::Debug for RealtimeRows {
    // Rows hold passwords: only their shape is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for table in &self.tables {
            list.entry(&format_args!("{} ({} rows)", table.table, table.rows.len()));
        }
        list.finish()
    }
}

impl RealtimeRows {
    /// No tables yet.
    pub fn new() -> RealtimeRows {
        RealtimeRows::default()
    }

    /// Adds a table's rows, replacing what was there for the same table name.
    pub fn insert(&mut self, rows: TableRows) {
        self.tables.retain(|t| t.table != rows.table);
        self.tables.push(rows);
    }

    /// The rows of `table` (the name exactly as extconfig.conf writes it), if they were fetched.
    pub fn table(&self, table: &str) -> Option<&TableRows> {
        self.tables.iter().find(|t| t.table == table)
    }

    /// Every table fetched.
    pub fn tables(&self) -> &[TableRows] {
        &self.tables
    }
}

/// The result of one query: column names (as PostgreSQL reports them: `PQfname`) and rows.
#[derive(Clone)]
pub struct TableRows {
    table: String,
    origin: String,
    columns: Vec<String>,
    rows: Vec<Row>,
}

impl fmt::Debug for TableRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TableRows")
            .field("table", &self.table)
            .field("columns", &self.columns)
            .field("rows", &self.rows.len())
            .finish()
    }
}

/// One row: its text and where each cell ends in it.
#[derive(Clone)]
struct Row {
    text: Box<str>,
    /// `(column, end)`: the cell runs from the previous cell's end to `end`.
    cells: Box<[(u16, u32)]>,
}

/// A row too large for pjprov (more than 4 GiB of text or 65,535 columns: PostgreSQL allows neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a row of table too large to keep (over 4 GiB or 65,535 columns)")]
pub struct RowTooLarge;

impl TableRows {
    /// An empty result of `table` (extconfig.conf's name for it) with these columns. `origin` is what
    /// diagnostics name as the file (`pgsql:ps_endpoints`); the line is the row's number, from 1.
    pub fn new(
        table: impl Into<String>,
        origin: impl Into<String>,
        columns: Vec<String>,
    ) -> TableRows {
        TableRows {
            table: table.into(),
            origin: origin.into(),
            columns,
            rows: Vec::new(),
        }
    }

    /// Appends a row: `(column index, value)` for each non-NULL cell, in column order. Cells naming a
    /// column that does not exist are dropped.
    pub fn push<'a>(
        &mut self,
        cells: impl IntoIterator<Item = (usize, &'a str)>,
    ) -> Result<(), RowTooLarge> {
        let mut text = String::new();
        let mut ends = Vec::new();
        for (column, value) in cells {
            if column >= self.columns.len() {
                continue;
            }
            text.push_str(value);
            let column = u16::try_from(column).map_err(|_| RowTooLarge)?;
            let end = u32::try_from(text.len()).map_err(|_| RowTooLarge)?;
            ends.push((column, end));
        }
        self.rows.push(Row {
            text: text.into_boxed_str(),
            cells: ends.into_boxed_slice(),
        });
        Ok(())
    }

    /// The table's name, as extconfig.conf writes it.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// What diagnostics call it.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The column names, in the order of the result (`attnum`, for `SELECT *`).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the query returned no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `index`'s non-NULL cells as `(column name, value)`, in column order.
    pub fn row(&self, index: usize) -> impl Iterator<Item = (&str, &str)> {
        let (text, cells): (&str, &[(u16, u32)]) = match self.rows.get(index) {
            Some(row) => (&row.text, &row.cells),
            None => ("", &[]),
        };
        let mut start = 0usize;
        cells.iter().map(move |&(column, end)| {
            let end = end as usize;
            let value = text.get(start..end).unwrap_or_default();
            start = end;
            let name = self
                .columns
                .get(usize::from(column))
                .map_or("", String::as_str);
            (name, value)
        })
    }
}
