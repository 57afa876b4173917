//! Redaction: SQL, application code and a server log full of distinctive literals (strings,
//! numbers, e-mail addresses) go through `check` and `logs` in every output format; none of the
//! literals may appear in what lockgraph prints unless `--show-literals` is given (and then they
//! do, so the test can see them when they are there).
//!
//! That includes `check`'s text snippets, which quote the analysed files' own lines: their
//! literals are hidden too (in SQL and in the application code around it).

use assert_cmd::Command;
use std::path::Path;

const FORMATS: [&str; 9] = [
    "text", "json", "dot", "mermaid", "sarif", "github", "gitlab", "junit", "html",
];

/// Literals written into the inputs below; none may be printed.
const SECRETS: [&str; 6] = [
    "ann.secret@example.org",
    "4111111111111111",
    "Hunter2Passw0rd",
    "9876543",
    "8675309",
    "078-05-1120",
];

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// An inversion between two SQL files and a Python service, every statement with literals.
fn sources(dir: &Path) {
    write(
        dir,
        "db/0001.sql",
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, card text, balance int);\n\
         CREATE TABLE ledger (id bigint PRIMARY KEY, account_id bigint, note text);\n",
    );
    write(
        dir,
        "app/a.sql",
        "BEGIN;\n\
         UPDATE accounts SET email = 'ann.secret@example.org' WHERE id = 9876543;\n\
         UPDATE ledger SET note = 'card 4111111111111111' WHERE id = 8675309;\n\
         COMMIT;\n",
    );
    write(
        dir,
        "app/b.sql",
        "BEGIN;\n\
         UPDATE ledger SET note = 'Hunter2Passw0rd' WHERE id = 8675309;\n\
         UPDATE accounts SET card = '078-05-1120' WHERE id = 9876543;\n\
         COMMIT;\n",
    );
    write(
        dir,
        "svc/jobs.py",
        "def settle(conn):\n\
         \x20   with conn:\n\
         \x20       cur = conn.cursor()\n\
         \x20       cur.execute(\"UPDATE ledger SET note = 'Hunter2Passw0rd' WHERE id = 8675309\")\n\
         \x20       cur.execute(\"UPDATE accounts SET email = 'ann.secret@example.org' WHERE id = 9876543\")\n",
    );
}

/// A log with statements, a lock wait and a deadlock report, all with the same literals.
fn log(dir: &Path) -> std::path::PathBuf {
    let p = |ms: u32, pid: u32, msg: &str| {
        format!("2024-05-01 10:00:00.{ms:03} UTC [{pid}] app@shop {msg}\n")
    };
    let a = "UPDATE accounts SET email = 'ann.secret@example.org' WHERE id = 9876543";
    let b = "UPDATE ledger SET note = 'card 4111111111111111' WHERE id = 8675309";
    let mut t = String::new();
    t += &p(1, 11, "LOG:  statement: BEGIN");
    t += &p(2, 11, &format!("LOG:  statement: {a}"));
    t += &p(3, 12, "LOG:  statement: BEGIN");
    t += &p(4, 12, &format!("LOG:  statement: {b}"));
    t += &p(5, 11, &format!("LOG:  statement: {b}"));
    t += &p(
        6,
        11,
        "LOG:  process 11 still waiting for ShareLock on transaction 900 after 1000.000 ms",
    );
    t += "\tDETAIL:  Process holding the lock: 12. Wait queue: 11.\n";
    t += &p(7, 11, &format!("STATEMENT:  {b}"));
    t += &p(8, 12, &format!("LOG:  statement: {a}"));
    t += &p(9, 12, "ERROR:  deadlock detected");
    t += "\tDETAIL:  Process 12 waits for ShareLock on transaction 899; blocked by process 11.\n";
    t += "\tProcess 11 waits for ShareLock on transaction 900; blocked by process 12.\n";
    t += &format!("\tProcess 12: {a}\n\tProcess 11: {b}\n");
    t += "\tHINT:  See server log for query details.\n";
    t += &p(10, 12, &format!("STATEMENT:  {a}"));
    t += &p(11, 12, "LOG:  statement: ROLLBACK");
    t += &p(12, 11, "LOG:  statement: COMMIT");
    let path = dir.join("pg.log");
    std::fs::write(&path, t).unwrap();
    path
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("lockgraph")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), all)
}

fn leaks(output: &str) -> Vec<&'static str> {
    SECRETS
        .iter()
        .copied()
        .filter(|s| output.contains(s))
        .collect()
}

#[test]
fn no_literal_in_any_format_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    sources(dir.path());
    let log = log(dir.path());
    let log = log.to_str().unwrap();
    let mut problems = Vec::new();
    for format in FORMATS {
        for (what, args) in [
            (
                "check",
                vec!["check", "db", "app", "svc", "--format", format],
            ),
            ("logs", vec!["logs", log, "--format", format]),
        ] {
            let (code, out) = run(dir.path(), &args);
            assert!(
                matches!(code, 0 | 1),
                "{what} --format {format}: exit {code}\n{out}"
            );
            let found = leaks(&out);
            if !found.is_empty() {
                problems.push(format!("{what} --format {format} prints {found:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // With --show-literals they are there: the test would see a leak.
    let (_, out) = run(
        dir.path(),
        &["check", "db", "app", "svc", "--show-literals"],
    );
    assert!(!leaks(&out).is_empty(), "{out}");
    let (_, out) = run(dir.path(), &["logs", log, "--show-literals"]);
    assert!(!leaks(&out).is_empty(), "{out}");
}

/// A password in a connection string appears in no output or error of `live`, `logs --url` or
/// `trace`, whatever goes wrong.
#[test]
fn no_password_in_any_output_or_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = log(dir.path());
    let log = log.to_str().unwrap();
    std::fs::write(dir.path().join("t.sql"), "SELECT 1;\n").unwrap();
    let password = "S3cr3tPassw0rdXYZ";
    // Nothing listens on port 1; a real server with a wrong password is covered by the
    // connection tests of lockgraph_pg.
    let url = format!("postgres://app:{password}@127.0.0.1:1/shop");
    let kv = format!("host=127.0.0.1 port=1 user=app password={password} dbname=shop");
    for conn in [&url, &kv] {
        for args in [
            vec!["live", "--url", conn.as_str()],
            vec!["logs", log, "--url", conn.as_str()],
            vec!["trace", "t.sql", "--url", conn.as_str()],
        ] {
            let (code, out) = run(dir.path(), &args);
            assert_ne!(code, 0, "{args:?} should fail: {out}");
            assert!(
                !out.contains(password),
                "{args:?} printed the password: {out}"
            );
        }
    }
}
