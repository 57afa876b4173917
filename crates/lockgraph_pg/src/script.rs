//! Reproduction scripts: a [`Repro`] as a SQL file a person can run by hand in psql sessions,
//! and read back so `lockgraph repro FILE` can run it later.
//!
//! The format is plain SQL; everything lockgraph needs is in `--` marker comments, which psql
//! ignores (the markers are `lockgraph_core::script`'s, shared with MySQL's scripts; the header
//! says `-- engine: postgres`):
//!
//! ```sql
//! -- (header comments: how to run it)
//! -- sessions: 2
//!
//! -- [setup]
//! CREATE TABLE accounts (id int PRIMARY KEY, balance int);
//!
//! -- [steps]
//! -- [session 1]
//! BEGIN;
//! -- [session 1] from transfer.sql:14
//! -- (blocks)
//! UPDATE ledger SET amount = amount + 1 WHERE id = 1;
//! ```
//!
//! - `-- [setup]` then statements run once, before the steps (autocommit).
//! - `-- [steps]` then statements, each in the session named by the nearest `-- [session N]`
//!   marker above it (a marker holds until the next one). `from PATH:LINE` after the marker
//!   records where the statement came from (for that statement only).
//! - `-- (blocks)` says the next statement is expected to wait for a lock.
//! - `-- sessions: N` gives the number of sessions (else the highest session number used).
//!
//! Statements end at `;` outside quotes, dollar quotes and comments, as in psql; a step is one
//! statement. Other comments are ignored, and so is a comment line starting with `[` only if it is
//! one of the markers above — any other `-- [...]` is an error, to catch typos.

use crate::Error;
use crate::split::split;
use lockgraph_core::{Engine, Repro};
use std::fmt::Write as _;

/// Writes `repro` as a psql-readable script: header comments on how to run it by hand, the
/// setup, then each step under a `-- [session N]` marker, with `-- (blocks)` before the steps
/// expected to wait. [`parse_script`] reads it back.
pub fn format_script(repro: &Repro) -> String {
    let n = repro.sessions;
    let mut out = String::new();
    let _ = write!(
        out,
        "\
-- lockgraph reproduction script
-- engine: postgres
--
-- Makes the predicted lock conflict happen on a real PostgreSQL server, using {n} sessions.
--
-- Run it with lockgraph, which works in a scratch schema and drops it afterwards:
--     lockgraph repro THIS_FILE --url postgres://USER@HOST/DATABASE
--
-- Or by hand, in a scratch database (never in production):
--   1. Run the statements under [setup] once, in any session.
--   2. Open {n} psql sessions on that database, one terminal each.
--   3. Run the statements under [steps] in order, each in the session that its
--      marker names ([session N]). A statement marked (blocks) waits for a lock:
--      leave it waiting and go on with the next statement in another session.
--      (Do not run the whole file with psql -f: that is one session, and one
--      session never waits for itself.)
--   4. When the steps close a cycle, PostgreSQL detects the deadlock after
--      deadlock_timeout (1s by default) and aborts one session with
--      ERROR: deadlock detected (SQLSTATE 40P01).
--   5. Afterwards, ROLLBACK in every session and drop what the setup created.
--
"
    );
    lockgraph_core::write_sections(&mut out, repro, push_statement);
    out
}

/// Appends a statement with one `;` (on a line of its own when the last line has a comment).
fn push_statement(out: &mut String, sql: &str) {
    let body = sql.trim().trim_end_matches(';').trim_end();
    out.push_str(body);
    if body.lines().last().is_some_and(|l| l.contains("--")) {
        out.push('\n');
    }
    out.push_str(";\n");
}

/// Reads a script written by [`format_script`] (or by hand in the same format) back into a
/// [`Repro`]. Errors carry the 1-based line; a script whose `-- engine:` names another engine is
/// an error.
pub fn parse_script(text: &str) -> Result<Repro, Error> {
    let pieces = split(text).map_err(|e| Error::Script {
        line: e.line,
        message: e.message,
    })?;
    lockgraph_core::read_script(&pieces, text.lines().count(), Engine::Postgres).map_err(|e| {
        Error::Script {
            line: e.line,
            message: e.message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockgraph_core::{Location, ReproStep};

    fn step(session: usize, sql: &str, expect_block: bool) -> ReproStep {
        ReproStep {
            session,
            sql: sql.to_string(),
            origin: None,
            expect_block,
        }
    }

    fn sample() -> Repro {
        Repro {
            setup: vec![
                "CREATE TABLE accounts (id int PRIMARY KEY, note text DEFAULT 'a;b -- not a comment')"
                    .to_string(),
                "CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.id := NEW.id + 1;\n  RETURN NEW;\nEND\n$$"
                    .to_string(),
                "INSERT INTO accounts (id) VALUES (1), (2)".to_string(),
            ],
            steps: vec![
                step(1, "BEGIN", false),
                step(2, "BEGIN", false),
                ReproStep {
                    origin: Some(Location::new("src/transfer.sql", 14)),
                    ..step(1, "UPDATE accounts SET id = id WHERE id = 1", false)
                },
                ReproStep {
                    origin: Some(Location::new("C:/app/x.sql", 3)),
                    ..step(2, "UPDATE accounts\n   SET id = id\n WHERE id = 1 -- same row", true)
                },
                step(1, "COMMIT", false),
                step(2, "COMMIT", false),
            ],
            sessions: 2,
            ..Repro::default()
        }
    }

    #[test]
    fn round_trip() {
        let repro = sample();
        let text = format_script(&repro);
        assert_eq!(parse_script(&text).unwrap(), repro, "{text}");
        // Idempotent.
        assert_eq!(format_script(&parse_script(&text).unwrap()), text);
    }

    #[test]
    fn format_is_readable() {
        let text = format_script(&sample());
        assert!(
            text.starts_with("-- lockgraph reproduction script\n"),
            "{text}"
        );
        assert!(text.contains("-- sessions: 2\n"));
        assert!(text.contains(
            "-- [session 1] from src/transfer.sql:14\nUPDATE accounts SET id = id WHERE id = 1;\n"
        ));
        assert!(text.contains(
            "-- [session 2] from C:/app/x.sql:3\n-- (blocks)\nUPDATE accounts\n   SET id = id\n WHERE id = 1 -- same row\n;\n"
        ));
        // Every line is a comment or SQL psql accepts: no marker is outside a comment.
        assert!(text.lines().all(|l| !l.starts_with('[')));
    }

    #[test]
    fn hand_written_script_with_sticky_markers() {
        let text = "\
-- my notes
-- [setup]
CREATE TABLE t (id int); INSERT INTO t VALUES (1);

-- [steps]
-- [session 1]
BEGIN; SELECT * FROM t WHERE id = 1 FOR SHARE;
-- [session 2]
BEGIN;
SELECT * FROM t WHERE id = 1 FOR SHARE;
-- [session 1]
-- (blocks)
UPDATE t SET id = 1 WHERE id = 1;
-- [session 2]
UPDATE t SET id = 1 WHERE id = 1;
";
        let repro = parse_script(text).unwrap();
        assert_eq!(repro.setup.len(), 2);
        assert_eq!(repro.sessions, 2);
        let shape: Vec<(usize, bool)> = repro
            .steps
            .iter()
            .map(|s| (s.session, s.expect_block))
            .collect();
        assert_eq!(
            shape,
            [
                (1, false),
                (1, false),
                (2, false),
                (2, false),
                (1, true),
                (2, false)
            ]
        );
    }

    #[test]
    fn errors_have_lines() {
        let cases = [
            ("SELECT 1;", 1, "outside a section"),
            ("-- [steps]\nSELECT 1;", 2, "without a `-- [session N]`"),
            ("-- [steps]\n-- [sesion 1]\nSELECT 1;", 2, "unknown marker"),
            (
                "-- [steps]\n-- [session x]\nSELECT 1;",
                2,
                "invalid session number",
            ),
            (
                "-- [steps]\n-- [session 1] at a.sql\nSELECT 1;",
                2,
                "from PATH:LINE",
            ),
            (
                "-- [steps]\n-- [session 1]\nSELECT 'oops;\n",
                3,
                "unterminated string",
            ),
            (
                "-- [steps]\n-- [session 1]\nSELECT 1;\n-- (blocks)\n",
                4,
                "not followed",
            ),
            (
                "-- sessions: 1\n-- [steps]\n-- [session 2]\nSELECT 1;",
                1,
                "uses session 2",
            ),
            ("-- [setup]\nSELECT 1;\n", 2, "no steps"),
        ];
        for (text, line, what) in cases {
            match parse_script(text) {
                Err(Error::Script { line: l, message }) => {
                    assert_eq!(l, line, "{text}: {message}");
                    assert!(message.contains(what), "{text}: {message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
