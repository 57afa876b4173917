//! A tolerant token scan for statements sqlparser rejects: it finds the relations a statement
//! names in unambiguous places (`INSERT INTO t`, `UPDATE t`, `DELETE FROM t`, `MERGE INTO t`,
//! `FROM`/`JOIN`/`USING` lists) and gives them the modes those places imply. CTE names and
//! function calls are skipped. The result comes with an `UnparseableStatement` problem.

use super::Locks;
use super::command::Cursor;
use crate::lexer::{Kind, Token};
use crate::normalize::{LockClauseText, fold_ident};
use lockgraph_core::{AdvisoryMode, RelationName, RowLockMode, TableLockMode};

/// Words that end a FROM item (never an alias).
const NOT_ALIAS: &[&str] = &[
    "where",
    "join",
    "on",
    "left",
    "right",
    "inner",
    "outer",
    "full",
    "cross",
    "natural",
    "group",
    "order",
    "limit",
    "for",
    "union",
    "using",
    "set",
    "returning",
    "window",
    "having",
    "offset",
    "fetch",
    "except",
    "intersect",
    "values",
    "select",
    "and",
    "or",
    "do",
    "when",
    "then",
    "lateral",
];

pub(crate) fn infer(tokens: &[Token<'_>], clauses: &[LockClauseText]) -> Locks {
    let mut locks = Locks::default();
    let ctes = cte_names(tokens);
    let is_cte = |r: &RelationName| ctes.iter().any(|c| c == r.as_str());
    let mut rows: Vec<(RelationName, RowLockMode)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let prev = i.checked_sub(1).map(|p| tokens[p]);
        let prev_is = |w: &str| prev.is_some_and(|p| p.is_word(w));
        let mut c = Cursor {
            toks: tokens,
            i: i + 1,
        };
        if t.kind != Kind::Word {
            i += 1;
            continue;
        }
        let word = t.text.to_ascii_lowercase();
        match word.as_str() {
            "into" if prev_is("insert") || prev_is("merge") => {
                if let Some(rel) = c.name().filter(|r| !is_cte(r)) {
                    locks.table(&rel, TableLockMode::RowExclusive);
                }
            }
            "update" if !(prev_is("for") || prev_is("key") || prev_is("do") || prev_is("then")) => {
                if let Some(rel) = c.name().filter(|r| !is_cte(r)) {
                    locks.table(&rel, TableLockMode::RowExclusive);
                    rows.push((rel, RowLockMode::NoKeyUpdate));
                }
            }
            "delete" if c.eat("from") => {
                if let Some(rel) = c.name().filter(|r| !is_cte(r)) {
                    locks.table(&rel, TableLockMode::RowExclusive);
                    rows.push((rel, RowLockMode::Update));
                }
            }
            "from" | "join" | "using" if !prev_is("delete") => {
                for (rel, refname) in from_items(&mut c, word == "from") {
                    if is_cte(&rel) {
                        continue;
                    }
                    let strength = clauses
                        .iter()
                        .filter(|l| l.of.as_deref().is_none_or(|of| of == refname))
                        .map(|l| l.strength)
                        .max();
                    match strength {
                        Some(s) => {
                            locks.table(&rel, TableLockMode::RowShare);
                            rows.push((rel, s));
                        }
                        None => locks.table(&rel, TableLockMode::AccessShare),
                    }
                }
            }
            w if w.contains("advisory") && c.peek().is_some_and(|n| n.is("(")) => {
                let mode = if w.ends_with("_shared") {
                    AdvisoryMode::Shared
                } else {
                    AdvisoryMode::Exclusive
                };
                let start = c.i + 1;
                c.skip_parens();
                let end = c.i.saturating_sub(1).max(start);
                let key: Vec<&str> = tokens[start..end]
                    .iter()
                    .map(|t| t.text)
                    .filter(|t| *t != ",")
                    .collect();
                if !w.contains("unlock") {
                    locks.advisory(key.join(","), mode);
                }
            }
            _ => {}
        }
        i += 1;
    }
    for (rel, mode) in rows {
        locks.rows(&rel, mode, None);
    }
    locks
}

/// Names defined by a leading `WITH` clause.
fn cte_names(tokens: &[Token<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    let mut c = Cursor { toks: tokens, i: 0 };
    if !c.eat("with") {
        return out;
    }
    c.eat("recursive");
    while let Some(t) = c
        .peek()
        .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
    {
        out.push(fold_ident(t));
        c.i += 1;
        c.skip_parens(); // column list
        if !c.eat("as") {
            break;
        }
        c.eat("not");
        c.eat("materialized");
        c.skip_parens();
        if !c.peek().is_some_and(|t| t.is(",")) {
            break;
        }
        c.i += 1;
    }
    out
}

/// The relations of a FROM list (one item after JOIN/USING), each with the name the query uses
/// for it. Subqueries and function calls are skipped.
fn from_items(c: &mut Cursor<'_, '_>, list: bool) -> Vec<(RelationName, String)> {
    let mut out = Vec::new();
    loop {
        c.eat("lateral");
        if c.peek().is_some_and(|t| t.is("(")) {
            c.skip_parens();
        } else {
            if c.peek()
                .is_some_and(|t| NOT_ALIAS.iter().any(|w| t.is_word(w)))
            {
                break;
            }
            let Some(rel) = c.name() else { break };
            if c.peek().is_some_and(|t| t.is("(")) {
                c.skip_parens(); // a function call
            } else {
                let bare = rel
                    .as_str()
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                c.eat("as");
                let alias = c
                    .peek()
                    .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
                    .filter(|t| !NOT_ALIAS.iter().any(|w| t.is_word(w)))
                    .map(fold_ident);
                if alias.is_some() {
                    c.i += 1;
                }
                out.push((rel, alias.unwrap_or(bare)));
            }
        }
        if !(list && c.peek().is_some_and(|t| t.is(","))) {
            break;
        }
        c.i += 1;
    }
    out
}
