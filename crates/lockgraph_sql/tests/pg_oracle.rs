//! Oracle test: what `infer_statement` says a statement locks, compared with what PostgreSQL
//! really locks (`pg_locks`, and `pgrowlocks` for row modes).
//!
//! Each statement runs inside `BEGIN … ROLLBACK` against a fixture schema created for this run.
//! The set of `(relation, mode)` pairs the backend holds on tables, materialized views and
//! partitioned tables of the fixture (indexes, sequences, TOAST, catalogs, and relations the
//! statement itself creates — invisible to other sessions until commit — ignored), plus its
//! advisory locks, must equal the set the inference gives. Statements that cannot run in a
//! transaction block (`CREATE INDEX CONCURRENTLY`, `VACUUM`, …) are started in another session
//! while the first holds a conflicting lock on their table, and the lock they wait for must be the
//! first lock the inference gives.
//!
//! The inference assumes a statement changes rows and that referencing rows exist (foreign-key
//! triggers fire per changed row): the fixture data is chosen so that holds for every statement.
//!
//! Server: `host=127.0.0.1 port=5432 user=postgres dbname=test`, or the tokio-postgres config
//! string in `LOCKGRAPH_TEST_PG`. Unreachable server: a note on stderr and a pass, except under
//! `CI=true`, where it fails.

use lockgraph_core::{LockMode, LockTarget, RowLockMode, Schema, TableLockMode};
use lockgraph_sql::{Inference, infer_statement, parse_schema};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};
use tokio_postgres::{Client, NoTls};

/// The fixture: realistic tables with every referential action, a materialized view, a
/// partitioned table. Rows are chosen so that each statement below changes at least one row
/// (foreign-key triggers fire per changed row) and no constraint fails.
const FIXTURE: &str = "
CREATE TABLE accounts (id bigint PRIMARY KEY, email text UNIQUE NOT NULL, balance numeric(12,2) NOT NULL DEFAULT 0, status text);
CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, total numeric(12,2), note text);
CREATE INDEX orders_account_id_idx ON orders (account_id);
CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE, line int NOT NULL, sku text, qty int, PRIMARY KEY (order_id, line));
CREATE TABLE payments (id bigint PRIMARY KEY, order_id bigint REFERENCES orders(id) ON DELETE SET NULL, amount numeric);
CREATE TABLE ledger (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts(id), amount numeric);
CREATE TABLE tags (id int PRIMARY KEY, name text UNIQUE);
CREATE TABLE account_tags (account_id bigint REFERENCES accounts(id) ON DELETE CASCADE ON UPDATE CASCADE, tag_id int REFERENCES tags(id) ON DELETE RESTRICT, PRIMARY KEY (account_id, tag_id));
CREATE TABLE settings (id int PRIMARY KEY, account_id bigint DEFAULT 1 REFERENCES accounts(id) ON DELETE SET DEFAULT, v text);
CREATE TABLE audit (id bigserial PRIMARY KEY, account_id bigint, msg text);
ALTER TABLE audit ADD FOREIGN KEY (account_id) REFERENCES accounts(id) NOT VALID;
CREATE TABLE events (id bigserial PRIMARY KEY, kind text, payload jsonb, created_at timestamptz DEFAULT now());
CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL, run_at timestamptz);
CREATE TABLE inventory (sku text PRIMARY KEY, qty int NOT NULL);
CREATE TABLE staging (id bigint, email text, balance numeric);
CREATE TABLE metrics (id int, day int) PARTITION BY RANGE (day);
CREATE TABLE metrics_1 PARTITION OF metrics FOR VALUES FROM (0) TO (100);
CREATE TABLE metrics_2 (id int, day int);
CREATE MATERIALIZED VIEW daily AS SELECT generate_series(1, 3) AS d;
CREATE UNIQUE INDEX daily_d_key ON daily (d);
CREATE UNIQUE INDEX jobs_state_run_at_key ON jobs (id, state);
CREATE INDEX jobs_run_at_idx ON jobs (run_at);
";

/// Rows (not part of the schema the inference reads).
const DATA: &str = "
INSERT INTO accounts SELECT g, 'u' || g || '@x', 100, 'active' FROM generate_series(1, 12) g;
INSERT INTO orders SELECT 100 + g, g, 10, 'n' FROM generate_series(1, 10) g;
INSERT INTO orders VALUES (112, 12, 10, 'n');
INSERT INTO order_items VALUES (112, 1, 's', 1);
INSERT INTO payments VALUES (212, 112, 10);
INSERT INTO order_items SELECT 100 + g, l, 'sku' || l, 1 FROM generate_series(1, 10) g, generate_series(1, 2) l;
INSERT INTO payments SELECT 200 + g, 100 + g, 10 FROM generate_series(1, 10) g;
INSERT INTO ledger (account_id, amount) VALUES (10, 1), (10, 2);
INSERT INTO tags VALUES (1, 'a'), (2, 'b'), (3, 'c');
INSERT INTO account_tags SELECT g, 1 FROM generate_series(1, 11) g;
INSERT INTO settings SELECT g, g, 'x' FROM generate_series(2, 5) g;
INSERT INTO audit (account_id, msg) VALUES (10, 'm');
INSERT INTO events (kind, payload) VALUES ('a', '{\"k\": 1}'), ('b', '{}');
INSERT INTO jobs SELECT g, 'ready', now() FROM generate_series(1, 20) g;
INSERT INTO inventory VALUES ('a', 5), ('b', 5), ('c', 5);
INSERT INTO staging VALUES (1, 'u1@x', 5), (13, 'new13@x', 1), (14, 'new14@x', 2);
INSERT INTO metrics VALUES (1, 1);
";

/// Statements compared on table-level (and advisory) locks.
const CASES: &[&str] = &[
    // --- plain reads
    "SELECT * FROM accounts",
    "SELECT * FROM accounts WHERE id = 1",
    "SELECT a.email, o.total FROM accounts a JOIN orders o ON o.account_id = a.id",
    "SELECT * FROM accounts a LEFT JOIN orders o ON o.account_id = a.id LEFT JOIN order_items i ON i.order_id = o.id",
    "SELECT * FROM orders WHERE account_id IN (SELECT id FROM accounts WHERE status = 'active')",
    "SELECT * FROM accounts a WHERE EXISTS (SELECT 1 FROM ledger l WHERE l.account_id = a.id)",
    "SELECT (SELECT count(*) FROM orders), (SELECT max(id) FROM payments)",
    "SELECT * FROM accounts, LATERAL (SELECT * FROM orders WHERE orders.account_id = accounts.id LIMIT 1) o",
    "SELECT id FROM accounts UNION SELECT id FROM orders",
    "SELECT id FROM accounts INTERSECT SELECT account_id FROM orders EXCEPT SELECT account_id FROM ledger",
    "WITH totals AS (SELECT account_id, sum(total) s FROM orders GROUP BY account_id) SELECT * FROM accounts JOIN totals ON totals.account_id = accounts.id",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n, tags",
    "SELECT * FROM (SELECT * FROM jobs WHERE state = 'ready') j",
    "SELECT count(*) FILTER (WHERE qty > (SELECT min(qty) FROM inventory)) FROM order_items",
    "SELECT * FROM accounts ORDER BY (SELECT count(*) FROM tags) LIMIT 3",
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM settings) THEN 1 ELSE 0 END",
    "SELECT * FROM daily",
    "TABLE tags",
    "SELECT * FROM ONLY accounts",
    "SELECT 1",
    "SELECT now(), version()",
    "SELECT * FROM generate_series(1, 3)",
    "VALUES (1, 'a'), (2, 'b')",
    "SELECT e.payload->>'k' FROM events e WHERE e.payload ? 'k'",
    "SELECT * FROM accounts WHERE id = ANY(ARRAY[1, 2, 3])",
    "SELECT * FROM accounts WHERE id BETWEEN 1 AND 5 ORDER BY id",
    "SELECT DISTINCT ON (account_id) * FROM orders ORDER BY account_id, id DESC",
    "SELECT account_id, count(*) FROM orders GROUP BY account_id HAVING count(*) > (SELECT 0 FROM tags LIMIT 1)",
    "SELECT * FROM accounts WHERE email LIKE (SELECT 'u%' FROM settings LIMIT 1)",
    "SELECT * INTO TEMP tmp_copy FROM tags",
    // --- locking reads
    "SELECT * FROM accounts WHERE id = 1 FOR UPDATE",
    "SELECT * FROM accounts WHERE id = 1 FOR NO KEY UPDATE",
    "SELECT * FROM accounts WHERE id = 1 FOR SHARE",
    "SELECT * FROM accounts WHERE id = 1 FOR KEY SHARE",
    "SELECT * FROM accounts WHERE id IN (1, 2) ORDER BY id FOR UPDATE NOWAIT",
    "SELECT * FROM jobs WHERE state = 'ready' ORDER BY id LIMIT 5 FOR UPDATE SKIP LOCKED",
    "SELECT * FROM accounts a JOIN orders o ON o.account_id = a.id WHERE a.id = 1 FOR UPDATE",
    "SELECT * FROM accounts a JOIN orders o ON o.account_id = a.id WHERE a.id = 1 FOR UPDATE OF a",
    "SELECT * FROM accounts a JOIN orders o ON o.account_id = a.id WHERE a.id = 1 FOR NO KEY UPDATE OF o",
    "SELECT * FROM accounts a, orders o, payments p WHERE o.account_id = a.id AND p.order_id = o.id FOR SHARE OF a, o",
    "SELECT * FROM accounts a, orders o WHERE o.account_id = a.id FOR KEY SHARE OF a FOR UPDATE OF o",
    "SELECT * FROM orders WHERE account_id IN (SELECT id FROM accounts) FOR UPDATE",
    "SELECT * FROM (SELECT * FROM jobs WHERE id = 3) j FOR UPDATE",
    "WITH a AS (SELECT * FROM accounts) SELECT * FROM a, jobs FOR UPDATE OF jobs",
    "SELECT 1 FROM ONLY accounts x WHERE id OPERATOR(pg_catalog.=) 1 FOR KEY SHARE OF x",
    "SELECT * FROM inventory WHERE sku = 'a' FOR UPDATE",
    "SELECT * FROM order_items WHERE order_id = 101 AND line = 1 FOR NO KEY UPDATE",
    // --- INSERT
    "INSERT INTO tags VALUES (10, 'ten')",
    "INSERT INTO tags (id, name) VALUES (11, 'x'), (12, 'y') RETURNING id",
    "INSERT INTO accounts (id, email) VALUES (100, 'n@x')",
    "INSERT INTO orders (id, account_id, total) VALUES (500, 1, 5)",
    "INSERT INTO orders VALUES (501, 2, 5, 'x'), (502, 3, 5, 'y')",
    "INSERT INTO order_items (order_id, line, sku, qty) VALUES (101, 9, 's', 1)",
    "INSERT INTO payments (id, order_id, amount) VALUES (900, NULL, 1)",
    "INSERT INTO payments (id, amount) VALUES (901, 1)",
    "INSERT INTO payments (id, order_id, amount) VALUES (902, 101, 1)",
    "INSERT INTO ledger (account_id, amount) VALUES (1, 5)",
    "INSERT INTO account_tags VALUES (12, 2)",
    "INSERT INTO settings (id, v) VALUES (50, 'default account')",
    "INSERT INTO audit (account_id, msg) VALUES (3, 'x')",
    "INSERT INTO events (kind, payload) VALUES ('c', '{\"a\": [1, 2]}')",
    "INSERT INTO orders (id, account_id, total) SELECT 600 + id, id, 1 FROM accounts WHERE id < 3",
    "INSERT INTO accounts (id, email, balance) SELECT id + 1000, email || '.copy', balance FROM staging",
    "INSERT INTO tags (id, name) VALUES (1, 'a') ON CONFLICT DO NOTHING",
    "INSERT INTO tags (id, name) VALUES (1, 'a') ON CONFLICT (id) DO NOTHING",
    "INSERT INTO inventory (sku, qty) VALUES ('a', 1) ON CONFLICT (sku) DO UPDATE SET qty = inventory.qty + EXCLUDED.qty",
    "INSERT INTO accounts (id, email) VALUES (1, 'u1@x') ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email || '!'",
    "INSERT INTO orders (id, account_id) VALUES (101, 1) ON CONFLICT (id) DO UPDATE SET account_id = 2",
    "INSERT INTO orders (id, account_id) VALUES (555, 1) ON CONFLICT ON CONSTRAINT orders_pkey DO UPDATE SET note = 'dup'",
    "INSERT INTO jobs (id, state) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET state = 'again' WHERE jobs.state <> 'done'",
    "INSERT INTO ledger (account_id, amount) SELECT account_id, total FROM orders WHERE id = 101 RETURNING id",
    // --- UPDATE
    "UPDATE accounts SET balance = balance + 1 WHERE id = 1",
    "UPDATE accounts SET balance = 0",
    "UPDATE accounts SET email = 'new@x' WHERE id = 1",
    "UPDATE accounts SET status = 'closed' WHERE id IN (1, 2)",
    "UPDATE orders SET total = total * 2 WHERE account_id = 1",
    "UPDATE orders SET account_id = 2 WHERE id = 101",
    "UPDATE orders o SET note = a.email FROM accounts a WHERE a.id = o.account_id AND a.id = 1",
    "UPDATE payments SET order_id = NULL WHERE id = 201",
    "UPDATE payments SET order_id = 102 WHERE id = 201",
    "UPDATE settings SET account_id = 3 WHERE id = 2",
    "UPDATE accounts SET balance = (SELECT sum(amount) FROM ledger WHERE ledger.account_id = accounts.id) WHERE id = 10",
    "UPDATE jobs SET state = 'running' WHERE id = (SELECT id FROM jobs WHERE state = 'ready' ORDER BY id LIMIT 1)",
    "UPDATE inventory SET qty = qty - 1 WHERE sku = 'a' RETURNING qty",
    "UPDATE order_items SET qty = 3 WHERE order_id = 101 AND line = 1",
    "UPDATE accounts SET id = 1011 WHERE id = 11",
    "UPDATE tags SET name = 'z' WHERE id = 3",
    "UPDATE tags SET id = 30 WHERE id = 3",
    "UPDATE account_tags SET tag_id = 2 WHERE account_id = 1",
    "UPDATE audit SET msg = 'y' WHERE account_id = 10",
    "UPDATE events SET payload = payload || '{\"z\": 1}' WHERE kind = 'a'",
    // --- DELETE
    "DELETE FROM tags WHERE id = 3",
    "DELETE FROM order_items WHERE order_id = 101 AND line = 2",
    "DELETE FROM payments WHERE id = 201",
    "DELETE FROM orders WHERE id = 103",
    "DELETE FROM accounts WHERE id = 2",
    "DELETE FROM accounts WHERE id = 12",
    "DELETE FROM ledger WHERE account_id = 10",
    "DELETE FROM account_tags WHERE account_id = 1",
    "DELETE FROM settings WHERE id = 2",
    "DELETE FROM orders USING accounts WHERE orders.account_id = accounts.id AND accounts.id = 4",
    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'ready' LIMIT 2) RETURNING id",
    "DELETE FROM events",
    "DELETE FROM staging WHERE id = 13",
    // --- data-modifying CTEs
    "WITH d AS (DELETE FROM staging WHERE id = 14 RETURNING *) INSERT INTO accounts (id, email) SELECT id, email FROM d",
    "WITH u AS (UPDATE jobs SET state = 'done' WHERE id = 5 RETURNING id) SELECT * FROM u",
    "WITH i AS (INSERT INTO tags VALUES (20, 't') RETURNING id) INSERT INTO account_tags (account_id, tag_id) SELECT 1, id FROM i",
    "WITH moved AS (DELETE FROM ledger WHERE account_id = 10 RETURNING account_id, amount) INSERT INTO audit (account_id, msg) SELECT account_id, 'moved' FROM moved",
    // --- MERGE
    "MERGE INTO accounts a USING staging s ON a.id = s.id WHEN MATCHED THEN UPDATE SET balance = s.balance WHEN NOT MATCHED THEN INSERT (id, email, balance) VALUES (s.id, s.email, s.balance)",
    "MERGE INTO inventory i USING (VALUES ('a', 1), ('z', 2)) AS v(sku, qty) ON i.sku = v.sku WHEN MATCHED THEN UPDATE SET qty = i.qty + v.qty WHEN NOT MATCHED THEN INSERT VALUES (v.sku, v.qty)",
    "MERGE INTO jobs j USING (SELECT 7 AS id) s ON j.id = s.id WHEN MATCHED THEN DELETE",
    "MERGE INTO tags t USING tags s ON t.id = s.id WHEN MATCHED THEN DO NOTHING",
    // --- TRUNCATE
    "TRUNCATE staging",
    "TRUNCATE events, jobs RESTART IDENTITY",
    "TRUNCATE order_items",
    "TRUNCATE orders CASCADE",
    "TRUNCATE TABLE accounts CASCADE",
    // --- LOCK TABLE
    "LOCK TABLE accounts",
    "LOCK accounts IN ACCESS SHARE MODE",
    "LOCK TABLE accounts IN ROW SHARE MODE",
    "LOCK TABLE accounts IN ROW EXCLUSIVE MODE",
    "LOCK TABLE accounts IN SHARE UPDATE EXCLUSIVE MODE",
    "LOCK TABLE accounts IN SHARE MODE",
    "LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE",
    "LOCK TABLE accounts IN EXCLUSIVE MODE",
    "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE NOWAIT",
    "LOCK TABLE accounts, orders, ledger IN SHARE MODE",
    "LOCK TABLE ONLY tags IN EXCLUSIVE MODE",
    // --- advisory locks
    "SELECT pg_advisory_xact_lock(42)",
    "SELECT pg_advisory_xact_lock_shared(43)",
    "SELECT pg_advisory_xact_lock(1, 2)",
    "SELECT pg_advisory_xact_lock_shared(3, 4)",
    "SELECT pg_try_advisory_xact_lock(44)",
    "SELECT pg_try_advisory_xact_lock_shared(5, 6)",
    "SELECT pg_advisory_xact_lock(-7)",
    "SELECT pg_advisory_xact_lock(9000000000)",
    "SELECT pg_advisory_xact_lock(45), pg_advisory_xact_lock(46)",
    "SELECT pg_advisory_xact_lock(id) FROM tags WHERE id = 1",
    // --- DDL
    "CREATE INDEX accounts_status_idx ON accounts (status)",
    "CREATE UNIQUE INDEX ON orders (id, account_id)",
    "CREATE INDEX ON events USING gin (payload)",
    "CREATE INDEX ON orders (total) WHERE total > 5",
    "CREATE TABLE things (id int PRIMARY KEY, account_id bigint REFERENCES accounts(id))",
    "CREATE TABLE plain (a int, b text)",
    "CREATE TABLE copy_of_tags AS SELECT * FROM tags",
    "CREATE TABLE like_tags (LIKE tags INCLUDING ALL)",
    "CREATE TABLE child_tags (extra int) INHERITS (tags)",
    "CREATE TABLE metrics_3 PARTITION OF metrics FOR VALUES FROM (200) TO (300)",
    "CREATE MATERIALIZED VIEW acct_mv AS SELECT id, email FROM accounts",
    "CREATE VIEW acct_v AS SELECT accounts.id FROM accounts JOIN tags ON tags.id = accounts.id",
    "ALTER TABLE accounts ADD COLUMN nickname text",
    "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS created timestamptz DEFAULT now()",
    "ALTER TABLE accounts ADD COLUMN r float8 DEFAULT random()",
    "ALTER TABLE accounts ALTER COLUMN status SET NOT NULL",
    "ALTER TABLE accounts ALTER COLUMN status DROP NOT NULL",
    "ALTER TABLE accounts ALTER COLUMN status SET DEFAULT 'new'",
    "ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(14,2)",
    "ALTER TABLE tags ALTER COLUMN name TYPE varchar(100)",
    "ALTER TABLE accounts ALTER COLUMN balance SET STATISTICS 500",
    "ALTER TABLE accounts ALTER COLUMN status SET (n_distinct = 5)",
    "ALTER TABLE accounts ALTER COLUMN status SET STORAGE EXTERNAL",
    "ALTER TABLE accounts DROP COLUMN status",
    "ALTER TABLE accounts RENAME COLUMN status TO state",
    "ALTER TABLE tags RENAME TO labels",
    "ALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0)",
    "ALTER TABLE accounts ADD CONSTRAINT positive_balance CHECK (balance >= 0) NOT VALID",
    "ALTER TABLE inventory ADD CONSTRAINT inventory_qty_key UNIQUE (qty, sku)",
    "ALTER TABLE staging ADD PRIMARY KEY (id)",
    "ALTER TABLE staging ADD CONSTRAINT staging_acct_fk FOREIGN KEY (id) REFERENCES accounts(id) NOT VALID",
    "ALTER TABLE payments ADD CONSTRAINT payments_id_fk FOREIGN KEY (id) REFERENCES payments(id)",
    "ALTER TABLE jobs ADD COLUMN account_id bigint REFERENCES accounts(id)",
    "ALTER TABLE events ADD FOREIGN KEY (id) REFERENCES accounts(id) NOT VALID",
    "ALTER TABLE audit VALIDATE CONSTRAINT audit_account_id_fkey",
    "ALTER TABLE orders DROP CONSTRAINT orders_account_id_fkey",
    "ALTER TABLE settings ALTER COLUMN v SET DEFAULT 'y', ALTER COLUMN v SET STATISTICS 10",
    "ALTER TABLE accounts SET (fillfactor = 70)",
    "ALTER TABLE accounts RESET (fillfactor)",
    "ALTER TABLE accounts SET (autovacuum_enabled = false), SET (fillfactor = 80)",
    "ALTER TABLE accounts CLUSTER ON accounts_pkey",
    "ALTER TABLE accounts SET WITHOUT CLUSTER",
    "ALTER TABLE staging SET UNLOGGED",
    "ALTER TABLE accounts SET TABLESPACE pg_default",
    "ALTER TABLE accounts OWNER TO CURRENT_USER",
    "ALTER TABLE accounts REPLICA IDENTITY FULL",
    "ALTER TABLE accounts ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE accounts DISABLE TRIGGER ALL",
    "ALTER TABLE accounts ENABLE TRIGGER USER",
    "ALTER TABLE metrics ATTACH PARTITION metrics_2 FOR VALUES FROM (100) TO (200)",
    "ALTER TABLE metrics DETACH PARTITION metrics_1",
    "ALTER TABLE IF EXISTS ONLY jobs ALTER COLUMN state SET DEFAULT 'ready'",
    "DROP TABLE staging",
    "DROP TABLE order_items",
    "DROP TABLE payments, ledger",
    "DROP TABLE orders CASCADE",
    "DROP TABLE IF EXISTS events",
    "DROP MATERIALIZED VIEW daily",
    "DROP INDEX orders_account_id_idx",
    "DROP INDEX jobs_run_at_idx",
    "CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    "CREATE POLICY own_rows ON accounts USING (id > 0)",
    "CREATE RULE no_delete AS ON DELETE TO events DO INSTEAD NOTHING",
    "CREATE STATISTICS acct_stats (dependencies) ON id, status FROM accounts",
    "COMMENT ON TABLE accounts IS 'customer accounts'",
    "COMMENT ON COLUMN accounts.email IS 'login'",
    "COMMENT ON MATERIALIZED VIEW daily IS 'days'",
    "ANALYZE accounts",
    "ANALYZE VERBOSE tags (name), jobs",
    "CLUSTER accounts USING accounts_pkey",
    "REINDEX TABLE accounts",
    "REINDEX INDEX orders_pkey",
    "REFRESH MATERIALIZED VIEW daily",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY daily",
    "EXPLAIN SELECT * FROM accounts JOIN orders ON orders.account_id = accounts.id",
    "EXPLAIN UPDATE accounts SET balance = 1 WHERE id = 1",
    "EXPLAIN ANALYZE DELETE FROM payments WHERE id = 202",
    "PREPARE upd AS UPDATE jobs SET state = $1 WHERE id = $2",
    "DECLARE c CURSOR FOR SELECT * FROM accounts JOIN tags ON true",
    // Server-side COPY (the test connects as a superuser to a local server).
    "COPY (SELECT * FROM tags) TO '/dev/null'",
    "COPY staging (id, email) FROM '/dev/null'",
    "COPY accounts TO '/dev/null'",
    // --- statements that take no table locks
    "SET LOCAL lock_timeout = '5s'",
    "SHOW search_path",
    "LISTEN lockgraph_oracle",
    "NOTIFY lockgraph_oracle, 'x'",
    "CREATE SEQUENCE seq_x",
    "GRANT SELECT ON accounts TO PUBLIC",
    "SAVEPOINT s1",
];

/// Statements whose row locks are also compared, through `pgrowlocks` from a second session.
const ROW_CASES: &[&str] = &[
    "SELECT * FROM accounts WHERE id = 1 FOR UPDATE",
    "SELECT * FROM accounts WHERE id = 1 FOR NO KEY UPDATE",
    "SELECT * FROM accounts WHERE id = 1 FOR SHARE",
    "SELECT * FROM accounts WHERE id = 1 FOR KEY SHARE",
    "SELECT * FROM accounts WHERE id IN (1, 2) ORDER BY id FOR UPDATE",
    "SELECT 1 FROM ONLY accounts x WHERE id OPERATOR(pg_catalog.=) 3 FOR KEY SHARE OF x",
    "SELECT * FROM accounts a JOIN orders o ON o.account_id = a.id WHERE a.id = 1 FOR NO KEY UPDATE OF o",
    "SELECT * FROM jobs WHERE state = 'ready' ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED",
    "UPDATE accounts SET balance = balance + 1 WHERE id = 1",
    "UPDATE accounts SET email = 'changed@x' WHERE id = 1",
    "UPDATE order_items SET qty = 9 WHERE order_id = 101 AND line = 1",
    "UPDATE order_items SET line = 7 WHERE order_id = 101 AND line = 2",
    "UPDATE jobs SET state = 'x' WHERE id = 1",
    "UPDATE inventory SET sku = 'q' WHERE sku = 'c'",
    "DELETE FROM tags WHERE id = 3",
    "DELETE FROM payments WHERE id = 205",
    "INSERT INTO orders (id, account_id) VALUES (700, 5)",
    "INSERT INTO order_items (order_id, line) VALUES (104, 5)",
    "INSERT INTO account_tags VALUES (12, 2)",
    "UPDATE orders SET account_id = 6 WHERE id = 101",
    "INSERT INTO inventory (sku, qty) VALUES ('b', 1) ON CONFLICT (sku) DO UPDATE SET qty = 0",
    "INSERT INTO inventory (sku, qty) VALUES ('b', 1) ON CONFLICT (sku) DO UPDATE SET sku = 'bb'",
    "DELETE FROM orders WHERE id = 106",
    "DELETE FROM accounts WHERE id = 3",
];

/// Statements that cannot run inside a transaction block: observed while they wait behind a
/// conflicting lock held by another session on the relation they lock first.
const BLOCKED_CASES: &[&str] = &[
    "CREATE INDEX CONCURRENTLY accounts_status_cidx ON accounts (status)",
    "CREATE UNIQUE INDEX CONCURRENTLY ON tags (name, id)",
    "DROP INDEX CONCURRENTLY orders_account_id_idx",
    "REINDEX TABLE CONCURRENTLY accounts",
    "REINDEX INDEX CONCURRENTLY orders_pkey",
    "VACUUM accounts",
    "VACUUM (ANALYZE) orders",
    "VACUUM ANALYZE tags",
    "VACUUM FULL jobs",
    "VACUUM (FULL, VERBOSE) inventory",
    "ALTER TABLE metrics DETACH PARTITION metrics_1 CONCURRENTLY",
];

fn config() -> String {
    std::env::var("LOCKGRAPH_TEST_PG")
        .unwrap_or_else(|_| "host=127.0.0.1 port=5432 user=postgres dbname=test".to_string())
}

async fn connect(cfg: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(cfg, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn pg_mode_name(m: LockMode) -> String {
    match m {
        LockMode::Table(t) => t.pg_name().to_string(),
        LockMode::Advisory(lockgraph_core::AdvisoryMode::Shared) => "ShareLock".into(),
        LockMode::Advisory(lockgraph_core::AdvisoryMode::Exclusive) => "ExclusiveLock".into(),
        LockMode::Row(r) => r.to_string(),
        // The PostgreSQL inference never yields InnoDB modes.
        other @ (LockMode::InnoDbTable(_) | LockMode::InnoDbRecord(_)) => other.to_string(),
    }
}

fn bare(relation: &str) -> &str {
    relation.rsplit('.').next().unwrap_or(relation)
}

/// The advisory key as pg_locks shows it: `classid/objid/objsubid`.
fn advisory_key(key: &str) -> String {
    let parts: Vec<&str> = key.split(',').map(str::trim).collect();
    match parts.as_slice() {
        [one] => match one.parse::<i64>() {
            Ok(k) => format!("{}/{}/1", ((k as u64) >> 32) as u32, k as u64 as u32),
            Err(_) => format!("{one}/?/1"),
        },
        [a, b] => {
            let (a, b) = (a.parse::<i32>().unwrap_or(0), b.parse::<i32>().unwrap_or(0));
            format!("{}/{}/2", a as u32, b as u32)
        }
        _ => key.to_string(),
    }
}

/// The table-level and advisory locks the inference predicts, as pg_locks would spell them.
fn expected(inf: &Inference, advisory_values: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut adv = advisory_values.iter();
    for l in &inf.locks {
        match (&l.target, l.mode) {
            (LockTarget::Relation { relation }, LockMode::Table(_)) => {
                out.insert(format!(
                    "{} {}",
                    bare(relation.as_str()),
                    pg_mode_name(l.mode)
                ));
            }
            (LockTarget::Advisory { key }, LockMode::Advisory(_)) => {
                // A key computed by the query (`pg_advisory_xact_lock(id)`) is compared by the
                // value the server used.
                let k = if key.parse::<i64>().is_ok() || key.contains(',') {
                    advisory_key(key)
                } else {
                    adv.next().cloned().unwrap_or_else(|| key.to_string())
                };
                out.insert(format!("advisory {k} {}", pg_mode_name(l.mode)));
            }
            _ => {}
        }
    }
    out
}

struct Oracle {
    main: Client,
    other: Client,
    schema_name: String,
    /// Relations of the fixture by OID (taken before any statement, so dropped or renamed ones
    /// keep their names, and ones a statement creates are not in it).
    names: HashMap<u32, (String, String)>,
    schema: Schema,
    /// The qualified name of the `pgrowlocks` function.
    rowlocks: String,
    failures: Vec<String>,
    compared: usize,
}

impl Oracle {
    /// Relation and advisory locks held by the main session, as `name mode` strings.
    async fn observed(&self) -> Result<(BTreeSet<String>, Vec<String>), tokio_postgres::Error> {
        let rows = self
            .main
            .query(
                "SELECT l.locktype, l.relation, l.mode, l.classid, l.objid, l.objsubid::int4
                 FROM pg_locks l WHERE l.pid = pg_backend_pid() AND l.locktype IN ('relation', 'advisory')",
                &[],
            )
            .await?;
        let mut out = BTreeSet::new();
        let mut advisory_keys = Vec::new();
        for r in rows {
            let locktype: String = r.get(0);
            let mode: String = r.get(2);
            if locktype == "advisory" {
                let (c, o, s): (Option<u32>, Option<u32>, Option<i32>) =
                    (r.get(3), r.get(4), r.get(5));
                let key = format!("{}/{}/{}", c.unwrap_or(0), o.unwrap_or(0), s.unwrap_or(0));
                advisory_keys.push(key.clone());
                out.insert(format!("advisory {key} {mode}"));
                continue;
            }
            let Some(oid) = r.get::<_, Option<u32>>(1) else {
                continue;
            };
            // Relations missing from the snapshot were created by the statement: no other
            // session can see them before commit, and the inference leaves their locks out.
            if let Some((name, kind)) = self.names.get(&oid)
                && matches!(kind.as_str(), "r" | "m" | "p")
            {
                out.insert(format!("{name} {mode}"));
            }
        }
        Ok((out, advisory_keys))
    }

    /// Row lock modes per relation seen by `pgrowlocks` from the other session.
    async fn row_modes(
        &self,
        relations: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, BTreeSet<String>>, tokio_postgres::Error> {
        let mut out = BTreeMap::new();
        for rel in relations {
            let q = format!(
                "SELECT modes FROM {}('{}.{}')",
                self.rowlocks, self.schema_name, rel
            );
            for row in self.other.query(q.as_str(), &[]).await? {
                let modes: Vec<String> = row.get(0);
                for m in modes {
                    let mode = RowLockMode::parse(m.trim_start_matches("For "))
                        .map(|m| m.to_string())
                        .unwrap_or(m);
                    out.entry(rel.clone())
                        .or_insert_with(BTreeSet::new)
                        .insert(mode);
                }
            }
        }
        Ok(out)
    }

    async fn case(&mut self, sql: &str, rows: bool) -> Result<(), tokio_postgres::Error> {
        let inf = infer_statement(sql, &self.schema);
        if let Some(p) = &inf.problem {
            self.failures
                .push(format!("{sql}\n    inference problem: {p:?}"));
        }
        self.main.batch_execute("BEGIN").await?;
        if let Err(e) = self.main.batch_execute(sql).await {
            self.failures
                .push(format!("{sql}\n    server rejected it (fixture bug): {e}"));
            self.main.batch_execute("ROLLBACK").await?;
            return Ok(());
        }
        let (got, advisory_keys) = self.observed().await?;
        let want = expected(&inf, &advisory_keys);
        self.compared += 1;
        if got != want {
            let missing: Vec<_> = got.difference(&want).collect();
            let extra: Vec<_> = want.difference(&got).collect();
            self.failures.push(format!(
                "{sql}\n    pg_locks only: {missing:?}\n    inferred only: {extra:?}"
            ));
        }
        if rows {
            let mut want_rows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for l in &inf.locks {
                if let (LockTarget::Rows { relation, .. }, LockMode::Row(m)) = (&l.target, l.mode) {
                    want_rows
                        .entry(bare(relation.as_str()).to_string())
                        .or_default()
                        .insert(m.to_string());
                }
            }
            let tables: BTreeSet<String> = got
                .iter()
                .filter(|g| !g.starts_with("advisory"))
                .filter_map(|g| g.split(' ').next().map(str::to_string))
                .collect();
            let got_rows = self.row_modes(&tables).await?;
            if got_rows != want_rows {
                self.failures.push(format!(
                    "{sql}\n    pgrowlocks: {got_rows:?}\n    inferred:   {want_rows:?}"
                ));
            }
        }
        self.main.batch_execute("ROLLBACK").await?;
        Ok(())
    }

    /// Runs `sql` in a third session while the main one holds a conflicting lock on the relation
    /// the inference says it locks first; the lock it waits for must be that one.
    async fn blocked_case(&mut self, cfg: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
        let inf = infer_statement(sql, &self.schema);
        let Some((first, mode)) = inf
            .table_locks()
            .next()
            .map(|(r, m)| (bare(r.as_str()).to_string(), m))
        else {
            self.failures
                .push(format!("{sql}\n    inference gives no table lock"));
            return Ok(());
        };
        let waiter = connect(cfg).await?;
        waiter
            .batch_execute(&format!(
                "SET search_path = {}; SET statement_timeout = '20s'",
                self.schema_name
            ))
            .await?;
        let pid: i32 = waiter
            .query_one("SELECT pg_backend_pid()", &[])
            .await?
            .get(0);
        // Hold the weakest mode that conflicts with the inferred one: VACUUM first looks the
        // table up under a brief ACCESS SHARE lock, which must not be what it waits for.
        let hold = TableLockMode::ALL
            .into_iter()
            .find(|m| m.conflicts_with(mode))
            .unwrap_or(TableLockMode::AccessExclusive);
        self.main
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE {first} IN {} MODE",
                hold.sql_name()
            ))
            .await?;
        let cancel = waiter.cancel_token();
        let statement = sql.to_string();
        let task = tokio::spawn(async move { waiter.batch_execute(&statement).await });
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut waited_for = None;
        while Instant::now() < deadline {
            let rows = self
                .other
                .query(
                    "SELECT c.relname::text, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                     WHERE l.pid = $1 AND NOT l.granted AND l.locktype = 'relation'",
                    &[&pid],
                )
                .await?;
            if let Some(r) = rows.first() {
                waited_for = Some(format!(
                    "{} {}",
                    r.get::<_, String>(0),
                    r.get::<_, String>(1)
                ));
                break;
            }
            if task.is_finished() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = cancel.cancel_query(NoTls).await;
        let outcome = task.await;
        self.main.batch_execute("ROLLBACK").await?;
        self.compared += 1;
        let want = format!("{first} {}", mode.pg_name());
        match waited_for {
            Some(got) if got == want => {}
            Some(got) => self.failures.push(format!(
                "{sql}\n    waited for: {got}\n    inferred first lock: {want}"
            )),
            None => self.failures.push(format!(
                "{sql}\n    never waited (outcome {outcome:?}); inferred first lock: {want}"
            )),
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inferred_locks_match_pg_locks() {
    let cfg = config();
    let main = match connect(&cfg).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("pg_oracle: cannot reach PostgreSQL ({cfg}): {e}");
            }
            // Written to the real stderr: the test harness would swallow `eprintln!`.
            let _ = writeln!(
                std::io::stderr(),
                "note: pg_oracle did not run: cannot reach PostgreSQL ({cfg}): {e}. \
                 Set LOCKGRAPH_TEST_PG to a tokio-postgres config string to point it at a server."
            );
            return;
        }
    };
    let other = connect(&cfg).await.expect("second connection");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema_name = format!("lockgraph_oracle_{}_{nanos}", std::process::id());
    // pgrowlocks may already exist (another test created it first): only its schema matters.
    let _ = main
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pgrowlocks")
        .await;
    let rowlocks: String = main
        .query_one(
            "SELECT quote_ident(extnamespace::regnamespace::text) || '.pgrowlocks' FROM pg_extension WHERE extname = 'pgrowlocks'",
            &[],
        )
        .await
        .expect("the pgrowlocks extension (CREATE EXTENSION pgrowlocks)")
        .get(0);
    main.batch_execute(&format!(
        "CREATE SCHEMA {schema_name}; SET search_path = {schema_name}"
    ))
    .await
    .expect("create schema");
    other
        .batch_execute(&format!("SET search_path = {schema_name}, public"))
        .await
        .expect("search_path");
    let result = run(&cfg, main, other, &schema_name, rowlocks).await;
    // Drop the fixture whatever happened.
    let cleanup = connect(&cfg).await.expect("cleanup connection");
    cleanup
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema_name} CASCADE"))
        .await
        .expect("drop schema");
    let (compared, failures) = result.expect("oracle run");
    let _ = writeln!(
        std::io::stderr(),
        "pg_oracle: {compared} statements compared with pg_locks/pgrowlocks, {} mismatches",
        failures.len()
    );
    assert!(compared >= 150, "only {compared} statements compared");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn run(
    cfg: &str,
    main: Client,
    other: Client,
    schema_name: &str,
    rowlocks: String,
) -> Result<(usize, Vec<String>), tokio_postgres::Error> {
    main.batch_execute(FIXTURE).await?;
    main.batch_execute(DATA).await?;
    main.batch_execute("SET lock_timeout = '10s'").await?;
    let (schema, diags) = parse_schema(&[("fixture.sql", FIXTURE)]);
    assert!(diags.is_empty(), "fixture schema: {diags:?}");
    let names = main
        .query(
            "SELECT oid, relname::text, relkind::text FROM pg_class WHERE relnamespace = $1::text::regnamespace",
            &[&schema_name],
        )
        .await?
        .into_iter()
        .map(|r| (r.get::<_, u32>(0), (r.get::<_, String>(1), r.get::<_, String>(2))))
        .collect();
    let mut o = Oracle {
        main,
        other,
        schema_name: schema_name.to_string(),
        names,
        schema,
        rowlocks,
        failures: Vec::new(),
        compared: 0,
    };
    for sql in CASES {
        o.case(sql, false).await?;
    }
    for sql in ROW_CASES {
        o.case(sql, true).await?;
    }
    for sql in BLOCKED_CASES {
        o.blocked_case(cfg, sql).await?;
    }
    Ok((o.compared, o.failures))
}
