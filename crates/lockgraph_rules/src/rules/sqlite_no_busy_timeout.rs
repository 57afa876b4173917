use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Finding, Fingerprint, Label, Suggestion};
use lockgraph_sqlite::{BusyTimeout, Connection, Driver, SqliteModel};

declare_rule! {
    /// ## What it detects
    /// A SQLite connection whose busy timeout is set to zero — `sqlite3.connect(…, timeout=0)`,
    /// `aiosqlite.connect(…, timeout=0)`, SQLAlchemy `connect_args={"timeout": 0}`, or
    /// `PRAGMA busy_timeout = 0` — on a database that transactions of the input write while
    /// others may use it.
    ///
    /// A connection that does not set a timeout is *not* reported: Python's `sqlite3.connect`
    /// waits 5 seconds by default (`timeout=5.0`), `aiosqlite` and SQLAlchemy's pysqlite and
    /// aiosqlite dialects pass their arguments through to it, and rusqlite also sets 5 seconds on
    /// every connection it opens.
    ///
    /// ## Why it matters
    /// With no busy timeout, a connection that finds the database locked — another connection is
    /// writing or committing — fails at once with `database is locked` (`SQLITE_BUSY`) instead of
    /// waiting the few milliseconds the other needs. Under any concurrency the application sees
    /// random failures. (A busy timeout does not fix a deferred upgrade, LG501: SQLite fails that
    /// case at once on purpose.)
    ///
    /// ## Example
    /// ```python
    /// db = await aiosqlite.connect("shop.db", timeout=0)
    /// ```
    ///
    /// ## How to fix
    /// Drop `timeout=0` (the default waits 5 s) or set a timeout that covers your longest write
    /// transaction: `timeout=5`, `PRAGMA busy_timeout = 5000`.
    pub struct SqliteNoBusyTimeout {
        code: "LG503",
        name: "sqlite-no-busy-timeout",
        severity: Warning,
        engines: [Sqlite],
        summary: "A SQLite connection has a zero busy timeout where writers contend",
    }
}

impl Rule for SqliteNoBusyTimeout {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let Some(model) = a.sqlite else { return };
        for (i, c) in model.connections.iter().enumerate() {
            if c.busy_timeout != BusyTimeout::Millis(0) || c.private() || !contended(model, i, c) {
                continue;
            }
            out.push(finding(c));
        }
    }
}

/// Two transactions (or two runs of one) may use the connection's database, one of them writing.
fn contended(model: &SqliteModel, i: usize, c: &Connection) -> bool {
    let on_db: Vec<_> = model
        .transactions
        .iter()
        .filter(|t| match model.connection_of(t) {
            Some(tc) if t.connection == Some(i) => !tc.private(),
            Some(tc) => !tc.private() && (tc.database.is_none() || tc.database == c.database),
            None => true,
        })
        .collect();
    // `u` may be `t` itself: two runs of one writing transaction contend.
    on_db
        .iter()
        .any(|t| t.writes() && on_db.iter().any(|u| t.may_run_concurrently_with(u)))
}

fn finding(c: &Connection) -> Finding {
    let info = &SqliteNoBusyTimeout::INFO;
    let at = c.timeout_at.clone().unwrap_or_else(|| c.location.clone());
    let mut labels = vec![Label {
        location: at.clone(),
        message: "busy timeout 0: a statement that finds the database locked fails at once with \
                  SQLITE_BUSY (`database is locked`)"
            .into(),
        primary: true,
        statement: None,
    }];
    if at != c.location {
        labels.push(Label {
            location: c.location.clone(),
            message: "the connection it applies to".into(),
            primary: false,
            statement: None,
        });
    }
    let fix = match c.driver {
        Driver::Sqlalchemy => "set connect_args={\"timeout\": 5} (seconds) or drop the zero",
        Driver::Sqlite3 | Driver::Aiosqlite => {
            "drop `timeout=0` (the default is 5 s) or set `timeout=5` (seconds)"
        }
    };
    let db = c.database.as_deref().unwrap_or("the database");
    Finding {
        code: info.code,
        name: info.name,
        severity: info.severity,
        message: format!(
            "SQLite connection to `{db}` has a busy timeout of 0 while transactions write to it \
             concurrently"
        ),
        relations: c.database.iter().map(|d| d.to_string()).collect(),
        labels,
        fingerprint: Fingerprint::of([
            info.code.as_bytes(),
            c.location.path.as_bytes(),
            db.as_bytes(),
        ]),
        suggestion: Some(Suggestion {
            order: Vec::new(),
            edits: vec![format!("at {at}: {fix}")],
        }),
        repro: None,
        notes: Vec::new(),
    }
}
