//! Short read-only lookups on SQLite, answered on the calling thread.
//!
//! sqlx-sqlite runs every statement on its connection's own worker thread and hands the rows back over a
//! channel. For a lookup of a few index probes (tens of microseconds) the two thread switches cost more than
//! the query: at 13,000 address lookups a second, a third of the server's CPU went to the kernel switching
//! threads. The connections here run the statement where it is asked for instead.
//!
//! Only index-bounded lookups belong here (finding a household by address, a resident by name or phone): a
//! statement holds the async worker thread for its whole duration. A connection is taken from the idle list
//! and put back before returning, never across an `.await`, so there are at most as many connections as
//! threads that ask at once.

use crate::Result;
use rusqlite::types::{ToSqlOutput, Value as SqlValue};
use rusqlite::{Connection, OpenFlags, Row, ToSql};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A bind value of a statement that runs on either backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    /// An integer.
    Int(i64),
    /// A text.
    Text(String),
}

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Int(v) => ToSqlOutput::Owned(SqlValue::Integer(*v)),
            Param::Text(s) => ToSqlOutput::Borrowed(s.as_str().into()),
        })
    }
}

/// Idle read-only connections to the database file.
pub(crate) struct QuickReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

/// More idle connections than this are closed rather than kept.
const MAX_IDLE: usize = 16;

impl QuickReads {
    /// Connections to the SQLite file at `path`, opened when first needed.
    pub(crate) fn new(path: &Path) -> Self {
        Self { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), closed: AtomicBool::new(false) }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // The same matching rules as the pooled connections: `name LIKE '胡%'` walks the name index.
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA case_sensitive_like = ON; PRAGMA cache_size = -16384;")?;
        Ok(conn)
    }

    /// Runs `sql` with `params` (numbered `$1`, `$2`, … in order of appearance) and maps every row.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: &[Param],
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => self.open()?,
        };
        let rows = Self::run(&conn, sql, params, map);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE && !self.closed.load(Ordering::Acquire) {
            idle.push(conn);
        }
        Ok(rows?)
    }

    /// Closes the idle connections; connections in use close when their lookup ends.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn run<T>(
        conn: &Connection,
        sql: &str,
        params: &[Param],
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), map)?;
        rows.collect()
    }
}
