//! Redaction, fingerprints, and the literal-free *template* a statement is inferred from.
//!
//! Inference never looks at literal values directly: [`prepare`] replaces each literal with a
//! numbered marker (`'@@3@@'` for strings, `9000000000003` for numbers), turns driver placeholders
//! into `$n`, folds unquoted words to lower case and rewrites the row-locking clauses sqlparser
//! rejects. Statements that differ only in literals, case or whitespace share one template, so an
//! inference computed once can be reused ([`crate::InferenceCache`]); the few outputs that do
//! depend on literals (key values, advisory keys) carry markers that [`reattach`] swaps back.

use crate::lexer::{Kind, Token, tokenize, tokenize_checked};
use lockgraph_core::{Fingerprint, Location, RowLockMode, Statement};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// First number used as a numeric-literal marker; all numbers in a template are markers.
const NUMBER_MARKER_BASE: u64 = 9_000_000_000_000;

/// A row-locking clause as written, before the rewrite that lets sqlparser read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LockClauseText {
    /// The strength as written (`FOR NO KEY UPDATE` → `NoKeyUpdate`).
    pub strength: RowLockMode,
    /// The `OF` relation (after splitting `OF a, b` into one clause per relation), folded.
    pub of: Option<String>,
}

/// A statement made ready for inference.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// Literal-free text that sqlparser parses.
    pub template: String,
    /// The original text of each literal, by marker number.
    pub literals: Vec<String>,
    /// Row-locking clauses in textual order.
    pub lock_clauses: Vec<LockClauseText>,
    /// Operators in the statement (sqlparser builds operator chains without a depth limit).
    pub operators: usize,
    /// A string, quoted identifier or comment runs to the end unterminated.
    pub unterminated: bool,
}

/// Builds the template of `sql` (see the module docs).
pub(crate) fn prepare(sql: &str) -> Prepared {
    let (mut tokens, unterminated) = tokenize_checked(sql);
    while tokens.last().is_some_and(|t| t.is(";")) {
        tokens.pop();
    }
    let has_percent_placeholders = tokens
        .iter()
        .any(|t| t.kind == Kind::Placeholder && t.text.starts_with('%'));
    let mut p = Prepared {
        template: String::with_capacity(sql.len()),
        literals: Vec::new(),
        lock_clauses: Vec::new(),
        operators: 0,
        unterminated,
    };
    let mut names = Placeholders::default();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if t.space_before && !p.template.is_empty() {
            p.template.push(' ');
        }
        match t.kind {
            Kind::String => {
                p.template.push_str(&format!("'@@{}@@'", p.literals.len()));
                p.literals.push(t.text.to_string());
            }
            Kind::Number => {
                p.template
                    .push_str(&(NUMBER_MARKER_BASE + p.literals.len() as u64).to_string());
                p.literals.push(t.text.to_string());
            }
            Kind::Placeholder => p.template.push_str(&names.number(t.text)),
            Kind::Word if t.is_word("for") => {
                if let Some(used) = rewrite_lock_clause(&tokens[i..], &mut p) {
                    i += used;
                    continue;
                }
                p.template.push_str("for");
            }
            Kind::Word => {
                if t.is_word("and") || t.is_word("or") {
                    p.operators += 1;
                }
                p.template.push_str(&t.text.to_lowercase());
            }
            Kind::Op if t.text == "%%" && has_percent_placeholders => p.template.push('%'),
            Kind::Op => {
                p.operators += 1;
                p.template.push_str(t.text);
            }
            _ => p.template.push_str(t.text),
        }
        i += 1;
    }
    p
}

/// Numbers driver placeholders: `?` and `%s` in order, `%(name)s` once per name.
#[derive(Default)]
struct Placeholders {
    next: usize,
    named: FxHashMap<String, usize>,
}

impl Placeholders {
    fn number(&mut self, text: &str) -> String {
        let n = if let Some(name) = text.strip_prefix("%(").and_then(|r| r.strip_suffix(")s")) {
            let next = &mut self.next;
            *self.named.entry(name.to_string()).or_insert_with(|| {
                *next += 1;
                *next
            })
        } else {
            self.next += 1;
            self.next
        };
        format!("${n}")
    }
}

/// Rewrites `FOR <strength> [OF a, b, …]` at the start of `tokens` into clauses sqlparser 0.64
/// reads (`FOR UPDATE` / `FOR SHARE`, one `OF` relation each), recording the true strengths.
/// Returns the number of tokens consumed, or `None` when this `FOR` is no locking clause.
fn rewrite_lock_clause(tokens: &[Token<'_>], p: &mut Prepared) -> Option<usize> {
    let w = |i: usize, kw: &str| tokens.get(i).is_some_and(|t| t.is_word(kw));
    let (strength, written, mut used) = if w(1, "update") {
        (RowLockMode::Update, "update", 2)
    } else if w(1, "no") && w(2, "key") && w(3, "update") {
        (RowLockMode::NoKeyUpdate, "update", 4)
    } else if w(1, "share") {
        (RowLockMode::Share, "share", 2)
    } else if w(1, "key") && w(2, "share") {
        (RowLockMode::KeyShare, "share", 3)
    } else {
        return None;
    };
    p.template.push_str("for ");
    p.template.push_str(written);
    if !w(used, "of") {
        p.lock_clauses.push(LockClauseText { strength, of: None });
        return Some(used);
    }
    used += 1;
    let mut first = true;
    loop {
        let name = tokens
            .get(used)
            .filter(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))?;
        if !first {
            p.template.push_str(" for ");
            p.template.push_str(written);
        }
        p.template.push_str(" of ");
        p.template.push_str(&if name.kind == Kind::Word {
            name.text.to_lowercase()
        } else {
            name.text.to_string()
        });
        p.lock_clauses.push(LockClauseText {
            strength,
            of: Some(fold_ident(name)),
        });
        used += 1;
        first = false;
        if tokens.get(used).is_some_and(|t| t.is(",")) {
            used += 1;
        } else {
            return Some(used);
        }
    }
}

/// An identifier token as PostgreSQL compares it: unquoted folded to lower case, quoted verbatim.
pub(crate) fn fold_ident(t: &Token<'_>) -> String {
    match t.kind {
        Kind::QuotedIdent => {
            let inner = t.text.trim_start_matches("U&").trim_start_matches('"');
            inner
                .strip_suffix('"')
                .unwrap_or(inner)
                .replace("\"\"", "\"")
        }
        _ => t.text.to_lowercase(),
    }
}

/// Tokens without trailing semicolons.
fn significant(sql: &str) -> Vec<Token<'_>> {
    let mut tokens = tokenize(sql);
    while tokens.last().is_some_and(|t| t.is(";")) {
        tokens.pop();
    }
    tokens
}

/// Swaps literal markers in `text` back to the literals they stand for.
pub(crate) fn reattach(text: &str, literals: &[String]) -> String {
    if literals.is_empty() {
        return text.to_string();
    }
    substitute(text, |k| literals.get(k).map(String::as_str))
}

/// Replaces markers with `?` (for messages that must not show literals).
pub(crate) fn hide_markers(text: &str) -> String {
    substitute(text, |_| Some("?"))
}

/// Replaces each marker (`'@@k@@'`, `NUMBER_MARKER_BASE + k`) in `text` by `literal(k)`.
fn substitute<'l>(text: &str, literal: impl Fn(usize) -> Option<&'l str>) -> String {
    if !(text.contains("'@@") || text.contains("900000")) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("'@@") {
            let digits: usize = text[i + 3..].bytes().take_while(u8::is_ascii_digit).count();
            if text[i + 3 + digits..].starts_with("@@'")
                && let Some(lit) = text[i + 3..i + 3 + digits]
                    .parse::<usize>()
                    .ok()
                    .and_then(&literal)
            {
                out.push_str(lit);
                i += digits + 6;
                continue;
            }
        }
        let prev_is_ident =
            i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'$'));
        if bytes[i].is_ascii_digit() && !prev_is_ident {
            let digits = text[i..].bytes().take_while(u8::is_ascii_digit).count();
            let lit = text[i..i + digits]
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_sub(NUMBER_MARKER_BASE))
                .and_then(|k| literal(k as usize));
            out.push_str(lit.unwrap_or(&text[i..i + digits]));
            i += digits;
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// The statement with literals (strings, numbers, dollar-quoted bodies, `E''`, `B''`) replaced by
/// `?`, comments dropped and whitespace collapsed to single spaces. Identifiers, keywords (as
/// written) and `$1` placeholders are kept.
///
/// ```
/// assert_eq!(
///     lockgraph_sql::redact("UPDATE t  SET note = 'secret' -- why\n WHERE id=42"),
///     "UPDATE t SET note = ? WHERE id=?"
/// );
/// ```
pub fn redact(sql: &str) -> String {
    redacted(&significant(sql))
}

fn redacted(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    for t in tokens {
        if t.space_before && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(if t.kind.is_literal() { "?" } else { t.text });
    }
    out
}

/// A whole file with its literals hidden, for showing its lines in a report: every line stays
/// where it was (a literal spanning lines keeps its line breaks), everything else is kept.
///
/// - SQL (`line_comment = None`): string and numeric literals become `?`.
/// - Application code whose line comments start with `line_comment` (`#`, `//`): a string literal that holds SQL keeps its SQL with the
///   SQL's literals as `?`; any other string literal becomes `"?"`; numbers become `?`.
///
/// ```
/// use lockgraph_sql::redact_source;
/// assert_eq!(
///     redact_source("UPDATE t SET note = 'it''s me'\n WHERE id = 42;", None),
///     "UPDATE t SET note = ?\n WHERE id = ?;"
/// );
/// assert_eq!(
///     redact_source("cur.execute(\"UPDATE t SET a = 'x' WHERE id = %s\", (42,))  # v2\nsend('ann@example.org')", Some("#")),
///     "cur.execute(\"UPDATE t SET a = ? WHERE id = %s\", (?,))  # v2\nsend('?')"
/// );
/// ```
pub fn redact_source(text: &str, line_comment: Option<&str>) -> String {
    match line_comment {
        Some(marker) => redact_code(text, marker.as_bytes()),
        None => redact_sql_keeping_lines(text),
    }
}

/// SQL with literal tokens as `?` (plus the line breaks they held); the rest verbatim.
fn redact_sql_keeping_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for t in crate::lexer::tokenize(text) {
        if !t.kind.is_literal() {
            continue;
        }
        out.push_str(&text[at..t.start]);
        out.push('?');
        for _ in 0..t.text.matches('\n').count() {
            out.push('\n');
        }
        at = t.end();
    }
    out.push_str(&text[at..]);
    out
}

/// Whether a string's content reads as SQL (starts with a statement keyword).
fn looks_like_sql(s: &str) -> bool {
    const KEYWORDS: [&str; 16] = [
        "select",
        "insert",
        "update",
        "delete",
        "with",
        "lock",
        "begin",
        "commit",
        "rollback",
        "merge",
        "create",
        "alter",
        "drop",
        "truncate",
        "savepoint",
        "set",
    ];
    let first: String = s
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    KEYWORDS.contains(&first.as_str())
}

/// Application code: string literals (`'…'`, `"…"`, `` `…` ``, Python's triple quotes) and
/// numbers, found by a scan every language read shares closely enough; comments are kept.
fn redact_code(text: &str, comment: &[u8]) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let c = b[i];
        let prev_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if c == b'"' || c == b'\'' || c == b'`' {
            let triple = b.len() >= i + 3 && b[i + 1] == c && b[i + 2] == c;
            let open = if triple { 3 } else { 1 };
            let mut j = i + open;
            let mut end = None;
            while j < b.len() {
                if b[j] == b'\\' && c != b'`' {
                    j += 2;
                    continue;
                }
                if b[j] == b'\n' && !triple && c != b'`' {
                    break; // an unterminated one-line string: stop at the line's end
                }
                if b[j] == c && (!triple || (b.len() >= j + 3 && b[j + 1] == c && b[j + 2] == c)) {
                    end = Some(j);
                    break;
                }
                j += 1;
            }
            let Some(end) = end else {
                i += open;
                continue;
            };
            let content = &text[i + open..end];
            out.push_str(&text[copied..i + open]);
            if looks_like_sql(content) {
                out.push_str(&redact_sql_keeping_lines(content));
            } else {
                out.push('?');
                for _ in 0..content.matches('\n').count() {
                    out.push('\n');
                }
            }
            // The closing quote(s), then on past them.
            i = (end + open).min(text.len());
            out.push_str(&text[end..i]);
            copied = i;
            continue;
        }
        if !comment.is_empty() && b[i..].starts_with(comment) {
            // A line comment: kept as written.
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_digit() && !prev_ident {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.') {
                j += 1;
            }
            out.push_str(&text[copied..i]);
            out.push('?');
            copied = j;
            i = j;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// The normalized form fingerprints hash: literals as `?`, placeholders as `$n`, unquoted words
/// in lower case, quoted identifiers that need no quotes unquoted, one space between tokens.
#[cfg(test)]
pub(crate) fn normalized(sql: &str) -> String {
    normalized_tokens(&significant(sql))
}

fn normalized_tokens(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    let mut names = Placeholders::default();
    for t in tokens {
        if !out.is_empty() {
            out.push(' ');
        }
        match t.kind {
            Kind::String | Kind::Number => out.push('?'),
            Kind::Placeholder => out.push_str(&names.number(t.text)),
            Kind::Word => out.push_str(&t.text.to_lowercase()),
            Kind::QuotedIdent => {
                let folded = fold_ident(t);
                if lockgraph_core::is_plain_ident(&folded) {
                    out.push_str(&folded);
                } else {
                    out.push_str(t.text);
                }
            }
            _ => out.push_str(t.text),
        }
    }
    out
}

/// Fingerprint of the normalized statement: equal for statements that differ only in literals,
/// whitespace, comments, keyword case or placeholder style; different for different relations or
/// columns.
///
/// ```
/// use lockgraph_sql::fingerprint;
/// assert_eq!(
///     fingerprint("update accounts set balance = 10 where id = 1"),
///     fingerprint("UPDATE accounts\n   SET balance = 99 /* c */ WHERE id = 7;"),
/// );
/// assert_ne!(fingerprint("UPDATE accounts SET a = 1"), fingerprint("UPDATE ledger SET a = 1"));
/// ```
pub fn fingerprint(sql: &str) -> Fingerprint {
    Fingerprint::of([normalized_tokens(&significant(sql)).as_bytes()])
}

/// Builds the shared [`Statement`] for `text` found at `path:line`.
pub fn make_statement(path: &str, line: u32, text: &str) -> Arc<Statement> {
    let tokens = significant(text);
    Arc::new(Statement {
        location: Location::new(path, line),
        text: text.trim().into(),
        redacted: redacted(&tokens).into(),
        fingerprint: Fingerprint::of([normalized_tokens(&tokens).as_bytes()]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_every_literal_kind() {
        assert_eq!(
            redact(
                "SELECT 'a', E'b\\'c', B'0101', X'ff', $$body$$, $q$x$q$, 1.5e3, -2, $1 FROM \"T\""
            ),
            "SELECT ?, ?, ?, ?, ?, ?, ?, ?, $1 FROM \"T\""
        );
        assert_eq!(
            redact("insert into t values (%s, %(name)s, ?)"),
            "insert into t values (%s, %(name)s, ?)"
        );
    }

    #[test]
    fn fingerprints_ignore_literals_case_space_and_comments() {
        let a = fingerprint("SELECT * FROM t WHERE id = 1 AND name = 'x'");
        assert_eq!(
            a,
            fingerprint("select *\n  from T where ID=2 and NAME = 'other' -- c")
        );
        assert_eq!(
            a,
            fingerprint("SELECT /* hint */ * FROM t WHERE id = -7 AND name = $$y$$;")
        );
        assert_ne!(
            a,
            fingerprint("SELECT * FROM u WHERE id = 1 AND name = 'x'")
        );
        assert_ne!(
            a,
            fingerprint("SELECT * FROM t WHERE id2 = 1 AND name = 'x'")
        );
        assert_ne!(
            a,
            fingerprint("SELECT * FROM \"T\" WHERE id = 1 AND name = 'x'")
        );
        assert_eq!(
            fingerprint("SELECT * FROM \"t\""),
            fingerprint("SELECT * FROM t")
        );
    }

    #[test]
    fn placeholder_styles_share_a_fingerprint() {
        let f = fingerprint("UPDATE t SET a = $1 WHERE id = $2");
        assert_eq!(f, fingerprint("UPDATE t SET a = %s WHERE id = %s"));
        assert_eq!(f, fingerprint("UPDATE t SET a = ? WHERE id = ?"));
        assert_eq!(f, fingerprint("UPDATE t SET a = %(a)s WHERE id = %(id)s"));
        assert_eq!(
            normalized("SELECT %(x)s, %(y)s, %(x)s"),
            "select $1 , $2 , $1"
        );
    }

    #[test]
    fn template_markers_round_trip() {
        let p = prepare("SELECT * FROM T WHERE id = 42 AND name = 'it''s' AND x = %s");
        assert_eq!(
            p.template,
            "select * from t where id = 9000000000000 and name = '@@1@@' and x = $1"
        );
        assert_eq!(
            reattach("id = 9000000000000, name = '@@1@@'", &p.literals),
            "id = 42, name = 'it''s'"
        );
        assert_eq!(reattach("t9000000000000", &p.literals), "t9000000000000");
        assert_eq!(hide_markers("found: 9000000000003"), "found: ?");
    }

    #[test]
    fn lock_clauses_are_rewritten_and_recorded() {
        let p = prepare(
            "SELECT 1 FROM ONLY \"public\".\"parent\" x WHERE \"id\" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x",
        );
        assert!(p.template.ends_with("for share of x"), "{}", p.template);
        assert_eq!(
            p.lock_clauses,
            vec![LockClauseText {
                strength: RowLockMode::KeyShare,
                of: Some("x".into())
            }]
        );
        let p = prepare("select * from a, b for no key update of a, \"B\" nowait");
        assert!(
            p.template
                .ends_with("for update of a for update of \"B\" nowait"),
            "{}",
            p.template
        );
        assert_eq!(p.lock_clauses.len(), 2);
        assert_eq!(p.lock_clauses[1].of.as_deref(), Some("B"));
        assert_eq!(p.lock_clauses[1].strength, RowLockMode::NoKeyUpdate);
    }

    #[test]
    fn statements_carry_location_and_redaction() {
        let s = make_statement("a.sql", 3, "UPDATE t SET a = 'x' WHERE id = 1");
        assert_eq!(s.location.to_string(), "a.sql:3");
        assert_eq!(&*s.redacted, "UPDATE t SET a = ? WHERE id = ?");
    }
}
