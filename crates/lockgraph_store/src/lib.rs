//! lockgraph's history: an embedded SQLite file (no server) of what production logs showed over
//! time — transaction shapes with counts and first/last seen, the lock-order edges they take,
//! deadlock signatures with every occurrence, lock-wait statistics, live samples, and one row per
//! run with its findings.
//!
//! - [`Store::open`] creates or migrates the file (versioned migrations keyed by
//!   `PRAGMA user_version`, WAL journal) and is the only way in; no rusqlite type leaves this
//!   crate, errors are [`Error`]s naming the file.
//! - [`Store::ingest`] writes one [`Ingest`] (what one read of one log file found, plus the
//!   file's new [`FileState`]) in ONE SQLite transaction: a crash (even `SIGKILL`) leaves the
//!   store as it was before or after, never half-way, so the saved offset always matches the
//!   counts.
//! - [`Store::file_state`] tells where the previous read of a file (identified by [`FileId`])
//!   stopped; the caller resumes there.
//! - Reading back: [`Store::shapes`] (the stored [`Transaction`]s with counts),
//!   [`Store::deadlocks`], [`Store::edges`], [`Store::wait_stats`], [`Store::worst_waits`],
//!   [`Store::runs`], [`Store::live_samples`]; [`Store::record_run`] and
//!   [`Store::add_live_sample`] append, [`Store::add_live`] adds a watch's [`LiveBatch`] (its
//!   samples and learned shapes) in one transaction.
//! - [`Store::merge_from`] adds another store (made on another machine) key by key; each store's
//!   [`Store::store_id`] and [`Store::generation`], recorded as [`Source`]s, make a repeated
//!   merge add nothing ([`Merged::AlreadyPresent`]).
//!
//! ```
//! use lockgraph_store::{FileState, Ingest, Store};
//! let dir = tempfile::tempdir().expect("a temporary directory");
//! let mut store = Store::open(&dir.path().join("history.sqlite"))?;
//! let file = FileState { path: "pg.log".into(), dev: 1, inode: 2, head_len: 0, head_hash: 0,
//!     size: 0, resume_offset: 0, resume_line: 1, counted_through: 0 };
//! store.ingest(&Ingest { file, ..Ingest::default() })?;
//! assert!(store.shapes()?.is_empty());
//! assert_eq!(store.integrity_check()?, "ok");
//! # Ok::<(), lockgraph_store::Error>(())
//! ```
//!
//! # Design notes
//!
//! - **Identity across runs.** A transaction shape is keyed by [`shape_key`]: a stable 64-bit
//!   FNV hash of its kind, its redacted statements (literals and bind placeholders as `?`) and its lock sequence
//!   (targets without key values, modes). The same shape from another run, file or host has the
//!   same key, so counts add up. The redacted transaction is stored as JSON once per shape.
//! - **No literal is stored.** Before anything is written, statement texts become their
//!   redacted form and the values lock keys are written with (`id = 42`, advisory keys, filter
//!   values) become placeholders numbered within the transaction (`redact`): the same row
//!   keeps one placeholder, different rows different ones. Deadlock participants and stored
//!   lock waits are redacted the same way. A test reads the database file and its WAL and finds
//!   none of the log's literals.
//!   Deadlocks are keyed by their signature, edges by `(from, to)` lock nodes, wait statistics
//!   by `(outcome, relation)`: every count is a sum over natural keys, so merging two stores
//!   (`lockgraph merge`) is adding rows key by key. Only `files` (read positions) is
//!   per machine and is not merged.
//! - **Files.** A file is identified by `(dev, inode)`, and its content by the size and an FNV
//!   hash of its first 4 KiB ([`FileState::head_hash`] over `head_len` bytes). A renamed
//!   (rotated) file keeps its identity; a new file at the old path is a new identity; a file that
//!   shrank or whose head changed is read again from the start.
//! - **Crash safety.** Every write is one transaction; WAL mode with `synchronous = NORMAL`
//!   (a committed transaction may be lost on power failure, never half-applied).
#![warn(missing_docs)]

use lockgraph_core::{Fingerprint, LockWait, ObservedDeadlock, Transaction};

/// What the store keeps of statements: redacted texts, key values as placeholders.
mod redact;

/// Turns a SQLite error into [`Error::Sqlite`] for the store at `path` doing `what`.
fn sqlite_error(path: &str, what: &'static str) -> impl Fn(rusqlite::Error) -> Error + use<> {
    let path = path.to_string();
    move |e| Error::Sqlite {
        path: path.clone(),
        what,
        message: e.to_string(),
    }
}

/// Turns a JSON error into [`Error::Decode`] for the store at `path` reading `what`.
fn json_error(path: &str, what: &'static str) -> impl Fn(serde_json::Error) -> Error + use<> {
    let path = path.to_string();
    move |e| Error::Decode {
        path: path.clone(),
        what,
        message: e.to_string(),
    }
}

/// `(key, json, count, first_seen, last_seen)` as read from `shapes` or `deadlocks`.
type CountedRow = (String, String, i64, Option<String>, Option<String>);
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// Errors of the store; each names the store file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed (open, migrate, read or write).
    #[error("{path}: {what}: {message}")]
    Sqlite {
        /// The store file.
        path: String,
        /// What was being done.
        what: &'static str,
        /// SQLite's message.
        message: String,
    },
    /// The file was written by a newer lockgraph.
    #[error("{path}: store schema version {found} is newer than this lockgraph ({supported})")]
    TooNew {
        /// The store file.
        path: String,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Merging the input would count some of its data twice.
    #[error("{path}: cannot merge {input}: {reason}; merge the shards into a new file instead")]
    MergeOverlap {
        /// The store merged into.
        path: String,
        /// The input store.
        input: String,
        /// Which data overlaps.
        reason: String,
    },
    /// A stored JSON value does not decode (a damaged or foreign file).
    #[error("{path}: stored {what} does not decode: {message}")]
    Decode {
        /// The store file.
        path: String,
        /// Which value.
        what: &'static str,
        /// The decoder's message.
        message: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// The migrations, in order: migration `i` brings `user_version` from `i` to `i + 1`. Never edit
/// a released one; append.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE shapes (
        key TEXT PRIMARY KEY,
        tx_json TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_seen TEXT,
        last_seen TEXT,
        location TEXT NOT NULL
    );
    CREATE TABLE lock_edges (
        from_node TEXT NOT NULL,
        to_node TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (from_node, to_node)
    );
    CREATE TABLE deadlocks (
        signature TEXT PRIMARY KEY,
        deadlock_json TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_seen TEXT,
        last_seen TEXT
    );
    CREATE TABLE deadlock_occurrences (
        signature TEXT NOT NULL REFERENCES deadlocks(signature),
        location TEXT NOT NULL,
        at TEXT
    );
    CREATE INDEX deadlock_occurrences_signature ON deadlock_occurrences(signature);
    CREATE TABLE lock_wait_stats (
        outcome TEXT NOT NULL,
        relation TEXT NOT NULL,
        count INTEGER NOT NULL,
        total_ms REAL NOT NULL,
        max_ms REAL NOT NULL,
        PRIMARY KEY (outcome, relation)
    );
    CREATE TABLE worst_waits (
        waited_ms REAL NOT NULL,
        wait_json TEXT NOT NULL
    );
    CREATE TABLE live_samples (
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        sample_json TEXT NOT NULL
    );
    CREATE TABLE files (
        dev INTEGER NOT NULL,
        inode INTEGER NOT NULL,
        path TEXT NOT NULL,
        head_len INTEGER NOT NULL,
        head_hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        resume_offset INTEGER NOT NULL,
        resume_line INTEGER NOT NULL,
        counted_through INTEGER NOT NULL,
        PRIMARY KEY (dev, inode)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at INTEGER NOT NULL,
        command TEXT NOT NULL,
        inputs_json TEXT NOT NULL,
        summary_json TEXT NOT NULL,
        findings_json TEXT NOT NULL
    );",
    // 2: the store's identity and the stores merged into it (`lockgraph merge`).
    "CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
    INSERT INTO meta (key, value)
        SELECT 'generation', CASE WHEN EXISTS (SELECT 1 FROM files) THEN '1' ELSE '0' END;
    CREATE TABLE merged_sources (
        store_id TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        path TEXT NOT NULL
    );",
];

/// Worst waits kept (by `waited_ms`) over the whole history.
pub const WORST_WAITS: usize = 50;

/// Where `--store` without a value puts the history: `<data dir>/lockgraph/history.sqlite`
/// (`$XDG_DATA_HOME` or `~/.local/share` on Linux, `~/Library/Application Support` on macOS,
/// `%APPDATA%` on Windows). `None` when the platform has no data directory.
pub fn default_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("lockgraph").join("history.sqlite"))
}

/// The stable identity of a transaction shape (16 hex digits): kind, redacted statements (bind
/// placeholders as `?`), locks (targets without key values, modes, implicit or not).
pub fn shape_key(tx: &Transaction) -> String {
    let mut parts: Vec<Vec<u8>> = vec![format!("{:?}", tx.kind).into_bytes()];
    for s in &tx.statements {
        parts.push(placeholders_as_literals(&s.redacted).into_bytes());
    }
    parts.push(b"|locks".to_vec());
    for l in &tx.locks {
        parts.push(format!("{}|{}|{}", l.target.node(), l.mode, l.implicit.is_some()).into_bytes());
    }
    format!(
        "{:016x}",
        Fingerprint::of(parts.iter().map(|p| p.as_slice())).0
    )
}

/// A redacted statement with bind placeholders (`$1`) written as the redacted literal `?`:
/// the same statement logged with its parameters substituted or not has one identity.
fn placeholders_as_literals(redacted: &str) -> String {
    let mut out = String::with_capacity(redacted.len());
    let mut chars = redacted.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// The lock-order edges of a transaction: `(a, b)` for every lock node `a` taken before a
/// different node `b`, once each.
pub fn lock_edges(tx: &Transaction) -> Vec<(String, String)> {
    let nodes: Vec<String> = tx
        .locks
        .iter()
        .map(|l| l.target.node().to_string())
        .collect();
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, a) in nodes.iter().enumerate() {
        for b in &nodes[i + 1..] {
            if a != b && !out.iter().any(|(x, y)| x == a && y == b) {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

/// FNV-1a 64 of `bytes` (stable across builds; used for file heads).
pub fn head_hash(bytes: &[u8]) -> u64 {
    Fingerprint::of([bytes]).0
}

/// A log file's identity on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileId {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub inode: u64,
}

/// Where the reading of one file stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileState {
    /// The path it was last read under.
    pub path: String,
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub inode: u64,
    /// Bytes of the head hashed (up to 4096; less while the file was smaller).
    pub head_len: u64,
    /// [`head_hash`] of the first `head_len` bytes.
    pub head_hash: u64,
    /// Bytes read so far (the end of the last complete line read).
    pub size: u64,
    /// Byte offset where the next read starts: the start of the oldest transaction (or wait)
    /// still open at the end of the last read, else `size`.
    pub resume_offset: u64,
    /// The line number at `resume_offset` (1-based).
    pub resume_line: u32,
    /// The last line whose events were counted: a resumed read counts only what ends after it.
    pub counted_through: u32,
}

/// What one read of one file adds.
#[derive(Clone, Debug, Default)]
pub struct Ingest {
    /// The file's new state.
    pub file: FileState,
    /// Transaction shapes: `(transaction, count, first_seen, last_seen)`.
    pub shapes: Vec<(Transaction, u64, Option<String>, Option<String>)>,
    /// Deadlock signatures seen (their `count` and first/last seen are this read's).
    pub deadlocks: Vec<ObservedDeadlock>,
    /// Every deadlock report: `(index in deadlocks, location, timestamp)`.
    pub occurrences: Vec<(usize, String, Option<String>)>,
    /// Lock waits (complete ones).
    pub waits: Vec<LockWait>,
}

/// What one sample of `lockgraph live --watch --store` adds ([`Store::add_live`]).
#[derive(Clone, Debug, Default)]
pub struct LiveBatch {
    /// The server watched (`live postgres://app@db:5432/shop`).
    pub source: String,
    /// Sample summaries: `(taken_at, summary)`.
    pub samples: Vec<(String, serde_json::Value)>,
    /// Transactions followed to their end: `(transaction, count, first_seen, last_seen)`, keyed
    /// by [`shape_key`] like those of the logs.
    pub shapes: Vec<(Transaction, u64, Option<String>, Option<String>)>,
}

/// A stored transaction shape.
#[derive(Clone, Debug)]
pub struct StoredShape {
    /// [`shape_key`].
    pub key: String,
    /// The first transaction of this shape (redacted statements; its log location).
    pub transaction: Transaction,
    /// Transactions of this shape over the whole history.
    pub count: u64,
    /// Log timestamp of the first one.
    pub first_seen: Option<String>,
    /// Log timestamp of the last one.
    pub last_seen: Option<String>,
}

/// A stored deadlock signature.
#[derive(Clone, Debug)]
pub struct StoredDeadlock {
    /// The first report of this signature, with `count`, `first_seen`, `last_seen` over the
    /// whole history.
    pub deadlock: ObservedDeadlock,
    /// Every occurrence: `(location, timestamp)`, in the order stored.
    pub occurrences: Vec<(String, Option<String>)>,
}

/// Lock waits by outcome and relation.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitStat {
    /// `acquired`, `deadlock`, `timeout`, … (the outcome's JSON name).
    pub outcome: String,
    /// The relation waited for (empty when unknown).
    pub relation: String,
    /// How many waits.
    pub count: u64,
    /// Their total wait, ms.
    pub total_ms: f64,
    /// The longest, ms.
    pub max_ms: f64,
}

/// One run of lockgraph recorded in the store.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Unix time (seconds).
    pub started_at: i64,
    /// `logs`, `check`, …
    pub command: String,
    /// Inputs as JSON (paths).
    pub inputs: serde_json::Value,
    /// Counters as JSON (bytes read, transactions added, …).
    pub summary: serde_json::Value,
    /// The run's findings as JSON.
    pub findings: serde_json::Value,
}

/// A store whose data another holds (see [`Store::merge_from`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Its [`Store::store_id`].
    pub store_id: String,
    /// Its [`Store::generation`] when it was merged (or now, for the store itself).
    pub generation: u64,
    /// Its path when it was merged (for messages only).
    pub path: String,
}

/// What [`Store::merge_from`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Merged {
    /// The input's rows were added: its shapes, signatures and deadlock occurrences.
    Added {
        /// Shape rows read.
        shapes: u64,
        /// Deadlock signature rows read.
        deadlocks: u64,
        /// Deadlock occurrences appended.
        occurrences: u64,
    },
    /// Everything the input holds was merged here before: nothing added.
    AlreadyPresent,
    /// The input holds nothing.
    Empty,
}

/// The history file.
pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (creating it and its directory if needed) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::Sqlite {
                path: shown.clone(),
                what: "cannot create its directory",
                message: e.to_string(),
            })?;
        }
        let conn = Connection::open(path).map_err(sqlite_error(&shown, "cannot open"))?;
        let mut store = Store { conn, path: shown };
        store
            .conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| store.err("cannot set the busy timeout", e))?;
        store
            .conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| store.err("cannot set WAL mode (not a SQLite file?)", e))?;
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, what: &'static str, e: rusqlite::Error) -> Error {
        sqlite_error(&self.path, what)(e)
    }

    fn decode(&self, what: &'static str, e: serde_json::Error) -> Error {
        json_error(&self.path, what)(e)
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err("cannot read the schema version", e))
    }

    fn migrate(&mut self) -> Result<()> {
        let supported = MIGRATIONS.len() as i64;
        let found = self.schema_version()?;
        if found > supported {
            return Err(Error::TooNew {
                path: self.path.clone(),
                found,
                supported,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let path = self.path.clone();
            let tx = self
                .conn
                .transaction()
                .map_err(sqlite_error(&path, "cannot begin a migration"))?;
            let step = tx
                .execute_batch(sql)
                .and_then(|()| tx.pragma_update(None, "user_version", i as i64 + 1))
                .and_then(|()| tx.commit());
            step.map_err(sqlite_error(&path, "migration failed"))?;
        }
        Ok(())
    }

    /// `PRAGMA integrity_check`: `"ok"` for a sound file.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.err("integrity check failed", e))
    }

    /// Where the reading of the file `id` stands, if it was read before.
    pub fn file_state(&self, id: FileId) -> Result<Option<FileState>> {
        self.conn
            .query_row(
                "SELECT path, head_len, head_hash, size, resume_offset, resume_line, counted_through
                 FROM files WHERE dev = ?1 AND inode = ?2",
                params![id.dev as i64, id.inode as i64],
                |r| {
                    let hash: String = r.get(2)?;
                    Ok(FileState {
                        path: r.get(0)?,
                        dev: id.dev,
                        inode: id.inode,
                        head_len: r.get::<_, i64>(1)? as u64,
                        head_hash: u64::from_str_radix(&hash, 16).unwrap_or(0),
                        size: r.get::<_, i64>(3)? as u64,
                        resume_offset: r.get::<_, i64>(4)? as u64,
                        resume_line: r.get::<_, i64>(5)? as u32,
                        counted_through: r.get::<_, i64>(6)? as u32,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err("cannot read the file table", e))
    }

    /// Adds what one read of one file found and saves the file's new state, in one transaction.
    pub fn ingest(&mut self, batch: &Ingest) -> Result<()> {
        let path = self.path.clone();
        let sql_err = |what| sqlite_error(&path, what);
        let json_err = |what| json_error(&path, what);
        let tx = self
            .conn
            .transaction()
            .map_err(sql_err("cannot begin the ingest"))?;
        {
            write_shapes(&tx, &path, &batch.shapes)?;
            let mut dl = tx
                .prepare_cached(
                    "INSERT INTO deadlocks (signature, deadlock_json, count, first_seen, last_seen)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(signature) DO UPDATE SET
                       count = count + excluded.count,
                       first_seen = CASE WHEN first_seen IS NULL OR excluded.first_seen < first_seen
                                    THEN excluded.first_seen ELSE first_seen END,
                       last_seen = CASE WHEN last_seen IS NULL OR excluded.last_seen > last_seen
                                   THEN excluded.last_seen ELSE last_seen END",
                )
                .map_err(sql_err("cannot prepare"))?;
            for d in &batch.deadlocks {
                let json =
                    serde_json::to_string(&redact::deadlock(d)).map_err(json_err("deadlock"))?;
                dl.execute(params![
                    d.signature.to_string(),
                    json,
                    d.count as i64,
                    d.first_seen,
                    d.last_seen
                ])
                .map_err(sql_err("cannot write a deadlock"))?;
            }
            let mut occ = tx
                .prepare_cached(
                    "INSERT INTO deadlock_occurrences (signature, location, at) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql_err("cannot prepare"))?;
            for (i, loc, at) in &batch.occurrences {
                if let Some(d) = batch.deadlocks.get(*i) {
                    occ.execute(params![d.signature.to_string(), loc, at])
                        .map_err(sql_err("cannot write a deadlock occurrence"))?;
                }
            }
            let mut ws = tx
                .prepare_cached(
                    "INSERT INTO lock_wait_stats (outcome, relation, count, total_ms, max_ms)
                     VALUES (?1, ?2, 1, ?3, ?3)
                     ON CONFLICT(outcome, relation) DO UPDATE SET
                       count = count + 1, total_ms = total_ms + excluded.total_ms,
                       max_ms = max(max_ms, excluded.max_ms)",
                )
                .map_err(sql_err("cannot prepare"))?;
            let mut worst = tx
                .prepare_cached("INSERT INTO worst_waits (waited_ms, wait_json) VALUES (?1, ?2)")
                .map_err(sql_err("cannot prepare"))?;
            for w in &batch.waits {
                let outcome = serde_json::to_value(w.outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("{:?}", w.outcome));
                let relation = w
                    .relation
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                ws.execute(params![outcome, relation, w.waited_ms])
                    .map_err(sql_err("cannot write a lock wait"))?;
                let json =
                    serde_json::to_string(&redact::wait(w)).map_err(json_err("lock wait"))?;
                worst
                    .execute(params![w.waited_ms, json])
                    .map_err(sql_err("cannot write a lock wait"))?;
            }
            tx.execute(
                "DELETE FROM worst_waits WHERE rowid NOT IN
                   (SELECT rowid FROM worst_waits ORDER BY waited_ms DESC, rowid LIMIT ?1)",
                params![WORST_WAITS as i64],
            )
            .map_err(sql_err("cannot trim the worst waits"))?;
            let f = &batch.file;
            tx.execute(
                "INSERT INTO files (dev, inode, path, head_len, head_hash, size, resume_offset,
                                    resume_line, counted_through)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(dev, inode) DO UPDATE SET path = excluded.path,
                   head_len = excluded.head_len, head_hash = excluded.head_hash,
                   size = excluded.size, resume_offset = excluded.resume_offset,
                   resume_line = excluded.resume_line, counted_through = excluded.counted_through",
                params![
                    f.dev as i64,
                    f.inode as i64,
                    f.path,
                    f.head_len as i64,
                    format!("{:016x}", f.head_hash),
                    f.size as i64,
                    f.resume_offset as i64,
                    i64::from(f.resume_line),
                    i64::from(f.counted_through)
                ],
            )
            .map_err(sql_err("cannot write the file state"))?;
            tx.execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'",
                [],
            )
            .map_err(sql_err("cannot count the ingest"))?;
        }
        tx.commit().map_err(sql_err("cannot commit the ingest"))
    }

    /// This store's identity: 32 hex digits drawn when the file was created.
    pub fn store_id(&self) -> Result<String> {
        self.meta("store_id")
    }

    /// How many ingests wrote into this store (its own data, merges not counted).
    pub fn generation(&self) -> Result<u64> {
        Ok(self.meta("generation")?.parse().unwrap_or(0))
    }

    fn meta(&self, key: &str) -> Result<String> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .map_err(|e| self.err("cannot read the store identity", e))
    }

    /// The stores whose data this one holds, with the generation each had: itself (when it
    /// ingested anything) and every store merged into it.
    pub fn sources(&self) -> Result<Vec<Source>> {
        let mut out = Vec::new();
        let generation = self.generation()?;
        if generation > 0 {
            out.push(Source {
                store_id: self.store_id()?,
                generation,
                path: self.path.clone(),
            });
        }
        let mut st = self
            .conn
            .prepare("SELECT store_id, generation, path FROM merged_sources ORDER BY store_id")
            .map_err(|e| self.err("cannot read the merged sources", e))?;
        let rows: Vec<Source> = st
            .query_map([], |r| {
                Ok(Source {
                    store_id: r.get(0)?,
                    generation: r.get::<_, i64>(1)? as u64,
                    path: r.get(2)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("cannot read the merged sources", e))?;
        out.extend(rows);
        Ok(out)
    }

    /// Whether nothing was stored: no shape, deadlock or lock wait.
    pub fn is_empty(&self) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM shapes) AND NOT EXISTS (SELECT 1 FROM deadlocks)
                   AND NOT EXISTS (SELECT 1 FROM lock_wait_stats)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err("cannot read the store", e))
    }

    /// Adds everything the store at `path` holds (its own data and what was merged into it)
    /// to this one, in one transaction: counts add up key by key, first/last seen widen,
    /// deadlock occurrences, worst waits and live samples are appended (worst waits trimmed to
    /// [`WORST_WAITS`]). File positions (`files`) and runs are not merged.
    ///
    /// Merging is idempotent per source: every store has a random id and counts its ingests
    /// (its generation), and this store remembers the `(id, generation)` of everything merged
    /// into it. An input whose sources are all here already at the same generation adds
    /// nothing ([`Merged::AlreadyPresent`]); an input that shares only some of them, or holds
    /// one at another generation (it ingested more since), is refused with
    /// [`Error::MergeOverlap`]: adding it would count the shared part twice.
    pub fn merge_from(&mut self, path: &Path) -> Result<Merged> {
        let other = Store::open(path)?;
        let theirs = other.sources()?;
        drop(other);
        if theirs.is_empty() {
            return Ok(Merged::Empty);
        }
        let ours = self.sources()?;
        let mut present = 0;
        for s in &theirs {
            if let Some(o) = ours.iter().find(|o| o.store_id == s.store_id) {
                if o.generation != s.generation {
                    return Err(Error::MergeOverlap {
                        path: self.path.clone(),
                        input: path.display().to_string(),
                        reason: format!(
                            "it holds store {} ({}) at generation {} and this store holds it at generation {}",
                            s.store_id, s.path, s.generation, o.generation
                        ),
                    });
                }
                present += 1;
            }
        }
        if present == theirs.len() {
            return Ok(Merged::AlreadyPresent);
        }
        if present > 0 {
            return Err(Error::MergeOverlap {
                path: self.path.clone(),
                input: path.display().to_string(),
                reason: format!(
                    "{present} of the {} stores it holds are already merged here",
                    theirs.len()
                ),
            });
        }
        let shown = path.display().to_string();
        self.conn
            .execute("ATTACH DATABASE ?1 AS src", params![shown])
            .map_err(|e| self.err("cannot attach the input store", e))?;
        let result = self.merge_attached(&theirs);
        let detach = self
            .conn
            .execute("DETACH DATABASE src", [])
            .map_err(|e| self.err("cannot detach the input store", e));
        let counts = result?;
        detach?;
        Ok(counts)
    }

    fn merge_attached(&mut self, theirs: &[Source]) -> Result<Merged> {
        let path = self.path.clone();
        let e = |what| sqlite_error(&path, what);
        let tx = self
            .conn
            .transaction()
            .map_err(e("cannot begin the merge"))?;
        let count = |table: &str| -> rusqlite::Result<u64> {
            tx.query_row(&format!("SELECT count(*) FROM src.{table}"), [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        };
        let shapes = count("shapes").map_err(e("cannot read the input store"))?;
        let deadlocks = count("deadlocks").map_err(e("cannot read the input store"))?;
        let occurrences =
            count("deadlock_occurrences").map_err(e("cannot read the input store"))?;
        let widen = "first_seen = CASE WHEN first_seen IS NULL OR excluded.first_seen < first_seen
                                  THEN excluded.first_seen ELSE first_seen END,
                     last_seen = CASE WHEN last_seen IS NULL OR excluded.last_seen > last_seen
                                 THEN excluded.last_seen ELSE last_seen END";
        // The representative is the earliest one seen, whichever input holds it.
        let earliest = "tx_json = CASE WHEN excluded.first_seen < first_seen
                                  THEN excluded.tx_json ELSE tx_json END,
                        location = CASE WHEN excluded.first_seen < first_seen
                                   THEN excluded.location ELSE location END";
        tx.execute_batch(&format!(
            "INSERT INTO shapes (key, tx_json, count, first_seen, last_seen, location)
               SELECT key, tx_json, count, first_seen, last_seen, location FROM src.shapes WHERE true
               ON CONFLICT(key) DO UPDATE SET count = count + excluded.count, {earliest}, {widen};
             INSERT INTO lock_edges (from_node, to_node, count)
               SELECT from_node, to_node, count FROM src.lock_edges WHERE true
               ON CONFLICT(from_node, to_node) DO UPDATE SET count = count + excluded.count;
             INSERT INTO deadlocks (signature, deadlock_json, count, first_seen, last_seen)
               SELECT signature, deadlock_json, count, first_seen, last_seen FROM src.deadlocks WHERE true
               ON CONFLICT(signature) DO UPDATE SET count = count + excluded.count,
                 deadlock_json = CASE WHEN excluded.first_seen < first_seen
                                 THEN excluded.deadlock_json ELSE deadlock_json END, {widen};
             INSERT INTO deadlock_occurrences (signature, location, at)
               SELECT signature, location, at FROM src.deadlock_occurrences ORDER BY rowid;
             INSERT INTO lock_wait_stats (outcome, relation, count, total_ms, max_ms)
               SELECT outcome, relation, count, total_ms, max_ms FROM src.lock_wait_stats WHERE true
               ON CONFLICT(outcome, relation) DO UPDATE SET count = count + excluded.count,
                 total_ms = total_ms + excluded.total_ms, max_ms = max(max_ms, excluded.max_ms);
             INSERT INTO worst_waits (waited_ms, wait_json)
               SELECT waited_ms, wait_json FROM src.worst_waits ORDER BY rowid;
             DELETE FROM worst_waits WHERE rowid NOT IN
               (SELECT rowid FROM worst_waits ORDER BY waited_ms DESC, rowid LIMIT {WORST_WAITS});
             INSERT INTO live_samples (at, source, sample_json)
               SELECT at, source, sample_json FROM src.live_samples ORDER BY rowid;"
        ))
        .map_err(e("cannot merge"))?;
        {
            let mut src = tx
                .prepare(
                    "INSERT INTO merged_sources (store_id, generation, path) VALUES (?1, ?2, ?3)",
                )
                .map_err(e("cannot prepare"))?;
            for s in theirs {
                src.execute(params![s.store_id, s.generation as i64, s.path])
                    .map_err(e("cannot record the merged store"))?;
            }
        }
        tx.commit().map_err(e("cannot commit the merge"))?;
        Ok(Merged::Added {
            shapes,
            deadlocks,
            occurrences,
        })
    }

    /// Rows of `(key, json, count, first_seen, last_seen)` from a counted table (`shapes`,
    /// `deadlocks`): the shape both are stored in.
    fn counted_rows(&self, sql: &str, what: &'static str) -> Result<Vec<CountedRow>> {
        let mut st = self.conn.prepare(sql).map_err(|e| self.err(what, e))?;
        st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(|e| self.err(what, e))
    }

    /// Every stored shape, most frequent first (then by key).
    pub fn shapes(&self) -> Result<Vec<StoredShape>> {
        let rows = self.counted_rows(
            "SELECT key, tx_json, count, first_seen, last_seen FROM shapes
             ORDER BY count DESC, key",
            "cannot read shapes",
        )?;
        rows.into_iter()
            .map(|(key, json, count, first_seen, last_seen)| {
                Ok(StoredShape {
                    key,
                    transaction: serde_json::from_str(&json)
                        .map_err(|e| self.decode("transaction", e))?,
                    count: count as u64,
                    first_seen,
                    last_seen,
                })
            })
            .collect()
    }

    /// Every deadlock signature with its occurrences, most frequent first.
    pub fn deadlocks(&self) -> Result<Vec<StoredDeadlock>> {
        let rows = self.counted_rows(
            "SELECT signature, deadlock_json, count, first_seen, last_seen FROM deadlocks
             ORDER BY count DESC, signature",
            "cannot read deadlocks",
        )?;
        let mut occ = self
            .conn
            .prepare(
                "SELECT location, at FROM deadlock_occurrences WHERE signature = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.err("cannot read deadlock occurrences", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for (sig, json, count, first_seen, last_seen) in rows {
            let mut deadlock: ObservedDeadlock =
                serde_json::from_str(&json).map_err(|e| self.decode("deadlock", e))?;
            deadlock.count = count as u64;
            deadlock.first_seen = first_seen;
            deadlock.last_seen = last_seen;
            let occurrences = occ
                .query_map(params![sig], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.err("cannot read deadlock occurrences", e))?;
            out.push(StoredDeadlock {
                deadlock,
                occurrences,
            });
        }
        Ok(out)
    }

    /// Lock-order edges `(from, to, count)`, sorted.
    pub fn edges(&self) -> Result<Vec<(String, String, u64)>> {
        let mut st = self
            .conn
            .prepare("SELECT from_node, to_node, count FROM lock_edges ORDER BY from_node, to_node")
            .map_err(|e| self.err("cannot read edges", e))?;
        st.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err("cannot read edges", e))
    }

    /// Lock-wait statistics, sorted by outcome and relation.
    pub fn wait_stats(&self) -> Result<Vec<WaitStat>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT outcome, relation, count, total_ms, max_ms FROM lock_wait_stats
                 ORDER BY outcome, relation",
            )
            .map_err(|e| self.err("cannot read lock-wait statistics", e))?;
        st.query_map([], |r| {
            Ok(WaitStat {
                outcome: r.get(0)?,
                relation: r.get(1)?,
                count: r.get::<_, i64>(2)? as u64,
                total_ms: r.get(3)?,
                max_ms: r.get(4)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err("cannot read lock-wait statistics", e))
    }

    /// The longest waits over the history (at most [`WORST_WAITS`]), longest first.
    pub fn worst_waits(&self) -> Result<Vec<LockWait>> {
        let mut st = self
            .conn
            .prepare("SELECT wait_json FROM worst_waits ORDER BY waited_ms DESC, rowid")
            .map_err(|e| self.err("cannot read the worst waits", e))?;
        let rows: Vec<String> = st
            .query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("cannot read the worst waits", e))?;
        rows.iter()
            .map(|j| serde_json::from_str(j).map_err(|e| self.decode("lock wait", e)))
            .collect()
    }

    /// Records a run.
    pub fn record_run(&mut self, run: &Run) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO runs (started_at, command, inputs_json, summary_json, findings_json)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    run.started_at,
                    run.command,
                    run.inputs.to_string(),
                    run.summary.to_string(),
                    run.findings.to_string()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err("cannot record the run", e))
    }

    /// Every recorded run, oldest first.
    pub fn runs(&self) -> Result<Vec<Run>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT started_at, command, inputs_json, summary_json, findings_json FROM runs
                 ORDER BY id",
            )
            .map_err(|e| self.err("cannot read runs", e))?;
        let rows: Vec<(i64, String, String, String, String)> = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err("cannot read runs", e))?;
        rows.into_iter()
            .map(|(started_at, command, i, s, f)| {
                let parse = |t: &str| serde_json::from_str(t).map_err(|e| self.decode("run", e));
                Ok(Run {
                    started_at,
                    command,
                    inputs: parse(&i)?,
                    summary: parse(&s)?,
                    findings: parse(&f)?,
                })
            })
            .collect()
    }

    /// Appends a live sample (`lockgraph live`'s snapshot as JSON) taken at `at` from `source`.
    pub fn add_live_sample(
        &mut self,
        at: &str,
        source: &str,
        sample: &serde_json::Value,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO live_samples (at, source, sample_json) VALUES (?1, ?2, ?3)",
                params![at, source, sample.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.err("cannot add a live sample", e))
    }

    /// Adds one batch of `lockgraph live --watch --store` (its samples' summaries and the
    /// transactions it followed to their end) in ONE transaction: all of it or nothing.
    pub fn add_live(&mut self, batch: &LiveBatch) -> Result<()> {
        let path = self.path.clone();
        let e = |what| sqlite_error(&path, what);
        let tx = self
            .conn
            .transaction()
            .map_err(e("cannot begin the live batch"))?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO live_samples (at, source, sample_json) VALUES (?1, ?2, ?3)",
                )
                .map_err(e("cannot prepare"))?;
            for (at, sample) in &batch.samples {
                ins.execute(params![at, batch.source, sample.to_string()])
                    .map_err(e("cannot add a live sample"))?;
            }
        }
        write_shapes(&tx, &path, &batch.shapes)?;
        tx.execute(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'",
            [],
        )
        .map_err(e("cannot count the live batch"))?;
        tx.commit().map_err(e("cannot commit the live batch"))
    }

    /// Every live sample, oldest first: `(at, source, sample)`.
    pub fn live_samples(&self) -> Result<Vec<(String, String, serde_json::Value)>> {
        let mut st = self
            .conn
            .prepare("SELECT at, source, sample_json FROM live_samples ORDER BY rowid")
            .map_err(|e| self.err("cannot read live samples", e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err("cannot read live samples", e))?;
        rows.into_iter()
            .map(|(at, source, json)| {
                Ok((
                    at,
                    source,
                    serde_json::from_str(&json).map_err(|e| self.decode("live sample", e))?,
                ))
            })
            .collect()
    }

    /// How many live samples are stored.
    pub fn live_sample_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM live_samples", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err("cannot count live samples", e))
    }
}

/// Adds `shapes` (`(transaction, count, first_seen, last_seen)`) and their lock-order edges
/// inside the open transaction `tx` of the store at `path`.
fn write_shapes(
    tx: &rusqlite::Transaction<'_>,
    path: &str,
    shapes: &[(Transaction, u64, Option<String>, Option<String>)],
) -> Result<()> {
    let sql_err = |what| sqlite_error(path, what);
    let json_err = |what| json_error(path, what);
    let mut shape = tx
        .prepare_cached(
            "INSERT INTO shapes (key, tx_json, count, first_seen, last_seen, location)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(key) DO UPDATE SET
                       count = count + excluded.count,
                       first_seen = CASE WHEN first_seen IS NULL OR excluded.first_seen < first_seen
                                    THEN excluded.first_seen ELSE first_seen END,
                       last_seen = CASE WHEN last_seen IS NULL OR excluded.last_seen > last_seen
                                   THEN excluded.last_seen ELSE last_seen END",
        )
        .map_err(sql_err("cannot prepare"))?;
    let mut edge = tx
        .prepare_cached(
            "INSERT INTO lock_edges (from_node, to_node, count) VALUES (?1, ?2, ?3)
                     ON CONFLICT(from_node, to_node) DO UPDATE SET count = count + excluded.count",
        )
        .map_err(sql_err("cannot prepare"))?;
    for (t, count, first, last) in shapes {
        let t = &redact::transaction(t);
        let json = serde_json::to_string(t).map_err(json_err("transaction"))?;
        shape
            .execute(params![
                shape_key(t),
                json,
                *count as i64,
                first,
                last,
                t.location.to_string()
            ])
            .map_err(sql_err("cannot write a shape"))?;
        for (a, b) in lock_edges(t) {
            edge.execute(params![a, b, *count as i64])
                .map_err(sql_err("cannot write an edge"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.sqlite");
        let s = Store::open(&p).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(s);
        let s = Store::open(&p).unwrap();
        assert_eq!(s.integrity_check().unwrap(), "ok");
        s.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(s);
        match Store::open(&p) {
            Err(Error::TooNew { found: 99, .. }) => {}
            other => panic!("expected TooNew, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn live_batches_add_samples_and_shapes_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("h.sqlite")).unwrap();
        let tx = Transaction {
            name: "live db".into(),
            location: lockgraph_core::Location::new("live db", 0),
            kind: lockgraph_core::TransactionKind::Explicit,
            group: None,
            statements: Vec::new(),
            locks: Vec::new(),
            engine: lockgraph_core::Engine::Postgres,
        };
        let batch = LiveBatch {
            source: "live db".into(),
            samples: vec![
                ("t1".into(), serde_json::json!({"sessions": 3})),
                ("t2".into(), serde_json::json!({"sessions": 4})),
            ],
            shapes: vec![(tx.clone(), 2, Some("t1".into()), Some("t2".into()))],
        };
        s.add_live(&batch).unwrap();
        s.add_live(&LiveBatch {
            samples: Vec::new(),
            shapes: vec![(tx.clone(), 1, Some("t3".into()), Some("t3".into()))],
            ..batch
        })
        .unwrap();
        let samples = s.live_samples().unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[1].0, "t2");
        assert_eq!(samples[1].1, "live db");
        assert_eq!(samples[1].2["sessions"], 4);
        let shapes = s.shapes().unwrap();
        assert_eq!(shapes.len(), 1);
        assert_eq!(shapes[0].key, shape_key(&tx));
        assert_eq!(shapes[0].count, 3);
        assert_eq!(shapes[0].first_seen.as_deref(), Some("t1"));
        assert_eq!(shapes[0].last_seen.as_deref(), Some("t3"));
        assert_eq!(s.generation().unwrap(), 2);
    }

    #[test]
    fn merging_is_idempotent_per_source() {
        let dir = tempfile::tempdir().unwrap();
        let (pa, pc) = (dir.path().join("a.sqlite"), dir.path().join("c.sqlite"));
        let mut a = Store::open(&pa).unwrap();
        let mut c = Store::open(&pc).unwrap();
        assert_ne!(a.store_id().unwrap(), c.store_id().unwrap());
        assert_eq!(c.merge_from(&pa).unwrap(), Merged::Empty);
        a.ingest(&Ingest::default()).unwrap();
        assert_eq!(a.generation().unwrap(), 1);
        assert!(matches!(c.merge_from(&pa).unwrap(), Merged::Added { .. }));
        assert_eq!(c.merge_from(&pa).unwrap(), Merged::AlreadyPresent);
        assert_eq!(c.sources().unwrap().len(), 1);
        a.ingest(&Ingest::default()).unwrap();
        let e = c.merge_from(&pa).unwrap_err();
        assert!(matches!(e, Error::MergeOverlap { .. }), "{e}");
        assert!(e.to_string().contains("a.sqlite"), "{e}");
        // The merged store merged into a third: its sources travel along.
        let pd = dir.path().join("d.sqlite");
        let mut d = Store::open(&pd).unwrap();
        assert!(matches!(d.merge_from(&pc).unwrap(), Merged::Added { .. }));
        assert_eq!(d.merge_from(&pc).unwrap(), Merged::AlreadyPresent);
    }

    #[test]
    fn not_a_database_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("junk.sqlite");
        std::fs::write(&p, vec![b'x'; 8192]).unwrap();
        let e = Store::open(&p).err().expect("junk must not open");
        assert!(e.to_string().contains("junk.sqlite"), "{e}");
    }

    #[test]
    fn file_state_round_trips_and_runs_append() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("h.sqlite")).unwrap();
        let f = FileState {
            path: "a.log".into(),
            dev: 3,
            inode: u64::MAX >> 1,
            head_len: 4096,
            head_hash: u64::MAX,
            size: 10,
            resume_offset: 5,
            resume_line: 2,
            counted_through: 3,
        };
        s.ingest(&Ingest {
            file: f.clone(),
            ..Ingest::default()
        })
        .unwrap();
        let id = FileId {
            dev: 3,
            inode: u64::MAX >> 1,
        };
        assert_eq!(s.file_state(id).unwrap(), Some(f));
        let run = Run {
            started_at: 1,
            command: "logs".into(),
            inputs: serde_json::json!(["a.log"]),
            summary: serde_json::json!({"x": 1}),
            findings: serde_json::json!([]),
        };
        s.record_run(&run).unwrap();
        assert_eq!(s.runs().unwrap(), vec![run]);
        s.add_live_sample("now", "db", &serde_json::json!({}))
            .unwrap();
        assert_eq!(s.live_sample_count().unwrap(), 1);
    }
}
