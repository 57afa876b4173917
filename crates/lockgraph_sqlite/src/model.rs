//! SQLite transactions as steps, the connections that run them, and the model the rules read.

use crate::lock::BeginMode;
use crate::sim::Op;
use lockgraph_core::{Location, Statement};
use std::fmt;
use std::sync::Arc;

/// Something a transaction waits for that is not the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternalKind {
    /// An HTTP or other network call (`httpx`, `aiohttp`, `requests`, a `client.post(…)`).
    Network,
    /// A sleep (`asyncio.sleep`, `time.sleep`).
    Sleep,
    /// A queue (`queue.get()`, `queue.put(…)`, `queue.join()`).
    Queue,
    /// A subprocess.
    Subprocess,
}

impl fmt::Display for ExternalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExternalKind::Network => "a network call",
            ExternalKind::Sleep => "a sleep",
            ExternalKind::Queue => "a queue operation",
            ExternalKind::Subprocess => "a subprocess",
        })
    }
}

/// What a [`Step`] does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// The transaction begins (an explicit `BEGIN …`, or the one the driver sends).
    Begin(BeginMode),
    /// A statement that reads (`SELECT`).
    Read,
    /// A statement that writes (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`, DDL).
    Write,
    /// A call to something that is not the database while the transaction is open.
    External {
        /// What kind of thing.
        kind: ExternalKind,
        /// The call as written, `client.post` / `asyncio.sleep`.
        call: Arc<str>,
        /// Written with `await` (the event loop runs other tasks meanwhile).
        awaited: bool,
    },
    /// `COMMIT` (or the driver's `commit()`).
    Commit,
    /// `ROLLBACK` (or the driver's `rollback()`).
    Rollback,
}

/// One step of a SQLite transaction, with where the code does it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// Where: the statement, or the line of the call in the transaction's own code.
    pub location: Location,
    /// The statement, for SQL steps (`None` for a `BEGIN` the driver sends, external calls).
    pub statement: Option<Arc<Statement>>,
    /// Outside any transaction (autocommit): the statement's locks end with it.
    pub autocommit: bool,
    /// Where the transaction's own code reaches the statement (the outermost call), when it is
    /// in a helper; `None` when the statement is in the transaction's own code.
    pub via: Option<Location>,
}

impl Step {
    /// The simulator's view of this step (`None` for external calls, which take no lock).
    pub fn op(&self) -> Option<Op> {
        match &self.kind {
            StepKind::Begin(m) => Some(Op::Begin(*m)),
            StepKind::Read => Some(Op::Read),
            StepKind::Write => Some(Op::Write),
            StepKind::Commit => Some(Op::Commit),
            StepKind::Rollback => Some(Op::Rollback),
            StepKind::External { .. } => None,
        }
    }

    /// Where the transaction's own code does this step: the call site for statements in a
    /// helper, else the step's location.
    pub fn written_at(&self) -> &Location {
        self.via.as_ref().unwrap_or(&self.location)
    }
}

/// The Python driver a connection is opened with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Driver {
    /// `sqlite3.connect`.
    Sqlite3,
    /// `aiosqlite.connect` (runs `sqlite3` on a thread; passes its keyword arguments through).
    Aiosqlite,
    /// SQLAlchemy `create_engine` / `create_async_engine` with a `sqlite…://` URL (pysqlite or
    /// aiosqlite underneath).
    Sqlalchemy,
}

/// How the Python `sqlite3` module starts transactions on a connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Isolation {
    /// `isolation_level` `""` (the default), `"DEFERRED"`, `"IMMEDIATE"` or `"EXCLUSIVE"`: the
    /// module sends `BEGIN <level>` before the first `INSERT`/`UPDATE`/`DELETE`/`REPLACE`;
    /// statements before it run in autocommit mode.
    Legacy(BeginMode),
    /// `isolation_level=None`: autocommit; only an explicit `BEGIN` opens a transaction.
    Autocommit,
    /// `autocommit=False` (Python 3.12+): a deferred transaction is always open; `commit()`
    /// starts the next one.
    AlwaysOpen,
}

/// A busy timeout as the source sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BusyTimeout {
    /// Not set: the driver's default (5 s for `sqlite3.connect`, and so for `aiosqlite` and
    /// SQLAlchemy's pysqlite/aiosqlite dialects, which pass `timeout` through).
    Default,
    /// Set explicitly, in milliseconds.
    Millis(u64),
    /// Set from an expression lockgraph cannot evaluate.
    Unknown,
}

/// One place the source opens SQLite connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The `connect(…)` / `create_engine(…)` call.
    pub location: Location,
    /// The driver.
    pub driver: Driver,
    /// The database as written (a file name, `DB_PATH`, a URL); `None` when not visible.
    pub database: Option<Arc<str>>,
    /// How transactions start.
    pub isolation: Isolation,
    /// The busy timeout of the call (`timeout=`, `connect_args={"timeout": …}`).
    pub busy_timeout: BusyTimeout,
    /// Where the timeout is set, when it is set (the keyword argument or a `PRAGMA`).
    pub timeout_at: Option<Location>,
}

impl Connection {
    /// Whether the database is private to the connection (`:memory:`): no other connection can
    /// contend for its locks.
    pub fn private(&self) -> bool {
        self.database.as_deref().is_some_and(|d| {
            d.trim_matches(['"', '\'']) == ":memory:" || d.ends_with(":///:memory:")
        })
    }
}

/// A SQLite transaction: what it does, in order, and what it runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteTxn {
    /// The transaction's name (as [`lockgraph_core::Transaction::name`]).
    pub name: Arc<str>,
    /// Where it begins.
    pub location: Location,
    /// As [`lockgraph_core::Transaction::group`]: a group never runs concurrently with itself.
    pub group: Option<Arc<str>>,
    /// The steps, in order; the lock-taking ones map to simulator [`Op`]s.
    pub steps: Vec<Step>,
    /// The connection it runs on, an index into [`SqliteModel::connections`], when known.
    pub connection: Option<usize>,
}

impl SqliteTxn {
    /// Whether two runs (or this and `other`) can be in flight at once.
    pub fn may_run_concurrently_with(&self, other: &SqliteTxn) -> bool {
        match (&self.group, &other.group) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        }
    }

    /// The simulator's ops of the steps (external calls dropped).
    pub fn ops(&self) -> Vec<Op> {
        self.steps.iter().filter_map(Step::op).collect()
    }

    /// Whether it writes.
    pub fn writes(&self) -> bool {
        self.steps.iter().any(|s| s.kind == StepKind::Write)
    }

    /// The step index where the transaction first holds the write lock: a `BEGIN IMMEDIATE` /
    /// `BEGIN EXCLUSIVE`, or the first write inside a transaction.
    pub fn write_lock_from(&self) -> Option<usize> {
        self.steps.iter().position(|s| match s.kind {
            StepKind::Begin(BeginMode::Immediate | BeginMode::Exclusive) => true,
            StepKind::Write => !s.autocommit,
            _ => false,
        })
    }

    /// A deferred upgrade: a read inside a transaction followed by the transaction's first write
    /// (step indices), with no write lock taken before the read.
    pub fn deferred_upgrade(&self) -> Option<(usize, usize)> {
        let mut read = None;
        for (i, s) in self.steps.iter().enumerate() {
            match s.kind {
                StepKind::Begin(BeginMode::Immediate | BeginMode::Exclusive) => return None,
                StepKind::Read if !s.autocommit && read.is_none() => read = Some(i),
                StepKind::Write if !s.autocommit => return read.map(|r| (r, i)),
                StepKind::Commit | StepKind::Rollback => read = None,
                _ => {}
            }
        }
        None
    }
}

/// Everything the SQLite rules read: the SQLite transactions and the connections of the input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqliteModel {
    /// SQLite transactions.
    pub transactions: Vec<SqliteTxn>,
    /// Places that open SQLite connections.
    pub connections: Vec<Connection>,
}

impl SqliteModel {
    /// Whether two transactions may use the same database file: unless both connections name
    /// their databases and the names differ, or one is private (`:memory:`).
    pub fn same_database(&self, a: &SqliteTxn, b: &SqliteTxn) -> bool {
        let db = |t: &SqliteTxn| t.connection.and_then(|c| self.connections.get(c));
        match (db(a), db(b)) {
            (Some(x), _) | (_, Some(x)) if x.private() => false,
            (Some(x), Some(y)) => match (&x.database, &y.database) {
                (Some(p), Some(q)) => p == q,
                _ => true,
            },
            _ => true,
        }
    }

    /// The connection `t` runs on.
    pub fn connection_of(&self, t: &SqliteTxn) -> Option<&Connection> {
        t.connection.and_then(|c| self.connections.get(c))
    }
}
