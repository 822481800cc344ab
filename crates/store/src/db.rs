//! The `Db` enum: one pool per backend, picked once from the URL scheme, plus the few
//! helpers every area shares (writer transactions, dynamic bind values, paging).

use crate::StoreError;
type Result<T, E = StoreError> = std::result::Result<T, E>;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How SQLite makes a commit durable (`PRAGMA synchronous`; the WAL journal either way).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    /// Every commit is on the disk before it is answered: one fsync of the WAL per
    /// transaction, and with the group commit one per group, not one per request.
    #[default]
    Full,
    /// Survives a killed process, not a power cut: the last commits before one can be lost.
    /// Saves that fsync.
    Normal,
}

impl FromStr for SqliteSync {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(SqliteSync::Full),
            "normal" => Ok(SqliteSync::Normal),
            other => Err(StoreError::Other(format!("sqlite_synchronous {other:?}: say full or normal"))),
        }
    }
}

/// What [`Db::connect_with`] can be told besides the URL.
#[derive(Clone, Copy, Debug, Default)]
pub struct DbOptions {
    pub sqlite_synchronous: SqliteSync,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the same expression on whichever pool this is; each arm finishes on its own
/// result types, so the code is written once and compiled twice.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}

/// One write of its own (a statement, or a few) as a transaction begun with
/// [`WritePool::begin_write`], on either pool: `write_once!(db, |c| sqlx::query(…)
/// .execute(&mut *c).await?)`. On SQLite it waits its turn with the other writers; sent on a
/// reader's connection, such a write waited in SQLite's busy handler instead — a job's
/// claim, 1–3 s under continuous creates (docs/BENCHMARKS.md, session 17).
#[macro_export]
macro_rules! write_once {
    ($db:expr, |$c:ident| $body:expr) => {
        $crate::on_db!($db, |p| {
            let mut tx = $crate::db::WritePool::begin_write(p).await?;
            let $c = &mut *tx;
            let done = $body;
            tx.commit().await?;
            done
        })
    };
}

/// A connection inside a transaction, of either backend. The store's transaction helpers
/// are functions taking one (`impl Into<Conn>`: pass `&mut *tx`), written once like
/// [`on_db!`] code, instead of macros that would return from their caller.
pub enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl<'a> From<&'a mut sqlx::SqliteConnection> for Conn<'a> {
    fn from(c: &'a mut sqlx::SqliteConnection) -> Self {
        Conn::Sqlite(c)
    }
}

impl<'a> From<&'a mut sqlx::PgConnection> for Conn<'a> {
    fn from(c: &'a mut sqlx::PgConnection) -> Self {
        Conn::Postgres(c)
    }
}

impl Conn<'_> {
    /// The same connection for one more call, leaving this one usable afterwards.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// Runs the same expression on whichever connection a [`Conn`] holds; `$c` is
/// `&mut &mut …Connection` inside, so a query runs on `&mut **c`.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}

/// A nullable enumerated column as read, before it becomes `Option<Enum>`
/// (`#[sqlx(try_from = "NullableText")] pub outcome: Option<Outcome>`): sqlx cannot decode
/// through `TryFrom` into an `Option` of a foreign type, and a type of the store's own can.
/// NULL is `None`; a value the enum does not know is a decode error, as for the non-null
/// enum columns (`#[sqlx(try_from = "String")]`).
#[derive(sqlx::Type)]
#[sqlx(transparent)]
pub struct NullableText(Option<String>);

macro_rules! nullable_enum {
    ($($t:ty),* $(,)?) => {$(
        impl TryFrom<NullableText> for Option<$t> {
            type Error = aftercare_domain::UnknownValue;
            fn try_from(v: NullableText) -> std::result::Result<Self, Self::Error> {
                v.0.map(<$t>::try_from).transpose()
            }
        }
    )*};
}
// Every enum some row reads from a nullable column; add one here when a row needs it.
nullable_enum!(
    aftercare_domain::System,
    aftercare_domain::contacts::Handling,
    aftercare_domain::contacts::Verdict,
    aftercare_domain::parts::AdjustDirection,
    aftercare_domain::defective::Outcome,
    aftercare_domain::tickets::TicketStatus,
    aftercare_domain::tickets::FaultType,
    aftercare_domain::tickets::VisitVerdict,
    aftercare_domain::inspections::LineResult,
    aftercare_domain::inspections::Phase,
    aftercare_domain::appraisals::AppraisalOutcome,
);

/// Begins a write transaction. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`), and writers of one database in this process first queue on an async
/// lock: SQLite's own busy handler sleeps in growing steps, which under concurrent writes
/// costs far more than the writes themselves.
pub trait WritePool {
    type Database: sqlx::Database;
    #[track_caller]
    fn begin_write(&self) -> impl std::future::Future<Output = Result<WriteTx<Self::Database>, sqlx::Error>> + Send;
}

/// A write transaction; derefs to the connection, so `&mut *tx` runs queries.
pub struct WriteTx<DB: sqlx::Database> {
    tx: sqlx::Transaction<'static, DB>,
    // Held until commit or drop: the next writer of this database waits for it.
    turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    // SQLite with durable commits: the WAL whose fsync the commit waits for, outside the turn.
    wal: Option<std::sync::Arc<crate::durable::WalSync>>,
    began: std::time::Instant,
    // Where it was begun, for the log of a slow one.
    at: &'static std::panic::Location<'static>,
}

/// A write transaction open this long is logged (a warning, with where it began and how
/// long its commit took): on SQLite every other write waited for it.
pub const SLOW_WRITE: Duration = Duration::from_millis(200);

impl<DB: sqlx::Database> WriteTx<DB> {
    /// Where the transaction was begun: the caller of `begin_write`, as a slow one's log
    /// names it.
    pub fn begun_at(&self) -> &'static std::panic::Location<'static> {
        self.at
    }

    /// Commits; returns once the commit is durable (see [`crate::durable`]: on SQLite the
    /// next writer begins while this one's fsync runs).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let WriteTx { tx, turn, wal, began, at } = self;
        let committing = std::time::Instant::now();
        let mut done = tx.commit().await;
        let seq = wal.as_ref().filter(|_| done.is_ok()).map(|w| w.committed());
        drop(turn);
        if let (Some(wal), Some(seq)) = (wal, seq) {
            done = crate::durable::after_commit(wal, seq).await.map_err(sqlx::Error::Io);
        }
        let open = began.elapsed();
        if open >= SLOW_WRITE {
            tracing::warn!(
                open_ms = open.as_millis() as u64,
                commit_ms = committing.elapsed().as_millis() as u64,
                at = %at,
                "slow write transaction"
            );
        }
        done
    }
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Every write to one SQLite database file in this process goes through one connection of
/// its own, taken in turn (an async lock, first come first served). One connection because
/// SQLite throws away a connection's whole page cache when another connection has written
/// since it last looked: with writes spread over the pool's eight connections, every group
/// commit started cold and read each B-tree page it touched back from the file (~200 reads
/// a group at 150,000 tickets), a cost that grew with the indexes and set the tail of the
/// creates. The writer keeps its cache warm between groups; it is a little larger than a
/// reader's, since it holds the pages every write goes through (the right edge of each
/// index, each school's last page). The connection closes after a minute without writes.
struct SqliteWriter {
    turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    pool: SqlitePool,
    /// Durable commits: the writer commits with `synchronous=NORMAL` and each commit waits
    /// for a shared fsync of the WAL after its turn ([`crate::durable`]).
    wal: Option<std::sync::Arc<crate::durable::WalSync>>,
}

/// The WAL starts over once it holds this many frames (16 MB) and the background copy has
/// caught up ([`Db::checkpoint`]).
pub const WAL_RESTART_FRAMES: i64 = 4_000;

/// Caught up: at most this many frames left to copy (half a group commit; copying them and
/// the fsync take the writer's turn for ~2 ms).
const CATCH_UP_FRAMES: i64 = 64;

/// `PRAGMA wal_checkpoint`'s answer: the frames in the WAL, the frames copied.
#[derive(Debug, Default, sqlx::FromRow)]
struct Checkpointed {
    #[sqlx(rename = "log")]
    frames: i64,
    #[sqlx(rename = "checkpointed")]
    copied: i64,
}

impl Checkpointed {
    fn left(&self) -> i64 {
        self.frames - self.copied
    }
}

/// SQLite: starts writing the database file's dirty pages to the disk, without waiting for
/// them (Linux: `sync_file_range(SYNC_FILE_RANGE_WRITE)`; elsewhere nothing).
///
/// The pages a checkpoint copies stay dirty in the kernel's cache until its flusher writes
/// all those older than 30 s at once, every 5 s (`vm.dirty_expire_centisecs`,
/// `dirty_writeback_centisecs`), and each such burst queued the group commits' WAL fsyncs
/// behind it: at a million tickets most slow creates were waiting in that fsync
/// (docs/BENCHMARKS.md, sessions 14 and 15). Started after every checkpoint pass, the
/// writing goes on in small steps instead. Not an fsync: it neither waits nor flushes the
/// device's cache, and fsyncing the file after every pass made the tail worse.
async fn start_writeback(p: &SqlitePool) -> Result<()> {
    #[cfg(target_os = "linux")]
    with_db_file(p, |f| {
        use std::os::fd::AsRawFd;
        // SAFETY: `f` is open for the whole call, which reads no memory of ours.
        let rc = unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
        if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    })
    .await?;
    #[cfg(not(target_os = "linux"))]
    let _ = p;
    Ok(())
}

/// Opens the SQLite database file and runs `op` on it off the async workers: file calls
/// block for as long as the disk takes.
async fn with_db_file(
    p: &SqlitePool,
    op: impl FnOnce(&std::fs::File) -> std::io::Result<()> + Send + 'static,
) -> Result<()> {
    let file = p.connect_options().get_filename().to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(&file).and_then(|f| op(&f)))
        .await
        .map_err(|e| StoreError::Other(format!("checkpoint: {e}")))?
        .map_err(|e| StoreError::Other(format!("checkpoint: {e}")))
}

/// SQLite: the statistics the full-text index's tables always carry, as a large index would.
///
/// FTS5 removes a merged segment with `DELETE FROM search_fts_data WHERE id >= ? AND id <= ?`.
/// Analyzed while the index was nearly empty (a new database, its documents still waiting),
/// `search_fts_data` was recorded as two rows, and with that the planner scanned the whole
/// index for every segment it removed instead of seeking its range: from empty, the soak's
/// create p99 grew from 10 to 140 ms in two minutes (docs/BENCHMARKS.md, session 16), until
/// an hourly `PRAGMA optimize` happened to notice the growth. FTS5 reads and writes these
/// tables only by key, for which "large" is always the right estimate.
pub const FTS_TABLE_STATS: [(&str, Option<&str>, &str); 2] =
    [("search_fts_data", None, "1000000"), ("search_fts_idx", Some("search_fts_idx"), "1000000 100 1")];

/// The most pages the WAL holds before a commit checkpoints inside itself.
const WRITER_AUTOCHECKPOINT: i64 = 50_000;

/// The writer's page cache (KiB, as `cache_size` takes it when negative).
const WRITER_CACHE_KIB: i64 = 16_000;

type WriterParts =
    (std::sync::Arc<tokio::sync::Mutex<()>>, SqlitePool, Option<std::sync::Arc<crate::durable::WalSync>>);

/// The writer of the database `pool` reads; the first call for a file sets it up, with
/// durable commits (`durable`, from [`Db::connect_with`]) or SQLite's own `synchronous`
/// as the pool's options say (a pool made elsewhere).
fn sqlite_writer_with(pool: &SqlitePool, durable: Option<bool>) -> WriterParts {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static WRITERS: LazyLock<Mutex<HashMap<std::path::PathBuf, SqliteWriter>>> = LazyLock::new(Default::default);
    let options = pool.connect_options();
    let file = options.get_filename().to_path_buf();
    let mut writers = WRITERS.lock().unwrap_or_else(|e| e.into_inner());
    let w = writers.entry(file).or_insert_with_key(|file| {
        let durable = durable.unwrap_or(false);
        let mut writer_options = (*options).clone();
        if durable {
            writer_options = writer_options.synchronous(SqliteSynchronous::Normal);
        }
        SqliteWriter {
            turn: Default::default(),
            wal: durable.then(|| std::sync::Arc::new(crate::durable::WalSync::new(file))),
            pool: SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .test_before_acquire(false)
                .idle_timeout(Some(Duration::from_secs(60)))
                .connect_lazy_with(
                    writer_options
                        .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                        // A statement that writes many rows keeps the pages it changes in a
                        // statement journal; past 64 KB SQLite spilled it to a temporary file
                        // (~5 MB written a group commit). Kept in memory, it is freed at commit.
                        .pragma("temp_store", "memory")
                        // The background copy restarts the WAL (`Db::checkpoint`); a commit
                        // checkpoints only when that could not keep up, and each time costs the
                        // waiting creates ~20 ms (the database file's fsync of what it copied),
                        // so that is made rare: 50,000 pages, a 200 MB WAL.
                        .pragma("wal_autocheckpoint", WRITER_AUTOCHECKPOINT.to_string()),
                ),
        }
    });
    (w.turn.clone(), w.pool.clone(), w.wal.clone())
}

fn sqlite_writer(pool: &SqlitePool) -> WriterParts {
    sqlite_writer_with(pool, None)
}

impl WritePool for SqlitePool {
    type Database = sqlx::Sqlite;
    #[track_caller]
    fn begin_write(&self) -> impl std::future::Future<Output = Result<WriteTx<sqlx::Sqlite>, sqlx::Error>> + Send {
        let at = std::panic::Location::caller();
        let (turn, writer, wal) = sqlite_writer(self);
        async move {
            // The wait for the turn is not the transaction's own time.
            let turn = turn.lock_owned().await;
            let began = std::time::Instant::now();
            let tx = writer.begin_with("BEGIN IMMEDIATE").await?;
            Ok(WriteTx { tx, turn: Some(turn), wal, began, at })
        }
    }
}

impl WritePool for PgPool {
    type Database = sqlx::Postgres;
    #[track_caller]
    fn begin_write(&self) -> impl std::future::Future<Output = Result<WriteTx<sqlx::Postgres>, sqlx::Error>> + Send {
        let at = std::panic::Location::caller();
        async move { Ok(WriteTx { tx: self.begin().await?, turn: None, wal: None, began: std::time::Instant::now(), at }) }
    }
}

impl Db {
    /// Connects to `sqlite://PATH` (created when missing) or `postgres://…`, with the
    /// default options (SQLite commits durable against power loss).
    pub async fn connect(url: &str) -> Result<Db> {
        Db::connect_with(url, DbOptions::default()).await
    }

    pub async fn connect_with(url: &str, o: DbOptions) -> Result<Db> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Other(format!("{}: {e}", dir.display())))?;
            }
            let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL by default: an answered write survives a power cut too. It costs one
                // fsync per commit, and the group commit makes that one per group. The
                // writer's own connection commits with NORMAL and then waits for that fsync
                // outside its turn (crate::durable); these are the readers' (and the
                // migrations') settings.
                .synchronous(match o.sqlite_synchronous {
                    SqliteSync::Full => SqliteSynchronous::Full,
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 4 MB of page cache per connection, 32 MB for the pool of 8: with 8 MB each
                // the server held 113 MB after the list runs at a million tickets; what a
                // cache misses comes from the operating system's file cache.
                .pragma("cache_size", "-4000")
                // SQLite copies the WAL back into the database inside the commit that takes
                // it past 1,000 pages (4 MB): under continuous writes that was every ~20th
                // group, each copy slower as the file grew (create p99 21 → 94 ms from 20,000
                // to 120,000 tickets). The server checkpoints off the write path instead
                // (`checkpoint`, every 200 ms, restarting the WAL at 4,000 pages); a commit
                // does it only past 10,000 pages, if nothing else did (a command without the
                // server's background task, or readers holding the WAL).
                .pragma("wal_autocheckpoint", "10000");
            // An in-process connection does not go stale: no ping before each use.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .min_connections(1)
                .test_before_acquire(false)
                .connect_with(opts)
                .await?;
            sqlite_writer_with(&pool, Some(o.sqlite_synchronous == SqliteSync::Full));
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            // sqlx pings a connection before every use by default: a second round trip
            // for every query, and one more wake-up of a server process on a busy machine
            // (docs/BENCHMARKS.md, session 13). Under load a connection is back in use
            // within milliseconds; one idle for a second is pinged, and replaced if the
            // server has dropped it (a restart, an idle timeout, a firewall).
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > Duration::from_secs(1) {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::BadUrl(url.to_owned()))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => {
                sqlx::migrate!("./migrations/sqlite").run(p).await?;
                self.optimize().await?;
            }
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Keeps SQLite's planner statistics fresh, so it picks the covering indexes: a first
    /// ANALYZE when there are none (0.3 s at a million tickets), then `PRAGMA optimize`, which
    /// re-analyzes only tables that changed a lot. Sampled statistics (`analysis_limit`)
    /// misled the planner into scanning by status, so the analysis is full. The full-text
    /// index's own tables are then given fixed statistics ([`FTS_TABLE_STATS`]), in the same
    /// transaction, so no connection ever plans with what they held at the last analysis.
    pub async fn optimize(&self) -> Result<()> {
        if let Db::Sqlite(p) = self {
            let mut c = p.acquire().await?;
            let stats: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
                .fetch_one(&mut *c)
                .await?;
            let sql = if stats == 0 { "ANALYZE" } else { "PRAGMA optimize=0x10002" };
            let mut tx = sqlx::Connection::begin(&mut *c).await?;
            sqlx::query(sql).execute(&mut *tx).await?;
            for (table, index, stat) in FTS_TABLE_STATS {
                sqlx::query("DELETE FROM sqlite_stat1 WHERE tbl = $1").bind(table).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, $2, $3)")
                    .bind(table)
                    .bind(index)
                    .bind(stat)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            // This connection plans with them from now; the others read them when they open.
            sqlx::query("ANALYZE sqlite_schema").execute(&mut *c).await?;
        }
        Ok(())
    }

    /// The write path's upkeep, done off it: the server runs this every 200 ms so that no
    /// request's commit has to do it. SQLite: the search documents left waiting for the
    /// full-text index ([`crate::search::index_pending`]), then [`Db::checkpoint`].
    /// PostgreSQL: the search index's pending list.
    ///
    /// The GIN index on `search_docs` takes new entries into a pending list (`fastupdate`),
    /// and the insert that finds the list past `gin_pending_list_limit` (4 MB) merges the
    /// whole list into the index inside its own statement: 50–90 ms once a second at 1,000
    /// creates/s, with the next group of creates waiting behind it — the whole p99 of the
    /// creates on PostgreSQL (it was 52–91 ms). Merged here, on another connection, a fifth
    /// of a second's entries at a time, the list never reaches the limit. Without the
    /// pending list (`fastupdate = off`) every insert updates the index directly: no spikes,
    /// but creates took twice as long.
    pub async fn upkeep(&self) -> Result<()> {
        match self {
            Db::Sqlite(_) => {
                crate::search::index_pending(self, Duration::from_secs(1)).await?;
                self.checkpoint().await
            }
            Db::Postgres(p) => {
                sqlx::query("SELECT gin_clean_pending_list('search_docs_tsv'::regclass)").execute(p).await?;
                Ok(())
            }
        }
    }

    /// SQLite: copies what the WAL holds back into the database file off the write path, and
    /// lets the WAL start over before it grows past [`WAL_RESTART_FRAMES`]. Nothing to do on
    /// PostgreSQL.
    ///
    /// A commit that takes the WAL past `wal_autocheckpoint` checkpoints inside itself: it
    /// copied everything the background copy had not reached yet and fsynced the database
    /// file, ~23 ms every ~0.6 s at 300,000 tickets while fifteen creates waited behind it —
    /// the whole p99 of the creates. The WAL can only start over when a write begins with
    /// every frame copied, which under continuous writes never happens by itself. So the
    /// copying is done here on a reader's connection, again and again until what is left
    /// is a few commits' worth; only then does this take the writer's turn (between two
    /// groups) to copy that last bit, and the next write starts the WAL over.
    pub async fn checkpoint(&self) -> Result<()> {
        let Db::Sqlite(p) = self else { return Ok(()) };
        let mut wal = Checkpointed::default();
        // Each pass copies what was written during the one before, and takes less time.
        for _ in 0..8 {
            wal = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(p).await?;
            if wal.left() <= CATCH_UP_FRAMES {
                break;
            }
        }
        // Only a hint to the kernel: if it fails, the copying and the WAL's restart go on.
        if let Err(e) = start_writeback(p).await {
            tracing::debug!(error = %e, "database file write-back");
        }
        if wal.frames >= WAL_RESTART_FRAMES && wal.left() <= CATCH_UP_FRAMES {
            // SQLite fsyncs the database file only in the checkpoint that copies the whole
            // WAL: that fsync would flush every page copied above, ~20 ms with the writer
            // waiting. Flushed here first, off the write path; what the writer's turn then
            // copies and flushes is a few pages.
            with_db_file(p, std::fs::File::sync_data).await?;
            wal = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(p).await?;
            if wal.left() > CATCH_UP_FRAMES {
                return Ok(());
            }
            let (turn, writer, _) = sqlite_writer(p);
            let _turn = turn.lock().await;
            let began = std::time::Instant::now();
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&writer).await?;
            if began.elapsed() >= SLOW_WRITE {
                tracing::warn!(took_ms = began.elapsed().as_millis() as u64, "slow checkpoint in the writer's turn");
            }
        }
        Ok(())
    }

    /// SQLite with durable commits: how far its commits are on the disk ([`crate::durable`]).
    pub fn durability(&self) -> Option<crate::durable::Durability> {
        let Db::Sqlite(p) = self else { return None };
        sqlite_writer(p).2.map(|w| w.durability())
    }

    /// The migration versions each backend carries (a test checks they are the same).
    pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
        let s = sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).collect();
        let p = sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).collect();
        (s, p)
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, |p| {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, |p| p.close().await)
    }

    /// Writes a consistent copy of a live SQLite database to `dest` (`VACUUM INTO`
    /// reads one snapshot, so writers may go on meanwhile).
    pub async fn backup_sqlite(&self, dest: &str) -> Result<()> {
        match self {
            Db::Sqlite(p) => {
                sqlx::query("VACUUM INTO $1").bind(dest).execute(p).await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Other(
                "PostgreSQL is backed up with pg_dump, e.g. `pg_dump -Fc -f aftercare.dump DBNAME`".into(),
            )),
        }
    }
}

/// A value bound to a dynamically built query; lets list filters be assembled once
/// and bound on either backend.
#[derive(Debug, Clone)]
pub enum Arg {
    I64(i64),
    Text(String),
    Date(chrono::NaiveDate),
    Bool(bool),
    Time(chrono::DateTime<chrono::Utc>),
    /// Typed NULLs: PostgreSQL needs the column's type even for a NULL.
    OptText(Option<String>),
    OptI64(Option<i64>),
    OptTime(Option<chrono::DateTime<chrono::Utc>>),
}

/// Builds `WHERE` clauses with numbered `$n` placeholders.
#[derive(Debug, Default)]
pub struct Filter {
    pub clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Filter {
    /// Adds an argument and returns its placeholder.
    pub fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
    pub fn and(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!("WHERE {}", self.clauses.join(" AND ")) }
    }
}

/// Binds [`Arg`]s in order onto a `query_as` or `query_scalar` of either backend.
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args.iter() {
            q = match a {
                $crate::db::Arg::I64(v) => q.bind(*v),
                $crate::db::Arg::Text(v) => q.bind(v.clone()),
                $crate::db::Arg::Date(v) => q.bind(*v),
                $crate::db::Arg::Bool(v) => q.bind(*v),
                $crate::db::Arg::Time(v) => q.bind(*v),
                $crate::db::Arg::OptText(v) => q.bind(v.clone()),
                $crate::db::Arg::OptI64(v) => q.bind(*v),
                $crate::db::Arg::OptTime(v) => q.bind(*v),
            };
        }
        q
    }};
}

/// A page request: 1-based page, at most 500 rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub per_page: u32,
}

impl Page {
    pub const MAX_PER_PAGE: u32 = 500;
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Page {
        Page { page: page.unwrap_or(1).max(1), per_page: per_page.unwrap_or(25).clamp(1, Self::MAX_PER_PAGE) }
    }
    pub fn all() -> Page {
        Page { page: 1, per_page: u32::MAX / 2 }
    }
    pub fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
    /// `LIMIT n OFFSET m`, written into the statement rather than bound: PostgreSQL plans a
    /// prepared statement with a bound LIMIT as if a tenth of the matches were wanted, so it
    /// never settles on one plan and plans it again at every execution (0.4 ms of the API
    /// list's 1 ms at a million tickets). With the numbers in the text a connection plans
    /// a list once; a statement per page size and page, kept in its statement cache.
    pub fn sql(&self) -> String {
        format!("LIMIT {} OFFSET {}", self.limit(), self.offset())
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(None, None)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    /// There are more than `total` (= [`COUNT_CAP`]) rows; a page shows "1,000+".
    pub capped: bool,
}

/// A list that may match without bound (tickets; any list filtered by search words)
/// counts at most this many rows and says "1,000+" beyond. With a word in every ticket,
/// counting a million matches was most of the cost of the page (9 requests/s at 200
/// connections); and on PostgreSQL each counted row may cost a visit to the table (1.8 µs
/// where the visibility map is not set: 18 ms for 10,000), which a cap of 10,000 still
/// put past the lists' 20 ms (docs/BENCHMARKS.md, session 19).
pub const COUNT_CAP: i64 = 1_000;

/// `SELECT COUNT(*) {from_where}`, which stops past [`COUNT_CAP`] rows when `capped`.
pub fn count_sql(from_where: &str, capped: bool) -> String {
    if capped {
        format!("SELECT COUNT(*) FROM (SELECT 1 {from_where} LIMIT {}) n", COUNT_CAP + 1)
    } else {
        format!("SELECT COUNT(*) {from_where}")
    }
}

/// The rows of a multi-row `VALUES` list: `n` copies of `row`, each `?` in it numbered in
/// turn from `$first` on (`values_rows(2, 3, "(?, $1, ?)")` is `($3, $1, $4), ($5, $1, $6)`).
/// A group's statement binds its rows' values in the same order.
pub fn values_rows(n: usize, first: usize, row: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(n * (row.len() + 8));
    let mut next = first;
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        for part in row.split_inclusive('?') {
            match part.strip_suffix('?') {
                Some(text) => {
                    // Writing into a String cannot fail.
                    let _ = write!(out, "{text}${next}");
                    next += 1;
                }
                None => out.push_str(part),
            }
        }
    }
    out
}

impl<T> Paged<T> {
    /// The page with `n` counted by [`count_sql`] (`capped` as it was told).
    pub fn counted(items: Vec<T>, n: i64, capped: bool) -> Paged<T> {
        let capped = capped && n > COUNT_CAP;
        Paged { items, total: if capped { COUNT_CAP } else { n }, capped }
    }
}

#[cfg(test)]
mod tests {
    use super::values_rows;

    #[test]
    fn values_rows_number_each_placeholder_in_turn() {
        assert_eq!(values_rows(2, 3, "(?, $1, ?)"), "($3, $1, $4), ($5, $1, $6)");
        assert_eq!(values_rows(1, 1, "(?, ?, 'new', ?)"), "($1, $2, 'new', $3)");
        assert_eq!(values_rows(3, 1, "(?)"), "($1), ($2), ($3)");
        assert_eq!(values_rows(0, 1, "(?)"), "");
        // Past nine, numbers take two digits and go on counting.
        assert!(values_rows(6, 1, "(?, ?)").ends_with("($11, $12)"));
    }
}
