//! Lock scenarios played on a real server so that it writes real logs: deadlocks of every kind
//! lockgraph reports, a sequential run that only predicts one, and lock waits that end without
//! a deadlock.
//!
//! Each scenario is a [`lockgraph_core::Repro`] (setup + interleaved steps) played by
//! `lockgraph_pg::run_repro`, which opens one connection per session, issues a step, and goes on
//! once the step finished or its backend waits for a lock. Before each scenario a marker
//! statement `SELECT 'lockgraph-scenario:<name>'` is logged from a separate connection, so tests
//! can cut one log into scenarios ([`split_by_marker`]).
//!
//! What each scenario should show in the log is data here too ([`Expected`]): the relations of
//! the deadlock and the statements of each participant's transaction, derived from the steps (a
//! session's statements from its last `BEGIN` through its last step marked `expect_block`).

use lockgraph_core::{Repro, ReproStep};
use lockgraph_pg::{ConnectionSpec, ReproOptions, ReproOutcome};
use std::time::Duration;

/// The marker statement's text before the scenario name.
pub const MARKER: &str = "lockgraph-scenario:";

/// Role and database the scenarios run as (created by [`prepare_database`]).
pub const USER: &str = "app";
/// Database the scenarios run in.
pub const DATABASE: &str = "shop";

/// What the log of a scenario must show.
#[derive(Clone, Debug)]
pub enum Expected {
    /// One deadlock over these relations (bare names; none for advisory locks).
    Deadlock {
        /// Relation names, sorted.
        relations: Vec<&'static str>,
    },
    /// No deadlock; each of these transaction shapes (statements without `BEGIN`/`COMMIT`)
    /// ran `times` times.
    NoDeadlock {
        /// Statement lists, with numbers as they are in the first run.
        shapes: Vec<Vec<String>>,
        /// How often each shape ran.
        times: usize,
    },
    /// Lock waits that end with `acquired`; no deadlock.
    LockWaits,
    /// A lock wait that ends with a lock timeout, and NOWAIT failures; no deadlock.
    LockTimeouts,
}

/// One scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Kebab-case name used in the marker and in test names.
    pub name: &'static str,
    /// One line for READMEs.
    pub summary: &'static str,
    /// What to run.
    pub repro: Repro,
    /// What the log must show.
    pub expected: Expected,
}

impl Scenario {
    /// Per session (1-based, in session order) of the sessions that block: its statements from
    /// its last `BEGIN` before the blocking step through its last step marked `expect_block`,
    /// `BEGIN` excluded. These are what a deadlock participant's transaction must contain.
    pub fn blocked_transactions(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for s in 1..=self.repro.sessions {
            let steps: Vec<&ReproStep> = self
                .repro
                .steps
                .iter()
                .filter(|st| st.session == s)
                .collect();
            let Some(last_block) = steps.iter().rposition(|st| st.expect_block) else {
                continue;
            };
            let begin = steps[..last_block]
                .iter()
                .rposition(|st| is_begin(&st.sql))
                .map_or(0, |i| i + 1);
            out.push(
                steps[begin..=last_block]
                    .iter()
                    .map(|st| st.sql.clone())
                    .collect(),
            );
        }
        out
    }
}

fn is_begin(sql: &str) -> bool {
    let s = sql.trim().to_ascii_uppercase();
    s == "BEGIN" || s.starts_with("BEGIN ") || s.starts_with("START TRANSACTION")
}

fn step(session: usize, sql: &str) -> ReproStep {
    ReproStep {
        session,
        sql: sql.to_string(),
        origin: None,
        expect_block: false,
    }
}

fn blocks(session: usize, sql: &str) -> ReproStep {
    ReproStep {
        expect_block: true,
        ..step(session, sql)
    }
}

fn repro(setup: &[&str], steps: Vec<ReproStep>) -> Repro {
    let sessions = steps.iter().map(|s| s.session).max().unwrap_or(0);
    Repro {
        setup: setup.iter().map(|s| s.to_string()).collect(),
        steps,
        sessions,
        ..Repro::default()
    }
}

fn deadlock(relations: &[&'static str]) -> Expected {
    let mut relations = relations.to_vec();
    relations.sort_unstable();
    Expected::Deadlock { relations }
}

const ACCOUNTS_SETUP: &[&str] = &[
    "CREATE TABLE accounts (id int PRIMARY KEY, balance numeric NOT NULL)",
    "CREATE TABLE ledger (id int PRIMARY KEY, amount numeric NOT NULL)",
    "INSERT INTO accounts VALUES (1, 100), (2, 100)",
    "INSERT INTO ledger VALUES (1, 0), (2, 0)",
];
/// The two transaction shapes of the two-table cycle (and of the sequential run).
const DEBIT_ACCOUNT: &str = "UPDATE accounts SET balance = balance - 1 WHERE id = 1";
const CREDIT_LEDGER: &str = "UPDATE ledger SET amount = amount + 1 WHERE id = 2";

/// Every scenario of the main run, in the order they are played.
pub fn all() -> Vec<Scenario> {
    vec![
        // First, so that a log cut after it reads like an older, rotated file.
        sequential_orders(),
        two_table_cycle(),
        Scenario {
            name: "three-table-cycle",
            summary: "three sessions each update one row of carts/payments/shipments, then the \
                      next table's row: a cycle of three",
            repro: repro(
                &[
                    "CREATE TABLE carts (id int PRIMARY KEY, items int NOT NULL)",
                    "CREATE TABLE payments (id int PRIMARY KEY, amount numeric NOT NULL)",
                    "CREATE TABLE shipments (id int PRIMARY KEY, status text NOT NULL)",
                    "INSERT INTO carts VALUES (1, 0)",
                    "INSERT INTO payments VALUES (1, 0)",
                    "INSERT INTO shipments VALUES (1, 'new')",
                ],
                vec![
                    step(1, "BEGIN"),
                    step(2, "BEGIN"),
                    step(3, "BEGIN"),
                    step(1, "UPDATE carts SET items = items + 1 WHERE id = 1"),
                    step(2, "UPDATE payments SET amount = amount + 10 WHERE id = 1"),
                    step(3, "UPDATE shipments SET status = 'packed' WHERE id = 1"),
                    blocks(1, "UPDATE payments SET amount = amount + 5 WHERE id = 1"),
                    blocks(2, "UPDATE shipments SET status = 'paid' WHERE id = 1"),
                    blocks(3, "UPDATE carts SET items = 0 WHERE id = 1"),
                    step(1, "COMMIT"),
                    step(2, "COMMIT"),
                    step(3, "COMMIT"),
                ],
            ),
            expected: deadlock(&["carts", "payments", "shipments"]),
        },
        Scenario {
            name: "lock-upgrade",
            summary: "two sessions SELECT … FOR SHARE the same inventory row, then both UPDATE \
                      it (share → exclusive upgrade)",
            repro: repro(
                &[
                    "CREATE TABLE inventory (id int PRIMARY KEY, qty int NOT NULL)",
                    "INSERT INTO inventory VALUES (1, 10), (2, 10)",
                ],
                vec![
                    step(1, "BEGIN"),
                    step(2, "BEGIN"),
                    step(1, "SELECT qty FROM inventory WHERE id = 1 FOR SHARE"),
                    step(2, "SELECT qty FROM inventory WHERE id = 1 FOR SHARE"),
                    blocks(1, "UPDATE inventory SET qty = qty - 1 WHERE id = 1"),
                    blocks(2, "UPDATE inventory SET qty = qty - 1 WHERE id = 1"),
                    step(1, "COMMIT"),
                    step(2, "COMMIT"),
                ],
            ),
            expected: deadlock(&["inventory"]),
        },
        Scenario {
            name: "foreign-key",
            summary: "an INSERT into books waits in its foreign-key check (FOR KEY SHARE on the \
                      authors row) for a transaction that deleted that author and then updates \
                      a books row the first one holds",
            repro: repro(
                &[
                    "CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL)",
                    "CREATE TABLE books (id int PRIMARY KEY, \
                     author_id int NOT NULL REFERENCES authors (id), title text NOT NULL)",
                    "INSERT INTO authors VALUES (1, 'Ann'), (2, 'Bob')",
                    "INSERT INTO books VALUES (10, 2, 'First')",
                ],
                vec![
                    step(1, "BEGIN"),
                    step(1, "UPDATE books SET title = 'Draft' WHERE id = 10"),
                    step(2, "BEGIN"),
                    step(2, "DELETE FROM authors WHERE id = 1"),
                    blocks(
                        1,
                        "INSERT INTO books (id, author_id, title) VALUES (11, 1, 'Second')",
                    ),
                    blocks(2, "UPDATE books SET title = 'Gone' WHERE id = 10"),
                    step(1, "COMMIT"),
                    step(2, "COMMIT"),
                ],
            ),
            expected: deadlock(&["authors", "books"]),
        },
        Scenario {
            name: "same-table-row-order",
            summary: "two sessions update rows 1 and 2 of items in opposite orders",
            repro: repro(
                &[
                    "CREATE TABLE items (id int PRIMARY KEY, price numeric NOT NULL)",
                    "INSERT INTO items VALUES (1, 10), (2, 20)",
                ],
                vec![
                    step(1, "BEGIN"),
                    step(2, "BEGIN"),
                    step(1, "UPDATE items SET price = price + 1 WHERE id = 1"),
                    step(2, "UPDATE items SET price = price * 2 WHERE id = 2"),
                    blocks(1, "UPDATE items SET price = price + 1 WHERE id = 2"),
                    blocks(2, "UPDATE items SET price = price * 2 WHERE id = 1"),
                    step(1, "COMMIT"),
                    step(2, "COMMIT"),
                ],
            ),
            expected: deadlock(&["items"]),
        },
        Scenario {
            name: "ddl-vs-dml",
            summary: "a migration locks customers ACCESS EXCLUSIVE then ALTERs orders, while a \
                      transaction updates orders then customers; the report names relations \
                      only by OID",
            repro: repro(
                &[
                    "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)",
                    "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, \
                     total numeric NOT NULL)",
                    "INSERT INTO customers VALUES (1, 'Ann')",
                    "INSERT INTO orders VALUES (1, 1, 10)",
                ],
                vec![
                    step(1, "BEGIN"),
                    step(1, "UPDATE orders SET total = total + 1 WHERE id = 1"),
                    step(2, "BEGIN"),
                    step(2, "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"),
                    blocks(1, "UPDATE customers SET name = 'Anna' WHERE id = 1"),
                    blocks(2, "ALTER TABLE orders ADD COLUMN note text"),
                    step(1, "COMMIT"),
                    step(2, "COMMIT"),
                ],
            ),
            expected: deadlock(&["customers", "orders"]),
        },
        Scenario {
            name: "lock-table-share-row-exclusive",
            summary: "two sessions LOCK TABLE warehouses and stock IN SHARE ROW EXCLUSIVE MODE \
                      in opposite orders",
            repro: repro(
                &[
                    "CREATE TABLE warehouses (id int PRIMARY KEY)",
                    "CREATE TABLE stock (id int PRIMARY KEY, qty int NOT NULL)",
                ],
                vec![
                    step(1, "BEGIN"),
                    step(2, "BEGIN"),
                    step(1, "LOCK TABLE warehouses IN SHARE ROW EXCLUSIVE MODE"),
                    step(2, "LOCK TABLE stock IN SHARE ROW EXCLUSIVE MODE"),
                    blocks(1, "LOCK TABLE stock IN SHARE ROW EXCLUSIVE MODE"),
                    blocks(2, "LOCK TABLE warehouses IN SHARE ROW EXCLUSIVE MODE"),
                    step(1, "COMMIT"),
                    step(2, "COMMIT"),
                ],
            ),
            expected: deadlock(&["stock", "warehouses"]),
        },
        Scenario {
            name: "advisory-locks",
            summary: "pg_advisory_xact_lock(1) then (2) against (2) then (1)",
            repro: repro(
                &[],
                vec![
                    step(1, "BEGIN"),
                    step(2, "BEGIN"),
                    step(1, "SELECT pg_advisory_xact_lock(1)"),
                    step(2, "SELECT pg_advisory_xact_lock(2)"),
                    blocks(1, "SELECT pg_advisory_xact_lock(2)"),
                    blocks(2, "SELECT pg_advisory_xact_lock(1)"),
                    step(1, "COMMIT"),
                    step(2, "COMMIT"),
                ],
            ),
            expected: deadlock(&[]),
        },
        lock_waits(),
        lock_timeouts(),
    ]
}

/// accounts then ledger against ledger then accounts, interleaved: the classic deadlock.
pub fn two_table_cycle() -> Scenario {
    Scenario {
        name: "two-table-cycle",
        summary: "one transaction updates accounts then ledger, the other ledger then accounts, \
                  interleaved",
        repro: repro(
            ACCOUNTS_SETUP,
            vec![
                step(1, "BEGIN"),
                step(2, "BEGIN"),
                step(1, DEBIT_ACCOUNT),
                step(2, CREDIT_LEDGER),
                blocks(1, CREDIT_LEDGER),
                blocks(2, DEBIT_ACCOUNT),
                step(1, "COMMIT"),
                step(2, "COMMIT"),
            ],
        ),
        expected: deadlock(&["accounts", "ledger"]),
    }
}

/// The two transaction shapes of [`two_table_cycle`], run one after the other (each commits
/// before the next begins), three times: both orders are in the log, no deadlock is.
pub fn sequential_orders() -> Scenario {
    const TIMES: usize = 3;
    let mut steps = Vec::new();
    for round in 0..TIMES {
        let amount = round + 1;
        steps.push(step(1, "BEGIN"));
        steps.push(step(
            1,
            &format!("UPDATE accounts SET balance = balance - {amount} WHERE id = 1"),
        ));
        steps.push(step(
            1,
            &format!("UPDATE ledger SET amount = amount + {amount} WHERE id = 2"),
        ));
        steps.push(step(1, "COMMIT"));
        steps.push(step(2, "BEGIN"));
        steps.push(step(
            2,
            &format!("UPDATE ledger SET amount = amount - {amount} WHERE id = 2"),
        ));
        steps.push(step(
            2,
            &format!("UPDATE accounts SET balance = balance + {amount} WHERE id = 1"),
        ));
        steps.push(step(2, "COMMIT"));
    }
    Scenario {
        name: "sequential-orders",
        summary: "the two shapes of two-table-cycle (accounts→ledger, ledger→accounts), three \
                  times each, one after the other: no deadlock happens, but one is possible",
        repro: repro(ACCOUNTS_SETUP, steps),
        expected: Expected::NoDeadlock {
            shapes: vec![
                vec![
                    "UPDATE accounts SET balance = balance - 1 WHERE id = 1".to_string(),
                    "UPDATE ledger SET amount = amount + 1 WHERE id = 2".to_string(),
                ],
                vec![
                    "UPDATE ledger SET amount = amount - 1 WHERE id = 2".to_string(),
                    "UPDATE accounts SET balance = balance + 1 WHERE id = 1".to_string(),
                ],
            ],
            times: TIMES,
        },
    }
}

/// Statements of [`lock_waits`] and [`lock_timeouts`] the tests look for.
pub mod waits {
    /// Session 1 holds row 1 of jobs with this.
    pub const HOLDER: &str = "UPDATE jobs SET state = 'running' WHERE id = 1";
    /// Session 2 waits behind session 1 (then acquires).
    pub const FIRST_WAITER: &str = "UPDATE jobs SET state = 'queued' WHERE id = 1";
    /// Session 3 waits behind session 2 (then acquires).
    pub const SECOND_WAITER: &str = "UPDATE jobs SET state = 'done' WHERE id = 1";
    /// Session 2 gives up on this after `lock_timeout`.
    pub const TIMED_OUT: &str = "UPDATE jobs SET state = 'retry' WHERE id = 2";
    /// Fails at once: row 2 is locked.
    pub const NOWAIT_ROW: &str = "SELECT id FROM jobs WHERE id = 2 FOR UPDATE NOWAIT";
    /// Fails at once: jobs is locked.
    pub const NOWAIT_TABLE: &str = "LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE NOWAIT";
}

/// A blocking chain that resolves: session 1 holds row 1 of jobs, session 2 waits for it,
/// session 3 queues behind session 2; session 1 commits after more than deadlock_timeout, then
/// session 2 does. No deadlock.
pub fn lock_waits() -> Scenario {
    use waits::*;
    Scenario {
        name: "lock-waits",
        summary: "a blocking chain on one jobs row that resolves: `still waiting`, then \
                  `acquired`",
        repro: repro(
            &[
                "CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL)",
                "INSERT INTO jobs VALUES (1, 'new'), (2, 'new')",
            ],
            vec![
                step(1, "BEGIN"),
                step(1, HOLDER),
                step(2, "BEGIN"),
                blocks(2, FIRST_WAITER),
                step(3, "BEGIN"),
                blocks(3, SECOND_WAITER),
                step(1, "SELECT pg_sleep(0.4)"),
                step(1, "COMMIT"),
                // Session 2 gets the row (the runner issues its next steps once it has);
                // session 3 now waits for session 2's transaction.
                step(2, "SELECT pg_sleep(0.4)"),
                step(2, "COMMIT"),
                step(3, "COMMIT"),
            ],
        ),
        expected: Expected::LockWaits,
    }
}

/// A `lock_timeout` expiry (55P03) after a logged wait, and two NOWAIT failures (55P03): on a
/// row and on the table. No deadlock. A separate scenario from [`lock_waits`] so that no step
/// waits behind a still-running statement of its session before the lock it must wait for is
/// taken (the runner defers such steps, which would reorder them across sessions).
pub fn lock_timeouts() -> Scenario {
    use waits::*;
    Scenario {
        name: "lock-timeouts",
        summary: "an UPDATE gives up after lock_timeout (after a `still waiting` line); a \
                  SELECT … FOR UPDATE NOWAIT and a LOCK TABLE … NOWAIT fail at once",
        repro: repro(
            &[
                "CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL)",
                "INSERT INTO jobs VALUES (1, 'new'), (2, 'new')",
            ],
            vec![
                step(1, "BEGIN"),
                step(1, "SELECT id FROM jobs WHERE id = 2 FOR UPDATE"),
                step(2, "BEGIN"),
                step(2, "SET LOCAL lock_timeout = '500ms'"),
                blocks(2, TIMED_OUT),
                step(2, "ROLLBACK"),
                step(3, "BEGIN"),
                step(3, NOWAIT_ROW),
                step(3, "ROLLBACK"),
                step(3, "BEGIN"),
                step(3, NOWAIT_TABLE),
                step(3, "ROLLBACK"),
                // Longer than lock_timeout: session 2 gives up before this commits.
                step(1, "SELECT pg_sleep(0.8)"),
                step(1, "COMMIT"),
            ],
        ),
        expected: Expected::LockTimeouts,
    }
}

/// Options of a run: the server's `deadlock_timeout` (200 ms) is kept. The runner polls
/// `pg_locks` from its monitor connection while a step runs, and every poll is a logged
/// statement: the lock-wait scenarios, whose steps sleep, poll every 100 ms instead of 5 ms so
/// the log is not flooded with them.
pub fn repro_options(sc: &Scenario) -> ReproOptions {
    let poll = match sc.expected {
        Expected::LockWaits | Expected::LockTimeouts => 100,
        _ => 5,
    };
    ReproOptions {
        lock_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(30),
        deadlock_timeout: None,
        poll_interval: Duration::from_millis(poll),
        schema_prefix: "lockgraph_repro_".to_string(),
    }
}

/// Creates the role and database the scenarios use (`app`, `shop`), as `postgres`.
pub async fn prepare_database(admin_conn: &str) -> Result<(), String> {
    let client = connect(admin_conn).await?;
    client
        .batch_execute(&format!("CREATE ROLE {USER} LOGIN"))
        .await
        .map_err(|e| format!("CREATE ROLE: {e}"))?;
    client
        .batch_execute(&format!("CREATE DATABASE {DATABASE} OWNER {USER}"))
        .await
        .map_err(|e| format!("CREATE DATABASE: {e}"))?;
    Ok(())
}

/// Plays `scenarios` in order on the server of `conn` (libpq key=value), each after its marker.
/// A scenario that does not do what it should (no deadlock where one is expected, or one
/// where none is) is an error: the logs would not be what the tests expect.
pub async fn play(conn: &str, scenarios: &[Scenario]) -> Result<Vec<ReproOutcome>, String> {
    let spec = ConnectionSpec::parse(conn).map_err(|e| e.to_string())?;
    let marker = connect(conn).await?;
    let mut outcomes = Vec::new();
    for sc in scenarios {
        marker
            .batch_execute(&format!("SELECT '{MARKER}{}'", sc.name))
            .await
            .map_err(|e| format!("marker of {}: {e}", sc.name))?;
        let outcome = lockgraph_pg::run_repro(&spec, &sc.repro, &repro_options(sc))
            .await
            .map_err(|e| format!("scenario {}: {e}", sc.name))?;
        check_outcome(sc, &outcome)?;
        outcomes.push(outcome);
    }
    // Let the connection tasks of the dropped clients say goodbye while the runtime still runs
    // them, so stopping the server does not log `terminating connection` for them.
    drop(marker);
    tokio::time::sleep(Duration::from_millis(50)).await;
    Ok(outcomes)
}

fn check_outcome(sc: &Scenario, outcome: &ReproOutcome) -> Result<(), String> {
    let errors: Vec<String> = outcome
        .steps
        .iter()
        .filter_map(|s| {
            s.error
                .as_ref()
                .map(|e| format!("{} ({}): {}", s.sql, e.sqlstate, e.message))
        })
        .collect();
    let fail = |what: &str| {
        Err(format!(
            "scenario {}: {what}; step errors: {errors:?}",
            sc.name
        ))
    };
    match &sc.expected {
        Expected::Deadlock { .. } => {
            if outcome.deadlock.is_none() {
                return fail("no deadlock happened");
            }
            // The victim's COMMIT only ends its aborted transaction; nothing else may fail.
            if errors.len() != 1 {
                return fail("expected exactly one failing step (the deadlock victim)");
            }
        }
        Expected::NoDeadlock { .. } => {
            if !outcome.completed {
                return fail("a step failed");
            }
        }
        Expected::LockWaits => {
            if !outcome.completed {
                return fail("a step failed");
            }
        }
        Expected::LockTimeouts => {
            let states: Vec<&str> = outcome
                .steps
                .iter()
                .filter_map(|s| s.error.as_ref().map(|e| e.sqlstate.as_str()))
                .collect();
            if states != ["55P03", "55P03", "55P03"] {
                return fail("expected three 55P03 failures (lock_timeout, two NOWAITs)");
            }
        }
    }
    Ok(())
}

/// Connects with tokio-postgres and drives the connection on the current runtime.
pub async fn connect(conn: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(conn, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connecting to {conn}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// Splits a log (any format: stderr, csvlog, jsonlog) at the lines of marker statements:
/// `(scenario name, text from its marker line up to the next marker)`. What precedes the first
/// marker (startup, setup) is dropped. Every log record starts on a line of its own and a marker
/// record fits on one line, so cutting at lines never cuts a record.
pub fn split_by_marker(log: &str) -> Vec<(String, String)> {
    let needle = format!("statement: SELECT '{MARKER}");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in log.split_inclusive('\n') {
        if let Some(at) = line.find(&needle) {
            let rest = &line[at + needle.len()..];
            let name = rest.split('\'').next().unwrap_or("").to_string();
            out.push((name, String::new()));
        }
        if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
        }
    }
    out
}
