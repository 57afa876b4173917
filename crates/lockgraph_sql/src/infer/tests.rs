//! Inference unit tests: one group per statement family.

use super::*;
use crate::parse_schema;
use lockgraph_core::AdvisoryMode;

const SCHEMA: &str = "
CREATE TABLE accounts (id bigint PRIMARY KEY, email text UNIQUE, balance int NOT NULL DEFAULT 0);
CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, total int);
CREATE TABLE order_items (order_id bigint REFERENCES orders ON DELETE CASCADE, line int, sku text, PRIMARY KEY (order_id, line));
CREATE TABLE audit (id serial PRIMARY KEY, account_id bigint REFERENCES accounts(id) ON DELETE SET NULL);
CREATE TABLE notes (id int PRIMARY KEY, account_id bigint REFERENCES accounts(id));
CREATE TABLE profiles (account_id bigint PRIMARY KEY REFERENCES accounts(id) ON UPDATE CASCADE ON DELETE CASCADE, bio text);
";

fn schema() -> Schema {
    let (s, d) = parse_schema(&[("schema.sql", SCHEMA)]);
    assert!(d.is_empty(), "{d:?}");
    s
}

/// `target mode` for each lock, `*` marking implicit ones.
fn locks_with(sql: &str, schema: &Schema) -> Vec<String> {
    let inf = infer_statement(sql, schema);
    assert!(inf.problem.is_none(), "{sql}: {:?}", inf.problem);
    render(&inf)
}

fn render(inf: &Inference) -> Vec<String> {
    inf.locks
        .iter()
        .map(|l| {
            format!(
                "{}{} {}",
                if l.implicit.is_some() { "*" } else { "" },
                l.target,
                l.mode
            )
        })
        .collect()
}

fn locks(sql: &str) -> Vec<String> {
    locks_with(sql, &Schema::default())
}

fn tables(sql: &str) -> Vec<String> {
    let inf = infer_statement(sql, &Schema::default());
    inf.table_locks().map(|(r, m)| format!("{r} {m}")).collect()
}

#[test]
fn transaction_control() {
    let kind = |s: &str| infer_statement(s, &Schema::default()).kind;
    assert_eq!(kind("BEGIN"), StatementKind::Begin);
    assert_eq!(
        kind("begin isolation level serializable"),
        StatementKind::Begin
    );
    assert_eq!(kind("START TRANSACTION READ WRITE"), StatementKind::Begin);
    assert_eq!(kind("COMMIT"), StatementKind::Commit);
    assert_eq!(kind("END WORK"), StatementKind::Commit);
    assert_eq!(kind("PREPARE TRANSACTION 'x'"), StatementKind::Commit);
    assert_eq!(kind("ROLLBACK"), StatementKind::Rollback);
    assert_eq!(kind("ABORT"), StatementKind::Rollback);
    assert_eq!(
        kind("SAVEPOINT Sp1"),
        StatementKind::Savepoint("sp1".into())
    );
    assert_eq!(
        kind("ROLLBACK TO SAVEPOINT sp1"),
        StatementKind::RollbackToSavepoint("sp1".into())
    );
    assert_eq!(
        kind("ROLLBACK WORK TO \"Sp\""),
        StatementKind::RollbackToSavepoint("Sp".into())
    );
    assert_eq!(
        kind("RELEASE SAVEPOINT sp1"),
        StatementKind::ReleaseSavepoint("sp1".into())
    );
    assert_eq!(
        kind("RELEASE sp1"),
        StatementKind::ReleaseSavepoint("sp1".into())
    );
    assert_eq!(kind("COMMIT PREPARED 'x'"), StatementKind::Other);
    assert_eq!(kind("SELECT 1"), StatementKind::Other);
}

#[test]
fn selects_take_access_share_on_every_table_read() {
    assert_eq!(
        tables(
            "WITH recent AS (SELECT * FROM orders) SELECT a.*, (SELECT max(x) FROM stats) FROM accounts a JOIN recent r ON r.account_id = a.id LEFT JOIN LATERAL (SELECT * FROM notes n WHERE n.account_id = a.id) z ON true WHERE EXISTS (SELECT 1 FROM audit WHERE audit.id IN (SELECT id FROM flags)) UNION ALL SELECT * FROM archive.accounts"
        ),
        vec![
            "orders ACCESS SHARE",
            "accounts ACCESS SHARE",
            "notes ACCESS SHARE",
            "stats ACCESS SHARE",
            "audit ACCESS SHARE",
            "flags ACCESS SHARE",
            "archive.accounts ACCESS SHARE",
        ]
    );
    assert_eq!(locks("SELECT 1"), Vec::<String>::new());
    assert_eq!(
        locks("SELECT * FROM generate_series(1, 3) g"),
        Vec::<String>::new()
    );
    assert_eq!(
        locks("SELECT * FROM \"Mixed\".\"T\", public.u"),
        vec!["Mixed.T ACCESS SHARE", "u ACCESS SHARE"]
    );
    assert_eq!(locks("TABLE accounts"), vec!["accounts ACCESS SHARE"]);
    assert_eq!(locks("VALUES (1), (2)"), Vec::<String>::new());
}

#[test]
fn cte_names_and_aliases_are_not_relations() {
    assert_eq!(
        tables(
            "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t"
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        tables("WITH x AS (SELECT 1) SELECT * FROM x, y"),
        vec!["y ACCESS SHARE"]
    );
    // A CTE shadows a table only inside its WITH scope.
    assert_eq!(
        tables("SELECT * FROM (WITH t AS (SELECT 1) SELECT * FROM t) s, t"),
        vec!["t ACCESS SHARE"]
    );
}

#[test]
fn locking_reads() {
    assert_eq!(
        locks("SELECT * FROM accounts WHERE id = $1 FOR UPDATE"),
        vec!["accounts ROW SHARE", "accounts rows (id = $1) FOR UPDATE"]
    );
    assert_eq!(
        locks(
            "SELECT * FROM accounts a JOIN orders o ON o.account_id = a.id WHERE a.id = 7 FOR NO KEY UPDATE OF a SKIP LOCKED"
        ),
        vec![
            "accounts ROW SHARE",
            "orders ACCESS SHARE",
            "accounts rows (id = 7) FOR NO KEY UPDATE"
        ]
    );
    assert_eq!(
        locks("SELECT * FROM a, b, c FOR KEY SHARE OF a, b FOR SHARE OF c NOWAIT"),
        vec![
            "a ROW SHARE",
            "b ROW SHARE",
            "c ROW SHARE",
            "a rows FOR KEY SHARE",
            "b rows FOR KEY SHARE",
            "c rows FOR SHARE"
        ]
    );
    // Subqueries in WHERE are only read.
    assert_eq!(
        locks("SELECT * FROM jobs WHERE id IN (SELECT job_id FROM ready) FOR UPDATE SKIP LOCKED"),
        vec![
            "jobs ROW SHARE",
            "ready ACCESS SHARE",
            "jobs rows (id IN (SELECT …)) FOR UPDATE"
        ]
    );
    // A locking clause reaches the tables of a subquery in FROM.
    assert_eq!(
        locks("SELECT * FROM (SELECT * FROM jobs WHERE id = 1) j FOR UPDATE"),
        vec!["jobs ROW SHARE", "jobs rows (id = 1) FOR UPDATE"]
    );
}

#[test]
fn foreign_key_check_statement_from_server_logs() {
    let inf = infer_statement(
        "SELECT 1 FROM ONLY \"public\".\"parent\" x WHERE \"id\" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x",
        &Schema::default(),
    );
    assert!(inf.problem.is_none(), "{:?}", inf.problem);
    assert_eq!(
        render(&inf),
        vec!["parent ROW SHARE", "parent rows (id = $1) FOR KEY SHARE"]
    );
}

#[test]
fn key_predicates() {
    let s = schema();
    let key = |sql: &str| -> Option<KeyPredicate> {
        let inf = infer_statement(sql, &s);
        inf.locks.iter().find_map(|l| l.target.key().cloned())
    };
    let k = key("SELECT * FROM order_items WHERE line = 2 AND order_id = $1 FOR UPDATE").unwrap();
    assert_eq!((k.columns.len(), k.single_row), (2, true));
    assert_eq!(k.to_string(), "line = 2 AND order_id = $1");
    let k = key("SELECT * FROM order_items WHERE order_id = 5 FOR UPDATE").unwrap();
    assert!(!k.single_row);
    let k = key("SELECT * FROM accounts WHERE email = 'a@b' FOR UPDATE").unwrap();
    assert!(k.single_row, "a unique column pins one row");
    assert_eq!(&*k.values[0], "'a@b'");
    let k = key("SELECT * FROM accounts WHERE id IN (3, 1, 2) ORDER BY id FOR UPDATE").unwrap();
    assert_eq!((k.single_row, k.ordered), (false, true));
    assert_eq!(k.to_string(), "id IN (3, 1, 2)");
    let k = key("SELECT * FROM accounts WHERE id = ANY($1) FOR UPDATE").unwrap();
    assert_eq!(
        (k.single_row, k.ordered, &*k.values[0]),
        (false, false, "$1")
    );
    let k = key("UPDATE accounts SET balance = 0 WHERE balance > 100").unwrap();
    assert!(!k.single_row);
    assert!(key("UPDATE accounts SET balance = 0").is_none());
    // Unknown table: `id` is the key.
    let k = key("DELETE FROM things WHERE id = 3 AND kind = 'x'").unwrap();
    assert_eq!((k.to_string(), k.single_row), ("id = 3".to_string(), true));
    // Literal values are those of this statement, also through the cache.
    let mut cache = InferenceCache::new();
    for n in [10, 20] {
        let inf = cache.infer(
            &format!("SELECT * FROM accounts WHERE id = {n} FOR UPDATE"),
            &s,
        );
        assert_eq!(
            inf.locks[1].target.key().unwrap().values[0].to_string(),
            n.to_string()
        );
    }
    assert_eq!((cache.hits(), cache.misses()), (1, 1));
}

#[test]
fn placeholders_are_normalized_before_parsing() {
    for sql in [
        "UPDATE accounts SET balance = %s WHERE id = %s",
        "UPDATE accounts SET balance = %(b)s WHERE id = %(id)s",
        "UPDATE accounts SET balance = ? WHERE id = ?",
    ] {
        assert_eq!(
            locks(sql),
            vec![
                "accounts ROW EXCLUSIVE",
                "accounts rows (id = $2) FOR NO KEY UPDATE"
            ],
            "{sql}"
        );
    }
    assert_eq!(
        locks("SELECT * FROM docs WHERE data ? 'k' AND id = ?"),
        vec!["docs ACCESS SHARE"],
        "jsonb ? stays an operator"
    );
}

#[test]
fn inserts() {
    let s = schema();
    assert_eq!(
        locks_with("INSERT INTO accounts (id, email) VALUES (1, 'x')", &s),
        vec!["accounts ROW EXCLUSIVE"]
    );
    assert_eq!(
        locks_with(
            "INSERT INTO orders (id, account_id, total) VALUES ($1, $2, 0) RETURNING id",
            &s
        ),
        vec![
            "orders ROW EXCLUSIVE",
            "*accounts ROW SHARE",
            "*accounts rows (id = $2) FOR KEY SHARE"
        ]
    );
    // Positional VALUES map onto the schema's column order; several rows lock a set.
    assert_eq!(
        locks_with("INSERT INTO orders VALUES (1, 10, 0), (2, 11, 0)", &s),
        vec![
            "orders ROW EXCLUSIVE",
            "*accounts ROW SHARE",
            "*accounts rows (id IN (10, 11)) FOR KEY SHARE"
        ]
    );
    // NULL or missing foreign-key columns are not checked.
    assert_eq!(
        locks_with("INSERT INTO audit (account_id) VALUES (NULL)", &s),
        vec!["audit ROW EXCLUSIVE"]
    );
    assert_eq!(
        locks_with("INSERT INTO audit DEFAULT VALUES", &s),
        vec!["audit ROW EXCLUSIVE"]
    );
    assert_eq!(
        locks_with(
            "INSERT INTO orders (id, account_id) SELECT id, id FROM staging",
            &s
        ),
        vec![
            "orders ROW EXCLUSIVE",
            "staging ACCESS SHARE",
            "*accounts ROW SHARE",
            "*accounts rows FOR KEY SHARE"
        ]
    );
    // The implicit lock carries where it comes from.
    let inf = infer_statement("INSERT INTO notes (id, account_id) VALUES (1, 2)", &s);
    assert_eq!(
        inf.locks[1].implicit,
        Some(Implicit::ForeignKeyCheck {
            from: "notes".into()
        })
    );
}

#[test]
fn upserts_lock_the_conflicting_row() {
    let s = schema();
    assert_eq!(
        locks_with(
            "INSERT INTO accounts (id, balance) VALUES (5, 1) ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + EXCLUDED.balance",
            &s
        ),
        vec![
            "accounts ROW EXCLUSIVE",
            "accounts rows (id = 5) FOR NO KEY UPDATE"
        ]
    );
    assert_eq!(
        locks_with(
            "INSERT INTO accounts (id, email) VALUES (5, 'a') ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email",
            &s
        ),
        vec![
            "accounts ROW EXCLUSIVE",
            "accounts rows (id = 5) FOR UPDATE"
        ],
        "email is a unique key column"
    );
    assert_eq!(
        locks_with(
            "INSERT INTO notes (id, account_id) VALUES (1, 2) ON CONFLICT DO NOTHING",
            &s
        ),
        vec![
            "notes ROW EXCLUSIVE",
            "*accounts ROW SHARE",
            "*accounts rows (id = 2) FOR KEY SHARE"
        ]
    );
}

#[test]
fn updates() {
    let s = schema();
    assert_eq!(
        locks_with("UPDATE accounts SET balance = balance - 1 WHERE id = 1", &s),
        vec![
            "accounts ROW EXCLUSIVE",
            "accounts rows (id = 1) FOR NO KEY UPDATE"
        ]
    );
    assert_eq!(
        locks_with(
            "UPDATE accounts a SET balance = s.total FROM sums s WHERE a.id = s.id",
            &s
        ),
        vec![
            "accounts ROW EXCLUSIVE",
            "sums ACCESS SHARE",
            "accounts rows FOR NO KEY UPDATE"
        ]
    );
    // Unknown table: `id` is a key column.
    assert_eq!(
        locks("UPDATE t SET id = 2 WHERE id = 1"),
        vec!["t ROW EXCLUSIVE", "t rows (id = 1) FOR UPDATE"]
    );
    // Setting a foreign key checks the new parent.
    assert_eq!(
        locks_with("UPDATE notes SET account_id = $2 WHERE id = $1", &s),
        vec![
            "notes ROW EXCLUSIVE",
            "notes rows (id = $1) FOR NO KEY UPDATE",
            "*accounts ROW SHARE",
            "*accounts rows (id = $2) FOR KEY SHARE"
        ]
    );
    // Changing a referenced key: CASCADE updates children, NO ACTION checks them, SET NULL writes them.
    assert_eq!(
        locks_with("UPDATE accounts SET id = 2 WHERE id = 1", &s),
        vec![
            "accounts ROW EXCLUSIVE",
            "accounts rows (id = 1) FOR UPDATE",
            "*accounts ROW SHARE",
            "*audit ROW SHARE",
            "*notes ROW SHARE",
            "*orders ROW SHARE",
            "*profiles ROW EXCLUSIVE",
            "*profiles rows (account_id = 1) FOR UPDATE",
        ]
    );
    // A subquery reading the target adds ACCESS SHARE.
    assert_eq!(
        tables("UPDATE t SET v = (SELECT max(v) FROM t) WHERE id = 1"),
        vec!["t ROW EXCLUSIVE", "t ACCESS SHARE"]
    );
}

#[test]
fn deletes_cascade_through_the_schema() {
    let s = schema();
    assert_eq!(
        locks_with("DELETE FROM accounts WHERE id = $1", &s),
        vec![
            "accounts ROW EXCLUSIVE",
            "accounts rows (id = $1) FOR UPDATE",
            "*audit ROW EXCLUSIVE",
            "*audit rows (account_id IN $1) FOR NO KEY UPDATE",
            "*accounts ROW SHARE", // NO ACTION first looks for another parent row with the key
            "*notes ROW SHARE",
            "*orders ROW EXCLUSIVE",
            "*orders rows (account_id IN $1) FOR UPDATE",
            "*order_items ROW EXCLUSIVE",
            "*order_items rows FOR UPDATE",
            "*profiles ROW EXCLUSIVE",
            "*profiles rows (account_id = $1) FOR UPDATE",
        ]
    );
    let inf = infer_statement("DELETE FROM accounts WHERE id = 1", &s);
    assert_eq!(
        inf.locks[2].implicit,
        Some(Implicit::ForeignKeyAction {
            from: "accounts".into()
        })
    );
    assert_eq!(
        locks("DELETE FROM t USING u WHERE t.id = u.id AND u.flag"),
        vec!["t ROW EXCLUSIVE", "u ACCESS SHARE", "t rows FOR UPDATE"]
    );
    // Self-referencing cascades terminate.
    let (s2, _) = parse_schema(&[(
        "s",
        "CREATE TABLE emp (id int PRIMARY KEY, boss int REFERENCES emp ON DELETE CASCADE)",
    )]);
    assert_eq!(
        locks_with("DELETE FROM emp WHERE id = 1", &s2),
        vec![
            "emp ROW EXCLUSIVE",
            "emp rows (id = 1) FOR UPDATE",
            "*emp rows (boss IN 1) FOR UPDATE"
        ]
    );
}

#[test]
fn data_modifying_ctes() {
    let s = schema();
    assert_eq!(
        locks_with(
            "WITH moved AS (DELETE FROM notes WHERE id = 1 RETURNING *) INSERT INTO audit (account_id) SELECT account_id FROM moved",
            &s
        ),
        vec![
            "notes ROW EXCLUSIVE",
            "audit ROW EXCLUSIVE",
            "notes rows (id = 1) FOR UPDATE",
            "*accounts ROW SHARE",
            "*accounts rows FOR KEY SHARE"
        ]
    );
}

#[test]
fn merge() {
    let s = schema();
    assert_eq!(
        locks_with(
            "MERGE INTO accounts a USING staging s ON a.id = s.id WHEN MATCHED AND s.gone THEN DELETE WHEN MATCHED THEN UPDATE SET balance = s.balance WHEN NOT MATCHED THEN INSERT (id, balance) VALUES (s.id, s.balance)",
            &s
        )[..3],
        [
            "accounts ROW EXCLUSIVE",
            "staging ACCESS SHARE",
            "accounts rows FOR UPDATE"
        ]
    );
}

#[test]
fn truncate_lock_and_advisory() {
    let s = schema();
    assert_eq!(
        locks("TRUNCATE a, b"),
        vec![
            "a ACCESS EXCLUSIVE",
            "a SHARE",
            "b ACCESS EXCLUSIVE",
            "b SHARE"
        ]
    );
    let t = tables("TRUNCATE orders CASCADE");
    assert_eq!(
        t,
        vec!["orders ACCESS EXCLUSIVE", "orders SHARE"],
        "no schema, no cascade"
    );
    let inf = infer_statement("TRUNCATE orders CASCADE", &s);
    assert!(
        inf.table_locks()
            .any(|(r, m)| r.as_str() == "order_items" && m == TableLockMode::AccessExclusive)
    );
    assert_eq!(
        locks("LOCK TABLE a, b IN SHARE ROW EXCLUSIVE MODE NOWAIT"),
        vec!["a SHARE ROW EXCLUSIVE", "b SHARE ROW EXCLUSIVE"]
    );
    assert_eq!(locks("LOCK a"), vec!["a ACCESS EXCLUSIVE"]);
    assert_eq!(
        locks("lock table only a in access share mode"),
        vec!["a ACCESS SHARE"]
    );
    let adv = |sql: &str| -> Vec<(String, AdvisoryMode)> {
        infer_statement(sql, &Schema::default())
            .locks
            .iter()
            .filter_map(|l| match (&l.target, l.mode) {
                (LockTarget::Advisory { key }, LockMode::Advisory(m)) => Some((key.to_string(), m)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        adv("SELECT pg_advisory_xact_lock(42)"),
        vec![("42".into(), AdvisoryMode::Exclusive)]
    );
    assert_eq!(
        adv("SELECT pg_advisory_lock_shared(1, 2)"),
        vec![("1,2".into(), AdvisoryMode::Shared)]
    );
    assert_eq!(
        adv("SELECT pg_try_advisory_xact_lock(hashtext('job'))"),
        vec![("hashtext('job')".into(), AdvisoryMode::Exclusive)]
    );
    assert_eq!(adv("SELECT pg_advisory_unlock(42)"), vec![]);
    assert_eq!(
        adv("SELECT pg_advisory_xact_lock(-7)"),
        vec![("-7".into(), AdvisoryMode::Exclusive)]
    );
}

#[test]
fn ddl() {
    let s = schema();
    let t = |sql: &str| -> Vec<String> {
        let inf = infer_statement(sql, &s);
        assert!(inf.problem.is_none(), "{sql}: {:?}", inf.problem);
        inf.table_locks().map(|(r, m)| format!("{r} {m}")).collect()
    };
    assert_eq!(
        t("CREATE INDEX i ON accounts (email)"),
        vec!["accounts SHARE"]
    );
    assert_eq!(
        t("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON accounts (email)"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts ADD COLUMN x int"),
        vec!["accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts ALTER COLUMN x TYPE bigint"),
        vec!["accounts ACCESS EXCLUSIVE", "accounts SHARE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts ALTER x SET NOT NULL"),
        vec!["accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts DROP COLUMN x"),
        vec!["accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts ADD CONSTRAINT u UNIQUE (email)"),
        vec!["accounts ACCESS EXCLUSIVE", "accounts SHARE"]
    );
    assert_eq!(
        t(
            "ALTER TABLE notes ADD CONSTRAINT fk FOREIGN KEY (account_id) REFERENCES accounts(id) NOT VALID"
        ),
        vec![
            "notes SHARE ROW EXCLUSIVE",
            "notes ACCESS SHARE",
            "accounts ACCESS SHARE",
            "accounts SHARE ROW EXCLUSIVE"
        ]
    );
    assert_eq!(
        t("ALTER TABLE notes ADD FOREIGN KEY (account_id) REFERENCES accounts"),
        vec![
            "notes SHARE ROW EXCLUSIVE",
            "notes ACCESS SHARE",
            "accounts ACCESS SHARE",
            "accounts SHARE ROW EXCLUSIVE",
            "accounts ROW SHARE"
        ]
    );
    assert_eq!(
        t("ALTER TABLE accounts VALIDATE CONSTRAINT c"),
        vec!["accounts SHARE UPDATE EXCLUSIVE", "accounts ACCESS SHARE"]
    );
    assert_eq!(
        t("ALTER TABLE notes VALIDATE CONSTRAINT notes_account_id_fkey"),
        vec![
            "notes SHARE UPDATE EXCLUSIVE",
            "notes ACCESS SHARE",
            "accounts ACCESS SHARE",
            "accounts ROW SHARE"
        ]
    );
    assert_eq!(
        t("ALTER TABLE accounts ALTER COLUMN balance SET STATISTICS 500"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts SET (fillfactor = 70), CLUSTER ON accounts_pkey"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts SET (fillfactor = 70), ADD COLUMN y int"),
        vec!["accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE accounts DISABLE TRIGGER ALL"),
        vec!["accounts SHARE ROW EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE m ATTACH PARTITION m1 FOR VALUES FROM (1) TO (2)"),
        vec!["m SHARE UPDATE EXCLUSIVE", "m1 ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE m DETACH PARTITION m1"),
        vec!["m ACCESS EXCLUSIVE", "m1 ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE m DETACH PARTITION m1 CONCURRENTLY"),
        vec!["m SHARE UPDATE EXCLUSIVE", "m1 SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE IF EXISTS ONLY accounts RENAME TO users"),
        vec!["accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE notes DROP CONSTRAINT notes_account_id_fkey"),
        vec!["notes ACCESS EXCLUSIVE", "accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("DROP TABLE notes"),
        vec!["notes ACCESS EXCLUSIVE", "accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("DROP INDEX accounts_email_key"),
        vec!["accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("DROP INDEX CONCURRENTLY IF EXISTS mystery"),
        vec!["mystery SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("CREATE TRIGGER tr BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION f()"),
        vec!["accounts SHARE ROW EXCLUSIVE"]
    );
    assert_eq!(
        t("REFRESH MATERIALIZED VIEW CONCURRENTLY mv")[0],
        "mv EXCLUSIVE"
    );
    assert_eq!(t("REFRESH MATERIALIZED VIEW mv")[0], "mv ACCESS EXCLUSIVE");
    assert_eq!(
        t("VACUUM accounts"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("VACUUM (VERBOSE, ANALYZE) accounts, notes (id)"),
        vec![
            "accounts SHARE UPDATE EXCLUSIVE",
            "notes SHARE UPDATE EXCLUSIVE"
        ]
    );
    assert_eq!(t("VACUUM FULL accounts")[0], "accounts ACCESS EXCLUSIVE");
    assert_eq!(t("VACUUM (FULL) accounts")[0], "accounts ACCESS EXCLUSIVE");
    assert_eq!(t("VACUUM"), Vec::<String>::new());
    assert_eq!(
        t("ANALYZE accounts"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("CLUSTER accounts USING accounts_pkey"),
        vec!["accounts ACCESS EXCLUSIVE", "accounts SHARE"]
    );
    assert_eq!(t("REINDEX TABLE accounts"), vec!["accounts SHARE"]);
    assert_eq!(
        t("REINDEX TABLE CONCURRENTLY accounts"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(t("REINDEX INDEX accounts_pkey"), vec!["accounts SHARE"]);
    assert_eq!(
        t("CREATE STATISTICS st (dependencies) ON id, email FROM accounts"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("COMMENT ON TABLE accounts IS 'x'"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("COMMENT ON COLUMN public.accounts.email IS 'x'"),
        vec!["accounts SHARE UPDATE EXCLUSIVE"]
    );
    assert_eq!(
        t("CREATE POLICY p ON accounts USING (true)"),
        vec!["accounts ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("CREATE TABLE t2 (id int PRIMARY KEY, a bigint REFERENCES accounts)"),
        vec!["accounts ACCESS SHARE", "accounts SHARE ROW EXCLUSIVE"],
        "the new table's own locks cannot be waited for"
    );
    assert_eq!(
        t("CREATE TABLE t3 AS SELECT * FROM accounts"),
        vec!["accounts ACCESS SHARE"]
    );
    assert_eq!(
        t("CREATE VIEW v AS SELECT * FROM accounts"),
        vec!["accounts ACCESS SHARE"]
    );
    assert_eq!(
        t("EXPLAIN UPDATE accounts SET balance = 1"),
        vec!["accounts ROW EXCLUSIVE"]
    );
    assert!(
        infer_statement("EXPLAIN UPDATE accounts SET balance = 1", &s)
            .locks
            .len()
            == 1
    );
}

#[test]
fn statements_without_table_locks_are_not_problems() {
    for sql in [
        "SET LOCAL lock_timeout = '1s'",
        "SHOW search_path",
        "LISTEN ch",
        "NOTIFY ch, 'x'",
        "DISCARD ALL",
        "RESET ALL",
        "CREATE SCHEMA s",
        "CREATE EXTENSION IF NOT EXISTS pgrowlocks",
        "GRANT SELECT ON accounts TO bob",
        "CREATE SEQUENCE sq",
        "DEALLOCATE ALL",
        "COMMIT PREPARED 'x'",
        "-- just a comment",
    ] {
        let inf = infer_statement(sql, &Schema::default());
        assert_eq!((inf.locks.len(), &inf.problem), (0, &None), "{sql}");
    }
}

#[test]
fn unmodelled_and_unparseable_statements() {
    let inf = infer_statement("CALL transfer(1, 2)", &Schema::default());
    assert_eq!(
        inf.problem.as_ref().map(|p| p.0),
        Some(DiagnosticKind::UnmodelledStatement)
    );
    let inf = infer_statement("DO $$ BEGIN PERFORM 1; END $$", &Schema::default());
    assert_eq!(
        inf.problem.as_ref().map(|p| p.0),
        Some(DiagnosticKind::UnmodelledStatement)
    );
    // The fallback still finds the tables.
    let inf = infer_statement(
        "UPDATE accounts SET x = 1 WHERE id = 1 RETURNING * FOO BAR",
        &Schema::default(),
    );
    assert_eq!(
        inf.problem.as_ref().map(|p| p.0),
        Some(DiagnosticKind::UnparseableStatement)
    );
    assert_eq!(
        render(&inf),
        vec!["accounts ROW EXCLUSIVE", "accounts rows FOR NO KEY UPDATE"]
    );
    let inf = infer_statement(
        "WITH c AS (SELECT 1) SELECT * FROM c, things t JOIN other ON true WHERE a = = 1 FOR KEY SHARE OF t",
        &Schema::default(),
    );
    assert!(inf.problem.is_some());
    assert_eq!(
        render(&inf),
        vec![
            "things ROW SHARE",
            "other ACCESS SHARE",
            "things rows FOR KEY SHARE"
        ]
    );
    // Messages never show literals.
    let inf = infer_statement("SELECT 'secret' 'more' FROM", &Schema::default());
    let msg = inf.problem.unwrap().1;
    assert!(!msg.contains("secret") && !msg.contains("@@"), "{msg}");
}

#[test]
fn never_overflows_or_hangs() {
    let deep = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(infer_statement(&deep, &Schema::default()).problem.is_some());
    let chain = format!(
        "SELECT * FROM t WHERE {}",
        vec!["a = 1"; 20_000].join(" OR ")
    );
    let inf = infer_statement(&chain, &Schema::default());
    assert_eq!(inf.table_locks().count(), 1);
    let chain = format!(
        "SELECT * FROM t WHERE {}",
        vec!["a = 1"; 4_000].join(" AND ")
    );
    assert!(
        infer_statement(&chain, &Schema::default())
            .problem
            .is_none()
    );
    let nested_subqueries = format!(
        "SELECT * FROM {}t{}",
        "(SELECT * FROM ".repeat(5_000),
        ") x".repeat(5_000)
    );
    assert!(
        infer_statement(&nested_subqueries, &Schema::default())
            .problem
            .is_some()
    );
    // Long operator chains are never printed recursively.
    let arg = vec!["1"; 9_000].join(" + ");
    let inf = infer_statement(
        &format!("SELECT pg_advisory_xact_lock({arg})"),
        &Schema::default(),
    );
    assert_eq!(inf.locks[0].target.to_string(), "advisory lock …");
    let inf = infer_statement(&format!("CALL p({arg})"), &Schema::default());
    assert!(inf.problem.unwrap().1.contains("`CALL`"));
    for junk in [
        "",
        ";",
        "'",
        "\"",
        "$$",
        "/*",
        "((((",
        "SELECT FOR UPDATE OF",
        "ALTER TABLE",
        "LOCK",
        "FOR KEY SHARE OF ,",
    ] {
        let _ = infer_statement(junk, &Schema::default());
    }
}

#[test]
fn table_rewrites_and_new_foreign_keys() {
    let (s, _) = parse_schema(&[(
        "s.sql",
        "CREATE TABLE p (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, n numeric(10,2), name varchar(20), body text, p_id int);",
    )]);
    let t = |sql: &str| -> Vec<String> {
        let inf = infer_statement(sql, &s);
        assert!(inf.problem.is_none(), "{sql}: {:?}", inf.problem);
        inf.table_locks().map(|(r, m)| format!("{r} {m}")).collect()
    };
    // A widening type change keeps the table; others rewrite it (SHARE for the index rebuild).
    assert_eq!(
        t("ALTER TABLE t ALTER COLUMN n TYPE numeric(14,2)"),
        vec!["t ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE t ALTER name TYPE varchar(200)"),
        vec!["t ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE t ALTER COLUMN name SET DATA TYPE text"),
        vec!["t ACCESS EXCLUSIVE"]
    );
    assert_eq!(
        t("ALTER TABLE t ALTER COLUMN body TYPE varchar(10)"),
        vec!["t ACCESS EXCLUSIVE", "t SHARE"]
    );
    assert_eq!(
        t("ALTER TABLE t ALTER COLUMN n TYPE bigint USING n::bigint"),
        vec!["t ACCESS EXCLUSIVE", "t SHARE"]
    );
    assert_eq!(
        t("ALTER TABLE unknown ALTER COLUMN x TYPE int"),
        vec!["unknown ACCESS EXCLUSIVE", "unknown SHARE"]
    );
    // Volatile defaults rewrite; constant and STABLE ones do not.
    assert_eq!(
        t("ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid()"),
        vec!["t ACCESS EXCLUSIVE", "t SHARE"]
    );
    assert_eq!(
        t("ALTER TABLE t ADD COLUMN s bigserial"),
        vec!["t ACCESS EXCLUSIVE", "t SHARE"]
    );
    assert_eq!(
        t("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()"),
        vec!["t ACCESS EXCLUSIVE"]
    );
    // ADD COLUMN … REFERENCES adds a foreign key (no existing rows to check).
    assert_eq!(
        t("ALTER TABLE t ADD COLUMN q int REFERENCES p(id)"),
        vec![
            "t ACCESS EXCLUSIVE",
            "t SHARE ROW EXCLUSIVE",
            "t ACCESS SHARE",
            "p ACCESS SHARE",
            "p SHARE ROW EXCLUSIVE"
        ]
    );
    // LIKE … INCLUDING, which sqlparser rejects, is read from tokens.
    assert_eq!(
        t("CREATE TABLE t2 (LIKE t INCLUDING ALL)"),
        vec!["t ACCESS SHARE"]
    );
    assert_eq!(
        t("CREATE TEMP TABLE t3 (LIKE t INCLUDING DEFAULTS)"),
        vec!["t ACCESS SHARE"]
    );
}

#[test]
fn unterminated_input_is_a_problem() {
    for sql in [
        "SELECT 'abc",
        "SELECT 1 /* open",
        "SELECT $$body",
        "SELECT \"col",
    ] {
        let inf = infer_statement(sql, &Schema::default());
        assert_eq!(
            inf.problem.map(|p| p.0),
            Some(DiagnosticKind::UnparseableStatement),
            "{sql}"
        );
    }
}

#[test]
fn cache_matches_direct_inference() {
    let s = schema();
    let mut cache = InferenceCache::with_capacity(2);
    let statements = [
        "DELETE FROM accounts WHERE id = 5",
        "delete from ACCOUNTS where ID = 6",
        "SELECT pg_advisory_xact_lock(7)",
        "SELECT pg_advisory_xact_lock(8)",
        "INSERT INTO orders VALUES (1, 'x'::text::int, 0)",
        "UPDATE accounts SET email = E'a\\'b' WHERE id = -3",
        "SELECT 'x' FROM",
    ];
    for _ in 0..2 {
        for sql in statements {
            assert_eq!(cache.infer(sql, &s), infer_statement(sql, &s), "{sql}");
        }
    }
    assert!(cache.len() <= 2);
    assert!(cache.hits() > 0);
}
