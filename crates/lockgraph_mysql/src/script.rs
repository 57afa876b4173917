//! Reproduction scripts for MySQL/MariaDB: a [`Repro`] as a SQL file a person can run by hand in
//! `mysql` client sessions, and read back so `lockgraph repro FILE --url mysql://…` can run it.
//!
//! The markers are those of `lockgraph_pg`'s scripts (`-- [setup]`, `-- [steps]`,
//! `-- [session N] from PATH:LINE`, `-- (blocks)`, `-- sessions: N`), plus `-- engine: mysql`
//! in the header, which tells `lockgraph repro` which runner the script needs. What differs is
//! the text between them: statements end at `;` outside MySQL's quotes — `'…'` and `"…"` with
//! backslash escapes, `` `…` `` — and comments (`-- `, `#`, `/* */`). `DELIMITER` is not
//! supported (reproductions have no stored programs).

use crate::Error;
use lockgraph_core::{Engine, Repro, ScriptPiece as Piece};
use std::fmt::Write as _;

/// Writes `repro` as a script for the `mysql` client: header comments on how to run it by hand,
/// `-- engine: mysql`, the setup, then each step under a `-- [session N]` marker, with
/// `-- (blocks)` before the steps expected to wait. [`parse_script`] reads it back.
pub fn format_script(repro: &Repro) -> String {
    let n = repro.sessions;
    let mut out = String::new();
    let _ = write!(
        out,
        "\
-- lockgraph reproduction script
-- engine: mysql
--
-- Makes the predicted lock conflict happen on a real MySQL or MariaDB server
-- (InnoDB tables), using {n} sessions.
--
-- Run it with lockgraph, which works in a scratch database and drops it afterwards:
--     lockgraph repro THIS_FILE --url mysql://USER@HOST:3306/DATABASE
--
-- Or by hand, in a scratch database (never in production):
--   1. Run the statements under [setup] once, in any session.
--   2. Open {n} mysql client sessions on that database, one terminal each.
--   3. Run the statements under [steps] in order, each in the session that its
--      marker names ([session N]). A statement marked (blocks) waits for a lock:
--      leave it waiting and go on with the next statement in another session.
--      (Do not run the whole file with mysql < FILE: that is one session, and one
--      session never waits for itself.)
--   4. When the steps close a cycle, InnoDB detects the deadlock at once and rolls
--      back one session's transaction with
--      ERROR 1213 (40001): Deadlock found when trying to get lock
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
    if body
        .lines()
        .last()
        .is_some_and(|l| l.contains("--") || l.contains('#'))
    {
        out.push('\n');
    }
    out.push_str(";\n");
}

/// Splits `text` into statements and stand-alone comments with MySQL's lexical rules.
fn split(text: &str) -> Result<Vec<Piece<'_>>, Error> {
    let b = text.as_bytes();
    let mut pieces = Vec::new();
    let mut line = 1;
    let mut start: Option<(usize, usize)> = None;
    let mut i = 0;
    let unterminated = |line: usize, what: &str| Error::Script {
        line,
        message: format!("unterminated {what}"),
    };
    while i < b.len() {
        let c = b[i];
        let dash_comment = c == b'-'
            && b.get(i + 1) == Some(&b'-')
            && b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace());
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if dash_comment || c == b'#' {
            let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
            if start.is_none() {
                let skip = if c == b'#' { 1 } else { 2 };
                pieces.push(Piece::Comment {
                    line,
                    text: text[i + skip..end].trim_end_matches('\r'),
                });
            }
            i = end;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let open = line;
            let end = text[i + 2..]
                .find("*/")
                .map(|n| i + 2 + n + 2)
                .ok_or_else(|| unterminated(open, "/* comment"))?;
            line += text[i..end].matches('\n').count();
            i = end;
        } else if c == b';' {
            if let Some((s, l)) = start.take() {
                pieces.push(Piece::Statement {
                    line: l,
                    text: text[s..i].trim(),
                });
            }
            i += 1;
        } else {
            if start.is_none() {
                start = Some((i, line));
            }
            if matches!(c, b'\'' | b'"' | b'`') {
                let open = line;
                i += 1;
                loop {
                    match b.get(i) {
                        None => {
                            let what = match c {
                                b'`' => "quoted identifier",
                                _ => "string",
                            };
                            return Err(unterminated(open, what));
                        }
                        Some(b'\\') if c != b'`' => {
                            if b.get(i + 1) == Some(&b'\n') {
                                line += 1;
                            }
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            if b.get(i) == Some(&c) {
                                i += 1;
                            } else {
                                break;
                            }
                        }
                        Some(b'\n') => {
                            line += 1;
                            i += 1;
                        }
                        Some(_) => i += 1,
                    }
                }
            } else {
                i += 1;
            }
        }
    }
    if let Some((s, l)) = start
        && !text[s..].trim().is_empty()
    {
        pieces.push(Piece::Statement {
            line: l,
            text: text[s..].trim(),
        });
    }
    Ok(pieces)
}

/// Reads a script written by [`format_script`] (or by hand in the same format) back into a
/// [`Repro`] for MySQL. Errors carry the 1-based line; a script whose `-- engine:` names
/// another engine is an error.
pub fn parse_script(text: &str) -> Result<Repro, Error> {
    let pieces = split(text)?;
    lockgraph_core::read_script(&pieces, text.lines().count(), Engine::Mysql).map_err(|e| {
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
                "CREATE TABLE `accounts` (id INT PRIMARY KEY, note VARCHAR(20) DEFAULT 'a;b -- no', \
                 `we;ird` INT) ENGINE=InnoDB"
                    .to_string(),
                "INSERT IGNORE INTO `accounts` (`id`, `note`) VALUES ('1', 'it\\'s; \"fine\"')"
                    .to_string(),
            ],
            steps: vec![
                step(1, "START TRANSACTION", false),
                step(2, "START TRANSACTION", false),
                ReproStep {
                    origin: Some(Location::new("app/pay.py", 14)),
                    ..step(1, "UPDATE accounts SET note = \"x;y\" WHERE id = '1'", false)
                },
                ReproStep {
                    origin: Some(Location::new("app/pay.py", 20)),
                    ..step(2, "UPDATE accounts\n   SET id = id\n WHERE id = '1' # same row", true)
                },
                step(1, "COMMIT", false),
                step(2, "COMMIT", false),
            ],
            sessions: 2,
            engine: Engine::Mysql,
        }
    }

    #[test]
    fn round_trip() {
        let repro = sample();
        let text = format_script(&repro);
        assert_eq!(parse_script(&text).unwrap(), repro, "{text}");
        assert_eq!(format_script(&parse_script(&text).unwrap()), text);
    }

    #[test]
    fn format_names_the_engine_and_the_client() {
        let text = format_script(&sample());
        assert!(
            text.starts_with("-- lockgraph reproduction script\n-- engine: mysql\n"),
            "{text}"
        );
        assert!(text.contains("ERROR 1213 (40001)"));
        assert!(text.contains("--url mysql://"));
        assert!(!text.contains("psql") && !text.contains("40P01"));
        assert!(text.contains("-- [session 2] from app/pay.py:20\n-- (blocks)\n"));
        assert!(text.contains("WHERE id = '1' # same row\n;\n"));
    }

    #[test]
    fn mysql_lexical_rules_decide_where_statements_end() {
        let text = "-- [steps]\n-- [session 1]\n\
                    SELECT 'a\\';b', \"c;d\", `e;f` FROM t; # tail; comment\n\
                    /* x; y */ SELECT 1;\n\
                    SELECT 1--1;\n";
        let r = parse_script(text).unwrap();
        let sql: Vec<&str> = r.steps.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "SELECT 'a\\';b', \"c;d\", `e;f` FROM t",
                "SELECT 1",
                "SELECT 1--1"
            ]
        );
    }

    #[test]
    fn errors_have_lines() {
        let cases = [
            ("SELECT 1;", 1, "outside a section"),
            (
                "-- engine: postgres\n-- [steps]\n-- [session 1]\nSELECT 1;",
                1,
                "written for PostgreSQL",
            ),
            ("-- engine: oracle\n", 1, "unknown engine"),
            ("-- [steps]\nSELECT 1;", 2, "without a `-- [session N]`"),
            ("-- [steps]\n-- [sesion 1]\nSELECT 1;", 2, "unknown marker"),
            (
                "-- [steps]\n-- [session 1]\nSELECT 'oops;\n",
                3,
                "unterminated string",
            ),
            (
                "-- [steps]\n-- [session 1]\nSELECT `x;\n",
                3,
                "unterminated quoted identifier",
            ),
            (
                "-- [steps]\n-- [session 1]\n/* open\n",
                3,
                "unterminated /* comment",
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
