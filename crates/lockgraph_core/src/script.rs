//! The reproduction script format shared by every engine: a [`Repro`] as SQL text with `--`
//! marker comments, which SQL clients ignore.
//!
//! ```sql
//! -- (header comments: how to run it)
//! -- engine: mysql
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
//! - `-- engine: NAME` (header) names the engine the script is written for; without it,
//!   PostgreSQL (scripts written before engines existed).
//! - `-- [setup]` then statements run once, before the steps (autocommit).
//! - `-- [steps]` then statements, each in the session named by the nearest `-- [session N]`
//!   marker above it (a marker holds until the next one). `from PATH:LINE` after the marker
//!   records where the statement came from (for that statement only).
//! - `-- (blocks)` says the next statement is expected to wait for a lock.
//! - `-- sessions: N` gives the number of sessions (else the highest session number used).
//!
//! Other comments are ignored; a comment starting with `[` that is not one of the markers is an
//! error, to catch typos. Where statements end is the engine's business (its quoting and comment
//! rules): each runner crate splits the text into [`ScriptPiece`]s, and [`read_script`] and
//! [`write_sections`] do the rest.

use crate::{Engine, Location, Repro, ReproStep};
use std::fmt::Write as _;

/// A piece of script text, as an engine's splitter cuts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptPiece<'a> {
    /// A comment outside any statement: the text after the comment marker, and its 1-based line.
    Comment {
        /// 1-based line.
        line: usize,
        /// The comment's text.
        text: &'a str,
    },
    /// A statement without its `;`, trimmed, and the 1-based line where it starts.
    Statement {
        /// 1-based line.
        line: usize,
        /// The statement.
        text: &'a str,
    },
}

/// A script that does not read: where (1-based line) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Header,
    Setup,
    Steps,
}

/// The engine a script's header names (`-- engine: mysql`), PostgreSQL when it names none.
/// Only the comments before `-- [setup]`/`-- [steps]` count.
pub fn script_engine(text: &str) -> Result<Engine, ScriptError> {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        let Some(comment) = t.strip_prefix("--") else {
            if t.is_empty() {
                continue;
            }
            break;
        };
        let c = comment.trim();
        if c == "[setup]" || c == "[steps]" {
            break;
        }
        if let Some(name) = c.strip_prefix("engine:") {
            return Engine::parse(name).ok_or_else(|| ScriptError {
                line: i + 1,
                message: format!("unknown engine `{}`", name.trim()),
            });
        }
    }
    Ok(Engine::Postgres)
}

/// Reads the pieces of a script for `engine` back into a [`Repro`]. `lines` is the script's
/// number of lines (where "no steps" is reported). A header naming another engine is an error.
pub fn read_script(
    pieces: &[ScriptPiece<'_>],
    lines: usize,
    engine: Engine,
) -> Result<Repro, ScriptError> {
    let err = |line: usize, message: String| ScriptError { line, message };
    let mut repro = Repro {
        engine,
        ..Repro::default()
    };
    let mut section = Section::Header;
    let mut declared: Option<(usize, usize)> = None;
    let mut session: Option<usize> = None;
    let mut origin: Option<Location> = None;
    let mut blocks_at: Option<usize> = None;
    for piece in pieces {
        match *piece {
            ScriptPiece::Comment { line, text } => {
                let t = text.trim();
                if t == "[setup]" {
                    if section != Section::Header {
                        return Err(err(
                            line,
                            "`-- [setup]` must come once, before `-- [steps]`".into(),
                        ));
                    }
                    section = Section::Setup;
                } else if t == "[steps]" {
                    if section == Section::Steps {
                        return Err(err(line, "second `-- [steps]` marker".into()));
                    }
                    section = Section::Steps;
                } else if let Some(rest) = t.strip_prefix("[session") {
                    if section != Section::Steps {
                        return Err(err(
                            line,
                            "`-- [session N]` marker before `-- [steps]`".into(),
                        ));
                    }
                    let (n, from) = parse_session_marker(rest).map_err(|m| err(line, m))?;
                    session = Some(n);
                    origin = from;
                } else if t == "(blocks)" {
                    if section != Section::Steps {
                        return Err(err(line, "`-- (blocks)` before `-- [steps]`".into()));
                    }
                    blocks_at = Some(line);
                } else if let Some(rest) = t.strip_prefix("sessions:") {
                    let n = rest
                        .trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            err(line, format!("invalid session count `{}`", rest.trim()))
                        })?;
                    declared = Some((n, line));
                } else if let Some(rest) = t.strip_prefix("engine:")
                    && section == Section::Header
                {
                    match Engine::parse(rest) {
                        Some(e) if e == engine => {}
                        Some(other) => {
                            return Err(err(
                                line,
                                format!("the script is written for {other}, not {engine}"),
                            ));
                        }
                        None => {
                            return Err(err(line, format!("unknown engine `{}`", rest.trim())));
                        }
                    }
                } else if t.starts_with('[') {
                    return Err(err(
                        line,
                        format!(
                            "unknown marker `-- {t}` (expected [setup], [steps] or [session N])"
                        ),
                    ));
                }
            }
            ScriptPiece::Statement { line, text } => match section {
                Section::Header => {
                    return Err(err(
                        line,
                        "statement outside a section (put `-- [setup]` or `-- [steps]` above it)"
                            .into(),
                    ));
                }
                Section::Setup => repro.setup.push(text.to_string()),
                Section::Steps => {
                    let Some(s) = session else {
                        return Err(err(
                            line,
                            "step without a `-- [session N]` marker above it".into(),
                        ));
                    };
                    repro.steps.push(ReproStep {
                        session: s,
                        sql: text.to_string(),
                        origin: origin.take(),
                        expect_block: blocks_at.take().is_some(),
                    });
                }
            },
        }
    }
    if let Some(line) = blocks_at {
        return Err(err(
            line,
            "`-- (blocks)` is not followed by a statement".into(),
        ));
    }
    if repro.steps.is_empty() {
        return Err(err(
            lines.max(1),
            "no steps (expected statements under `-- [steps]`)".into(),
        ));
    }
    let used = repro.steps.iter().map(|s| s.session).max().unwrap_or(0);
    repro.sessions = match declared {
        Some((n, line)) if n < used => {
            return Err(err(
                line,
                format!("`sessions: {n}` but a step uses session {used}"),
            ));
        }
        Some((n, _)) => n,
        None => used,
    };
    Ok(repro)
}

/// Parses what follows `[session` in a marker: ` N]` and an optional ` from PATH:LINE`.
fn parse_session_marker(rest: &str) -> Result<(usize, Option<Location>), String> {
    let (num, after) = rest
        .split_once(']')
        .ok_or_else(|| "unterminated `[session N]` marker".to_string())?;
    let n = num
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("invalid session number `{}`", num.trim()))?;
    let after = after.trim();
    if after.is_empty() {
        return Ok((n, None));
    }
    let bad = || format!("expected `from PATH:LINE` after `[session {n}]`, found `{after}`");
    let from = after.strip_prefix("from ").ok_or_else(bad)?.trim();
    let (path, line) = from.rsplit_once(':').ok_or_else(bad)?;
    let line = line.parse::<u32>().map_err(|_| bad())?;
    if path.is_empty() {
        return Err(bad());
    }
    Ok((n, Some(Location::new(path, line))))
}

/// Appends `-- sessions: N`, the setup and the steps with their markers; `push_statement`
/// writes one statement with its terminator (engines differ in which comments force it onto a
/// line of its own).
pub fn write_sections(out: &mut String, repro: &Repro, push_statement: fn(&mut String, &str)) {
    let _ = writeln!(out, "-- sessions: {}", repro.sessions);
    out.push_str("\n-- [setup]\n");
    for sql in &repro.setup {
        push_statement(out, sql);
    }
    out.push_str("\n-- [steps]\n");
    let mut previous = None;
    for step in &repro.steps {
        if previous.is_some_and(|p| p != step.session) {
            out.push('\n');
        }
        previous = Some(step.session);
        let _ = write!(out, "-- [session {}]", step.session);
        if let Some(origin) = &step.origin
            && !origin.path.chars().any(char::is_control)
        {
            let _ = write!(out, " from {origin}");
        }
        out.push('\n');
        if step.expect_block {
            out.push_str("-- (blocks)\n");
        }
        push_statement(out, &step.sql);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<ScriptPiece<'_>> {
        // A test splitter: one statement per line ending in `;`, `--` comments.
        text.lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let l = l.trim();
                if let Some(c) = l.strip_prefix("--") {
                    Some(ScriptPiece::Comment {
                        line: i + 1,
                        text: c,
                    })
                } else if l.is_empty() {
                    None
                } else {
                    Some(ScriptPiece::Statement {
                        line: i + 1,
                        text: l.trim_end_matches(';'),
                    })
                }
            })
            .collect()
    }

    fn push(out: &mut String, sql: &str) {
        out.push_str(sql);
        out.push_str(";\n");
    }

    #[test]
    fn round_trip_and_engine_header() {
        let repro = Repro {
            setup: vec!["CREATE TABLE t (id int)".into()],
            steps: vec![
                ReproStep {
                    session: 1,
                    sql: "UPDATE t SET id = 1".into(),
                    origin: Some(Location::new("a.sql", 3)),
                    expect_block: false,
                },
                ReproStep {
                    session: 2,
                    sql: "UPDATE t SET id = 2".into(),
                    origin: None,
                    expect_block: true,
                },
            ],
            sessions: 2,
            engine: Engine::Mysql,
        };
        let mut text = String::from("-- engine: mysql\n");
        write_sections(&mut text, &repro, push);
        assert_eq!(script_engine(&text), Ok(Engine::Mysql));
        let p = pieces(&text);
        assert_eq!(
            read_script(&p, text.lines().count(), Engine::Mysql),
            Ok(repro)
        );
        let wrong = read_script(&p, text.lines().count(), Engine::Postgres).unwrap_err();
        assert_eq!(wrong.line, 1);
        assert!(
            wrong.message.contains("written for MySQL/InnoDB"),
            "{wrong:?}"
        );
        assert_eq!(
            script_engine("-- [steps]\n-- engine: mysql\n"),
            Ok(Engine::Postgres)
        );
        assert_eq!(script_engine("-- engine: db2\n").unwrap_err().line, 1);
    }

    #[test]
    fn marker_errors_name_their_line() {
        let cases = [
            (
                "-- [steps]\nSELECT 1;\n",
                "step without a `-- [session N]` marker",
            ),
            ("SELECT 1;\n", "statement outside a section"),
            ("-- [steps]\n-- [sesion 1]\nSELECT 1;\n", "unknown marker"),
            (
                "-- [steps]\n-- [session 1]\n-- (blocks)\n",
                "not followed by a statement",
            ),
            (
                "-- sessions: 1\n-- [steps]\n-- [session 2]\nSELECT 1;\n",
                "but a step uses",
            ),
        ];
        for (text, want) in cases {
            let e = read_script(&pieces(text), text.lines().count(), Engine::Postgres).unwrap_err();
            assert!(e.message.contains(want), "{text:?}: {e:?}");
        }
    }
}
