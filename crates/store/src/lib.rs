//! How Wujia remembers: one [`Store`] over SQLite (the embedded default) or PostgreSQL, chosen by URL.
//!
//! Every change is written together with its audit event in one transaction. The SQL is shared by both
//! backends (`$1` placeholders work on SQLite too); the [`with_db!`] macro expands each query once per
//! backend so that both keep their native types.

mod accounts;
mod activities;
mod audit;
mod blobs;
mod cases;
mod deliberation;
mod demo;
mod fixtures;
mod import;
mod key_binding;
mod meetings;
mod notifications;
mod outbox;
mod patrol;
mod previews;
mod proposals;
mod public_reads;
mod reception;
mod registry;
mod requests;
mod scope;
mod search;
mod secret;
mod tallies;
mod volunteers;
mod wechat;

pub use accounts::{ApiKeyGrant, ApiToken, NewUser, User};
pub use activities::{Activity, NewActivity, Registration};
pub use audit::{AuditEntry, Change};
pub use blobs::BlobStore;
pub use cases::{Baseline, BoardBuilding, Case, CaseStep, CaseUpdate, ZeroBoard};
pub use deliberation::{Topic, TopicNote, TopicUpdate};
pub use fixtures::BenchRequest;
pub use import::ImportReport;
pub use key_binding::WrongKey;
pub use meetings::{Meeting, MeetingAction};
pub use notifications::{Channel as NotificationChannel, Delivery, DutyShift, InboxItem, Notices, Outgoing, Priority};
pub use outbox::{Attempt, Backlog, Claim};
pub use patrol::{
    Checkin, Checkpoint, Finding, FindingFilter, FindingPhoto, NewFinding, PatrolFacts, Plan, Round, Zone, ZoneMember,
};
pub use proposals::{Effect, Proposal, ProposalUpdate};
pub use reception::{Booking, Demand, NewReceptionDay, ReceptionDay, Visit};
pub use registry::{
    BuildingSummary, Community, CompoundSummary, ExportRecord, HouseholdBrief, HouseholdDetail, RegistrySummary,
    ResidentView, SearchHit, TagInfo, UnitWithHouseholds,
};
pub use requests::{
    Batch, Category, Knowledge, NewCategory, NewRequest, Photo, RequestFilter, RequestRow, RequestToWrite,
    RequestUpdate, urgency_of,
};
pub use scope::BuildingFigures;
pub use search::SEARCHABLE;
pub use secret::{Cipher, KeyFingerprint, SecretKey};
pub use tallies::Tallies;
pub use volunteers::{NewShift, NewVolunteer, Shift, Signup, SignupUpdate, VolunteerFacts, VolunteerRow};
pub use wechat::{MessageClaim, NewWechatResident, WechatBinding, WechatEnquiry};

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use wujia_core::registry::FieldError;
use wujia_core::transfer::RowError;

/// What can go wrong when remembering. Client mistakes are typed; the rest is a server fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or is outside what the caller may see).
    #[error("not found")]
    NotFound,
    /// Someone else changed the record first, or a unique value is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A resident's ID number is already held by another resident. Only whether that resident is in the same
    /// community as the one being written is kept: the faces must not tell staff of one community that a person
    /// is registered in another (issue 14, point 7), so nothing more reaches them.
    #[error("the ID number is already registered (in this community: {in_community})")]
    IdCardTaken {
        /// The holder is in the same community.
        in_community: bool,
    },
    /// Input that the database's contents make invalid (unknown origin community, unknown building …).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A file import with bad rows; nothing was written.
    #[error("{} rows have errors", .0.len())]
    Rows(Vec<RowError>),
    /// The operation is not available on this backend.
    #[error("not supported: {0}")]
    Unsupported(&'static str),
    /// The audit chain is broken.
    #[error(transparent)]
    Tampered(#[from] wujia_core::audit::Tampered),
    /// The database's personal data is sealed with another key.
    #[error(transparent)]
    WrongKey(#[from] WrongKey),
    /// Encrypted data could not be decrypted with this key.
    #[error("encrypted data cannot be read with this secret key")]
    Crypto,
    /// A database failure.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A migration failure.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A file-system failure (secret key, backup).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The answer to an ID number held by a resident of *another* community (or by someone whose community a racing
/// write leaves unknown). It names what the staff member can do and nothing about where the number is held: no
/// community, address or name. Uniqueness across the deployment means that one bit remains ("this number cannot
/// be registered here, and it is not in my community's registry"); the street administrator, who sees every
/// community, is the one who resolves it (typically a move whose old community has not recorded the leaving).
pub const ID_CARD_NOT_REGISTRABLE: &str = "无法用此身份证号登记:请核对号码;号码无误时,请联系街道管理员核实 / \
     This ID number cannot be registered: check it, and if it is right, ask the street administrator to look into it";

/// The answer to an ID number held by another resident of the same community: the caller's own registry shows
/// that resident, so saying so reveals nothing beyond the caller's scope and tells her where to look.
pub const ID_CARD_IN_COMMUNITY: &str = "该身份证号已登记在本社区的居民名下,请在居民名册中按身份证号查找 / \
     This ID number is already registered to a resident of this community: search the registry for it";

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in WAL mode.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

enum Db {
    /// SQLite allows one writer: all writes go through a single connection, reads through many.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

struct Inner {
    db: Db,
    cipher: Cipher,
    fingerprint: KeyFingerprint,
}

/// The one way into Wujia's data. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// Runs `$body` with `$pool` bound to the backend's pool (`read` or `write`) and `$pg` to whether it is
/// PostgreSQL. The body is compiled once per backend.
macro_rules! with_db {
    ($store:expr, read, $pool:ident, $pg:ident => $body:expr) => {
        match &$store.inner.db {
            $crate::Db::Sqlite { read: $pool, .. } => {
                #[allow(unused_variables)]
                let $pg = false;
                $body
            }
            $crate::Db::Postgres($pool) => {
                #[allow(unused_variables)]
                let $pg = true;
                $body
            }
        }
    };
    ($store:expr, write, $pool:ident, $pg:ident => $body:expr) => {
        match &$store.inner.db {
            $crate::Db::Sqlite { write: $pool, .. } => {
                #[allow(unused_imports)]
                use $crate::BeginWrite as _;
                #[allow(unused_variables)]
                let $pg = false;
                $body
            }
            $crate::Db::Postgres($pool) => {
                #[allow(unused_imports)]
                use $crate::BeginWrite as _;
                #[allow(unused_variables)]
                let $pg = true;
                $body
            }
        }
    };
}
pub(crate) use with_db;

/// How every write transaction begins. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken at once (waiting
/// up to the busy timeout while another process, such as `wujia import` beside the server, holds it), so a
/// transaction that reads before it writes cannot fail with `database is locked` (SQLITE_BUSY_SNAPSHOT) because
/// the other process wrote in between. PostgreSQL needs nothing more.
pub(crate) trait BeginWrite {
    /// The database.
    type Db: sqlx::Database;

    /// A transaction that may write from its first statement on.
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;

    fn begin_write(&self) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;

    fn begin_write(&self) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>>> + Send {
        self.begin()
    }
}

impl Store {
    /// Connects to `sqlite://…` or `postgres://…`, creating an SQLite file if missing.
    pub async fn connect(url: &str, key: &SecretKey) -> Result<Self> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool =
                PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
            Db::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk before it is acknowledged.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // The writer keeps large transactions (imports) in memory instead of spilling pages
                // mid-transaction; each of the eight readers gets an eighth of that (memory stays bounded).
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory")
                // Lets `code LIKE 'civil.%'` walk an index; codes and names have no letter case worth folding.
                .pragma("case_sensitive_like", "ON");
            let write = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts.read_only(false).pragma("cache_size", "-8192"))
                .await?;
            Db::Sqlite { read, write }
        } else {
            return Err(StoreError::Unsupported("database URL must start with sqlite:// or postgres://"));
        };
        Ok(Self { inner: Arc::new(Inner { db, cipher: Cipher::new(key), fingerprint: key.fingerprint() }) })
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        match self.inner.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations, then checks that this store's key opens the data (refusing with
    /// [`WrongKey`] when the database is sealed with another).
    pub async fn migrate(&self) -> Result<()> {
        match &self.inner.db {
            Db::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        self.ensure_request_defaults().await?;
        // Every command that opens the database migrates it first, so none of them runs under the wrong key.
        self.bind_key().await
    }

    /// Refreshes the query planner's statistics after bulk changes (imports, the demo).
    pub async fn analyze(&self) -> Result<()> {
        match &self.inner.db {
            Db::Sqlite { write, .. } => {
                let mut tx = write.begin_write().await?;
                sqlx::query("ANALYZE").execute(&mut *tx).await?;
                // Per-value samples make every statement re-plan after each new binding (migration 0015).
                sqlx::query("DROP TABLE IF EXISTS sqlite_stat4").execute(&mut *tx).await?;
                tx.commit().await?;
            }
            Db::Postgres(pool) => {
                sqlx::query("ANALYZE").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        with_db!(self, read, pool, _pg => sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }

    /// Writes an online, consistent snapshot that `serve` can start from (SQLite only).
    pub async fn backup(&self, path: &std::path::Path) -> Result<()> {
        match &self.inner.db {
            Db::Sqlite { write, .. } => {
                if path.exists() {
                    return Err(StoreError::Conflict(format!("{} already exists", path.display())));
                }
                let target = path.to_string_lossy().to_string();
                sqlx::query("VACUUM INTO $1").bind(target).execute(write).await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Unsupported("use pg_dump or pg_basebackup for PostgreSQL backups")),
        }
    }

    /// Closes all connections.
    pub async fn close(&self) {
        match &self.inner.db {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }

    pub(crate) fn cipher(&self) -> &Cipher {
        &self.inner.cipher
    }
}

/// Maps a unique-constraint violation to a conflict with a readable message.
pub(crate) fn on_unique(e: sqlx::Error, what: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_string()),
        _ => StoreError::Database(e),
    }
}

/// Beijing time (UTC+8 all year since 1991), for dates and numbers that follow the local calendar.
pub(crate) fn beijing() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// Midnight at the start of a Beijing date, in UTC.
pub(crate) fn beijing_midnight(d: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(beijing()).single())
        .map(|t| t.to_utc())
        .unwrap_or_default()
}
