//! SQLite: a commit made durable by an fsync of the WAL outside the writer's turn.
//!
//! With `synchronous=FULL` SQLite fsyncs the WAL inside `COMMIT`, while the commit still
//! holds the write lock and the writer's turn, so every write in the process waited for the
//! disk of the one before: ~1 ms each, 7–15 ms a few times a second under continuous
//! creates (docs/BENCHMARKS.md, session 18). The writer's connection therefore commits with
//! `synchronous=NORMAL` (the frames are written, not flushed), lets the next writer in, and
//! only then waits here for an fsync of the WAL file that covers its commit. Commits that
//! wait together share one fsync: whoever finds none running starts one for every commit
//! made so far, and those that arrive meanwhile wait for the next.
//!
//! An fsync covers every page written to the file before it, whoever wrote them; the WAL
//! is only appended to (or started over after a checkpoint, which SQLite itself flushes
//! first), so a later commit's flush covers the earlier ones. The first flush of a WAL
//! file also flushes its directory, as SQLite does for a new journal, so that the file
//! itself survives a power cut. A failed fsync is final: the kernel may have dropped the
//! pages it could not write and would report the next fsync as a success, so every later
//! commit is refused until the server restarts and SQLite recovers the WAL as it is on disk.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The WAL of one SQLite database and how far its commits are on the disk.
#[derive(Debug)]
pub struct WalSync {
    wal: PathBuf,
    dir: PathBuf,
    /// Commits made (counted inside the writer's turn, so in the WAL's order).
    committed: AtomicU64,
    /// Commits known to be on the disk.
    synced: AtomicU64,
    /// fsyncs run, for the benchmark and the tests.
    syncs: AtomicU64,
    failed: AtomicBool,
    /// One fsync at a time; those waiting queue here, in turn.
    running: tokio::sync::Mutex<()>,
    /// The WAL file last flushed (device, inode): a new one needs its directory flushed too.
    file: Mutex<Option<(u64, u64)>>,
}

/// How far a database's commits are durable: commits made, commits flushed, fsyncs run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Durability {
    pub committed: u64,
    pub synced: u64,
    pub syncs: u64,
}

impl WalSync {
    pub(crate) fn new(db_file: &std::path::Path) -> WalSync {
        let mut wal = db_file.as_os_str().to_owned();
        wal.push("-wal");
        let dir = match db_file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        WalSync {
            wal: PathBuf::from(wal),
            dir,
            committed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            failed: AtomicBool::new(false),
            running: tokio::sync::Mutex::new(()),
            file: Mutex::new(None),
        }
    }

    /// Counts a commit; call it inside the writer's turn, right after `COMMIT` returned.
    pub(crate) fn committed(&self) -> u64 {
        self.committed.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub fn durability(&self) -> Durability {
        Durability {
            committed: self.committed.load(Ordering::SeqCst),
            synced: self.synced.load(Ordering::SeqCst),
            syncs: self.syncs.load(Ordering::SeqCst),
        }
    }

    /// Returns once commit `seq` (from [`WalSync::committed`]) is on the disk.
    pub(crate) async fn flushed(&self, seq: u64) -> std::io::Result<()> {
        loop {
            if self.failed.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("an earlier fsync of the WAL failed; restart the server"));
            }
            if self.synced.load(Ordering::SeqCst) >= seq {
                return Ok(());
            }
            let _running = self.running.lock().await;
            if self.failed.load(Ordering::SeqCst) || self.synced.load(Ordering::SeqCst) >= seq {
                continue;
            }
            // Every commit made so far is in the file's pages by now: one fsync covers them all.
            let through = self.committed.load(Ordering::SeqCst);
            let (wal, dir) = (self.wal.clone(), self.dir.clone());
            let last = *self.file.lock().unwrap_or_else(|e| e.into_inner());
            let started = std::time::Instant::now();
            let done = tokio::task::spawn_blocking(move || flush(&wal, &dir, last))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
            self.syncs.fetch_add(1, Ordering::SeqCst);
            if started.elapsed() >= crate::db::SLOW_WRITE {
                // Every answer waiting for it waited this long, outside any transaction.
                tracing::warn!(took_ms = started.elapsed().as_millis() as u64, "slow fsync of the WAL");
            }
            match done {
                Ok(file) => {
                    *self.file.lock().unwrap_or_else(|e| e.into_inner()) = file;
                    self.synced.fetch_max(through, Ordering::SeqCst);
                }
                Err(e) => {
                    self.failed.store(true, Ordering::SeqCst);
                    tracing::error!(error = %e, wal = %self.wal.display(), "fsync of the WAL failed; no write is answered any more");
                    return Err(e);
                }
            }
        }
    }
}

/// fsyncs the WAL file, and its directory when the file is not the one flushed last time;
/// answers the file's (device, inode). No WAL file: a checkpoint copied everything into the
/// database file, flushed it, and removed the WAL (the last connection closed).
fn flush(
    wal: &std::path::Path,
    dir: &std::path::Path,
    last: Option<(u64, u64)>,
) -> std::io::Result<Option<(u64, u64)>> {
    let f = match std::fs::File::open(wal) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    f.sync_data()?;
    let file = identity(&f.metadata()?);
    if file != last {
        sync_dir(dir)?;
    }
    Ok(file)
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(unix)]
fn sync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

// Elsewhere a directory is not a file to open and flush; the file system keeps its entries.
#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(not(unix))]
fn sync_dir(_: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

tokio::task_local! {
    /// Inside [`deferring_sync`]: the last commit made there that still waits for its fsync.
    static DEFERRED: std::cell::RefCell<Option<Pending>>;
}

/// A commit made but not yet known to be on the disk; [`Pending::wait`] before answering it.
#[derive(Debug)]
pub struct Pending {
    wal: std::sync::Arc<WalSync>,
    seq: u64,
}

impl Pending {
    pub async fn wait(self) -> std::io::Result<()> {
        self.wal.flushed(self.seq).await
    }
}

/// Runs `write` with its SQLite commits returning before their fsync; answers what it
/// returned and, if it committed anything, the commit to wait for before answering anyone
/// (waiting for the last covers the ones before it). The group commit uses it to start the
/// next group while this one's pages go to the disk. Outside it, a commit returns once it
/// is durable.
pub async fn deferring_sync<T>(write: impl std::future::Future<Output = T>) -> (T, Option<Pending>) {
    DEFERRED
        .scope(std::cell::RefCell::new(None), async move {
            let out = write.await;
            (out, DEFERRED.with(|d| d.borrow_mut().take()))
        })
        .await
}

/// After a commit (seq) on `wal`: waits for its fsync, or inside [`deferring_sync`] leaves
/// that to the caller.
pub(crate) async fn after_commit(wal: std::sync::Arc<WalSync>, seq: u64) -> std::io::Result<()> {
    let deferred = DEFERRED
        .try_with(|d| {
            let mut d = d.borrow_mut();
            match d.as_ref() {
                // Waiting for the later commit covers the earlier one (of the same database).
                Some(p) if !std::sync::Arc::ptr_eq(&p.wal, &wal) => false,
                Some(p) if p.seq > seq => true,
                _ => {
                    *d = Some(Pending { wal: wal.clone(), seq });
                    true
                }
            }
        })
        .unwrap_or(false);
    if deferred { Ok(()) } else { wal.flushed(seq).await }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a test's failure is its panic
mod tests {
    use super::*;

    fn temp_db(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("aftercare-durable-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("a.db")
    }

    #[tokio::test]
    async fn one_fsync_covers_every_commit_made_before_it() {
        let db = temp_db("cover");
        std::fs::write(format!("{}-wal", db.display()), b"frames").unwrap();
        let w = WalSync::new(&db);
        let (a, b) = (w.committed(), w.committed());
        assert_eq!((a, b), (1, 2));
        w.flushed(a).await.unwrap();
        assert_eq!(w.durability(), Durability { committed: 2, synced: 2, syncs: 1 }, "the later commit came along");
        w.flushed(b).await.unwrap();
        assert_eq!(w.durability().syncs, 1, "already on the disk: no second fsync");
        let first = *w.file.lock().unwrap();
        assert!(first.is_some(), "the WAL file flushed is remembered (its directory was flushed too)");
        // A new WAL file (the old one gone and made again) is a new inode: its directory is
        // flushed again. The old one is moved aside, not removed, so that its inode is still
        // in use and the new file cannot be given the same one.
        std::fs::rename(format!("{}-wal", db.display()), db.with_file_name("old-wal")).unwrap();
        std::fs::write(format!("{}-wal", db.display()), b"frames").unwrap();
        let c = w.committed();
        w.flushed(c).await.unwrap();
        let second = *w.file.lock().unwrap();
        assert!(second.is_some() && second != first, "{first:?} then {second:?}");
        // No WAL at all (checkpointed and removed): nothing to flush.
        std::fs::remove_file(format!("{}-wal", db.display())).unwrap();
        let d = w.committed();
        w.flushed(d).await.unwrap();
        assert_eq!(w.durability(), Durability { committed: 4, synced: 4, syncs: 3 });
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }

    #[tokio::test]
    async fn a_failed_fsync_refuses_every_later_commit() {
        // The "directory" is a file: opening the WAL fails, and not as "not found".
        let db = temp_db("fail");
        std::fs::write(db.with_file_name("plain"), b"x").unwrap();
        let w = WalSync::new(&db.with_file_name("plain").join("a.db"));
        let a = w.committed();
        assert!(w.flushed(a).await.is_err());
        let b = w.committed();
        assert!(w.flushed(b).await.is_err(), "no later fsync is trusted");
        assert_eq!(w.durability().synced, 0);
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }

    #[tokio::test]
    async fn inside_deferring_sync_a_commit_leaves_its_fsync_to_the_caller() {
        let db = temp_db("defer");
        std::fs::write(format!("{}-wal", db.display()), b"frames").unwrap();
        let w = std::sync::Arc::new(WalSync::new(&db));
        let w2 = w.clone();
        let ((), pending) = deferring_sync(async move {
            let a = w2.committed();
            after_commit(w2.clone(), a).await.unwrap();
            let b = w2.committed();
            after_commit(w2.clone(), b).await.unwrap();
        })
        .await;
        assert_eq!(w.durability(), Durability { committed: 2, synced: 0, syncs: 0 }, "nothing waited inside");
        let pending = pending.expect("the commits are pending");
        assert_eq!(pending.seq, 2, "the later commit is the one to wait for");
        pending.wait().await.unwrap();
        assert_eq!(w.durability(), Durability { committed: 2, synced: 2, syncs: 1 });
        // Outside the scope a commit waits for its own fsync.
        let c = w.committed();
        after_commit(w.clone(), c).await.unwrap();
        assert_eq!(w.durability().synced, 3);
        let _ = std::fs::remove_dir_all(db.parent().unwrap());
    }
}
