//! SQL text built by Python expressions: literal pieces, holes (values only known at run time)
//! and references to string constants, rendered to one statement with `$n` placeholders.

use rustc_hash::FxHashMap;

/// One piece of a SQL string as Python builds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text as written (escapes decoded).
    Lit(String),
    /// A value only known at run time (f-string field, `%` / `.format()` argument, a variable).
    Hole,
    /// A name (`QUERY`, `queries.UPDATE_A`) that may be a string constant of some module;
    /// resolved when all files are indexed.
    Ref(Vec<String>),
}

/// A SQL string expression: its pieces in order.
pub(crate) type SqlExpr = Vec<Part>;

/// Appends `b` to `a`, merging adjacent literals.
pub(crate) fn concat(mut a: SqlExpr, b: SqlExpr) -> SqlExpr {
    for p in b {
        push(&mut a, p);
    }
    a
}

/// Pushes one part, merging adjacent literals.
pub(crate) fn push(out: &mut SqlExpr, p: Part) {
    if let (Part::Lit(new), Some(Part::Lit(last))) = (&p, out.last_mut()) {
        last.push_str(new);
        return;
    }
    out.push(p);
}

/// Python `%` formatting: `%s`, `%d`, `%(name)s`… in the literal pieces become holes, `%%` → `%`.
pub(crate) fn percent_format(expr: SqlExpr) -> SqlExpr {
    let mut out = Vec::new();
    for p in expr {
        let Part::Lit(s) = p else {
            push(&mut out, p);
            continue;
        };
        let mut lit = String::new();
        let mut i = 0;
        while i < s.len() {
            let rest = s.get(i..).unwrap_or("");
            let Some(c) = rest.chars().next() else { break };
            if c != '%' {
                lit.push(c);
                i += c.len_utf8();
                continue;
            }
            if rest.starts_with("%%") {
                lit.push('%');
                i += 2;
                continue;
            }
            // `%(name)` then flags/width, then the conversion letter.
            let mut j = 1;
            if rest.get(1..).is_some_and(|r| r.starts_with('(')) {
                match rest.find(')') {
                    Some(close) => j = close + 1,
                    None => {
                        lit.push('%');
                        i += 1;
                        continue;
                    }
                }
            }
            let spec = rest.get(j..).unwrap_or("");
            let flags = spec
                .bytes()
                .take_while(|b| b"#0- +.*123456789".contains(b))
                .count();
            match spec.get(flags..).and_then(|r| r.chars().next()) {
                Some(conv) if conv.is_ascii_alphabetic() => {
                    if !lit.is_empty() {
                        push(&mut out, Part::Lit(std::mem::take(&mut lit)));
                    }
                    push(&mut out, Part::Hole);
                    i += j + flags + 1;
                }
                _ => {
                    lit.push('%');
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            push(&mut out, Part::Lit(lit));
        }
    }
    out
}

/// `str.format`: `{…}` fields in the literal pieces become holes; `{{` / `}}` → `{` / `}`.
pub(crate) fn brace_format(expr: SqlExpr) -> SqlExpr {
    let mut out = Vec::new();
    for p in expr {
        let Part::Lit(s) = p else {
            push(&mut out, p);
            continue;
        };
        let mut lit = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    for d in chars.by_ref() {
                        if d == '}' {
                            break;
                        }
                    }
                    if !lit.is_empty() {
                        push(&mut out, Part::Lit(std::mem::take(&mut lit)));
                    }
                    push(&mut out, Part::Hole);
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            push(&mut out, Part::Lit(lit));
        }
    }
    out
}

/// Decodes the backslash escapes of a string literal's content: `\n`, `\t` and `\r` as in
/// every language read, any other escape by the language's `other`, given the character after
/// the backslash (`None`: the text ends in a backslash), the characters after it (to read a
/// longer escape such as Rust's `\u{…}`) and the text decoded so far.
pub(crate) fn unescape_with(
    s: &str,
    other: impl Fn(Option<char>, &mut std::iter::Peekable<std::str::Chars<'_>>, &mut String),
) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            o => other(o, &mut chars, &mut out),
        }
    }
    out
}

/// The escapes of a quoted string beyond `\n`, `\t`, `\r` (for [`unescape_with`]) as Python
/// and Go read them: `\\`, `\'` and `\"` are the character, any other escape is kept as
/// written.
pub(crate) fn quotes_escape(o: Option<char>, out: &mut String) {
    match o {
        Some(o @ ('\\' | '\'' | '"')) => out.push(o),
        Some(o) => {
            out.push('\\');
            out.push(o);
        }
        None => out.push('\\'),
    }
}

/// Decodes the common backslash escapes of a (non-raw) Python string literal (a backslash at a
/// line end continues the line).
pub(crate) fn unescape(s: &str) -> String {
    unescape_with(s, |o, _, out| match o {
        Some('\n') => {}
        o => quotes_escape(o, out),
    })
}

/// Words after which a name is a relation: a hole there makes the statement's target unknown.
const RELATION_WORDS: &[&str] = &[
    "from", "join", "update", "into", "table", "truncate", "lock",
];

/// First words of text that is SQL (anything else passed to `execute` is not analysed).
const SQL_WORDS: &[&str] = &[
    "select",
    "insert",
    "update",
    "delete",
    "with",
    "lock",
    "begin",
    "start",
    "commit",
    "end",
    "rollback",
    "abort",
    "savepoint",
    "release",
    "create",
    "alter",
    "drop",
    "truncate",
    "merge",
    "copy",
    "vacuum",
    "analyze",
    "reindex",
    "cluster",
    "refresh",
    "call",
    "do",
    "set",
    "grant",
    "revoke",
    "comment",
    "values",
    "table",
];

/// A SQL expression rendered to one statement.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rendered {
    /// The statement, placeholders numbered `$1, $2, …`.
    Sql(String),
    /// A hole stands where a relation name goes.
    DynamicRelation(String),
    /// Not SQL (or nothing static to read).
    NotSql,
}

/// Sentinel for a hole while rendering (never occurs in source text we keep).
const HOLE: char = '\u{1}';

/// Renders resolved parts (no `Ref` left: unresolved references must be turned into holes first),
/// placeholders numbered per statement.
#[cfg(test)]
pub(crate) fn render(parts: &[Part]) -> Rendered {
    render_bound(parts, None, &mut FxHashMap::default())
}

/// The text with every hole as [`HOLE`].
fn raw_text(parts: &[Part]) -> String {
    let mut raw = String::new();
    for p in parts {
        match p {
            Part::Lit(s) => raw.extend(s.chars().filter(|c| *c != HOLE)),
            Part::Hole | Part::Ref(_) => raw.push(HOLE),
        }
    }
    raw
}

/// Whether the first word (after whitespace, `(` and comments) is a SQL command word.
fn starts_like_sql(text: &str) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.find('\n').and_then(|i| r.get(i..)).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").and_then(|i| r.get(i + 2..)).unwrap_or("");
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let next = rest.chars().nth(word.len());
    SQL_WORDS.contains(&word.as_str()) && next.is_none_or(|c| !c.is_alphanumeric() && c != '_')
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Whether a hole at the end of `before` sits where a relation name goes: the word before it
/// (skipping an identifier the hole is glued to, and `ONLY`) is `FROM`, `JOIN`, `UPDATE`, …
fn hole_is_relation(before: &str) -> bool {
    let mut rest = before
        .trim_end_matches(|c: char| is_ident_char(c) || c == '.' || c == '"')
        .trim_end();
    for _ in 0..2 {
        let start = rest
            .rfind(|c: char| !c.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        let word = rest.get(start..).unwrap_or("").to_ascii_lowercase();
        if RELATION_WORDS.contains(&word.as_str()) {
            return true;
        }
        if word != "only" {
            return false;
        }
        rest = rest.get(..start).unwrap_or("").trim_end();
    }
    false
}

/// A parameter slot of a statement: where a driver parameter (or an interpolated hole) goes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    /// `$n` as written (asyncpg): the n-th argument after the SQL.
    Dollar(usize),
    /// `%s` / `?`: the i-th (0-based) item of the parameter sequence.
    Pos(usize),
    /// `%(name)s` / `:name`: a named parameter.
    Named(String),
    /// A value interpolated into the text by Python (f-string field, `%`/`.format()` argument).
    Hole,
}

/// Statement text split at its parameter slots.
enum Piece {
    Text(String),
    Slot(Slot),
}

/// A value a call passes with its SQL, as the call writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A Python expression (`src`, `order.id`): numbered program-wide, like ORM filter values.
    Expr(String),
    /// A Python literal, as SQL text (`1`, `'x'`, `NULL`).
    Lit(String),
}

/// The parameters a call passes with its SQL, as far as the call shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Args {
    /// Every argument after the SQL, for `$n` (asyncpg `execute(sql, a, b)`).
    pub positional: Option<Vec<Arg>>,
    /// The items of a tuple or list passed as the parameters, for `%s` / `?`
    /// (psycopg, Django `execute(sql, [a, b])`).
    pub seq: Option<Vec<Arg>>,
    /// Named parameters, for `%(name)s` / `:name` (a dict, `.bindparams(name=…)`).
    pub named: Option<Vec<(String, Arg)>>,
}

impl Args {
    fn lookup(&self, slot: &Slot) -> Option<&Arg> {
        match slot {
            Slot::Dollar(n) => self.positional.as_ref()?.get(n.checked_sub(1)?),
            Slot::Pos(i) => self.seq.as_ref()?.get(*i),
            Slot::Named(name) => self
                .named
                .as_ref()?
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, a)| a),
            Slot::Hole => None,
        }
    }
}

/// Renders resolved parts like [`render`], numbering each placeholder whose argument the call
/// shows by that argument: a Python expression gets its program-wide number from `keys` (shared
/// with the ORM statements, so the same expression is the same `$n`), a literal
/// is written into the text. Placeholders without a visible argument get numbers after the
/// function's known expressions; when no argument is visible at all the numbering is
/// [`render`]'s, per statement.
pub(crate) fn render_bound(
    parts: &[Part],
    args: Option<&Args>,
    keys: &mut FxHashMap<String, usize>,
) -> Rendered {
    let raw = raw_text(parts);
    if !starts_like_sql(&raw) {
        return Rendered::NotSql;
    }
    let (pieces, per_statement) = match scan_placeholders(&raw) {
        Ok(p) => p,
        Err(shown) => return Rendered::DynamicRelation(shown),
    };
    let bound: Vec<Option<&Arg>> = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Slot(s) => Some(args.and_then(|a| a.lookup(s))),
            Piece::Text(_) => None,
        })
        .collect();
    if bound.iter().all(Option::is_none) {
        return Rendered::Sql(per_statement);
    }
    for a in bound.iter().flatten() {
        if let Arg::Expr(e) = a {
            let next = keys.len() + 1;
            keys.entry(e.clone()).or_insert(next);
        }
    }
    let mut fresh = keys.len();
    let mut unbound: Vec<(Slot, usize)> = Vec::new();
    let mut out = String::with_capacity(raw.len() + 8);
    let mut slots = bound.into_iter();
    for p in &pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Slot(s) => match slots.next().flatten() {
                Some(Arg::Expr(e)) => {
                    let n = keys.get(e).copied().unwrap_or(0);
                    out.push_str(&format!("${n}"));
                }
                Some(Arg::Lit(l)) => out.push_str(l),
                None => {
                    let same = !matches!(s, Slot::Pos(_) | Slot::Hole);
                    let n = match unbound.iter().find(|(u, _)| same && u == s) {
                        Some((_, n)) => *n,
                        None => {
                            fresh += 1;
                            unbound.push((s.clone(), fresh));
                            fresh
                        }
                    };
                    out.push_str(&format!("${n}"));
                }
            },
        }
    }
    Rendered::Sql(out)
}

/// Splits `raw` at its placeholders and holes (outside quotes and comments), and numbers them
/// `$1, $2, …` per statement: `$n` as written is kept, `%(name)s` / `:name` get one number per
/// name, `%s`, `?` and holes the next number, all after the largest `$n` written. `Err` with the
/// text shown when a hole stands where a relation name goes.
fn scan_placeholders(raw: &str) -> Result<(Vec<Piece>, String), String> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut positional = 0;
    let mut out = String::with_capacity(raw.len() + 8);
    // Everything so far, numbered per statement (for the relation check and the text shown).
    let mut seen = String::with_capacity(raw.len() + 8);
    let mut next = max_dollar_placeholder(raw);
    let mut named: Vec<(String, usize)> = Vec::new();
    let mut slot = |pieces: &mut Vec<Piece>, out: &mut String, seen: &mut String, s: Slot| {
        if !out.is_empty() {
            pieces.push(Piece::Text(std::mem::take(out)));
        }
        let n = match &s {
            Slot::Dollar(n) => *n,
            Slot::Named(name) => number_named(&mut named, &mut next, name.clone()),
            Slot::Pos(_) | Slot::Hole => {
                next += 1;
                next
            }
        };
        seen.push_str(&format!("${n}"));
        pieces.push(Piece::Slot(s));
    };
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let rest = raw.get(i..).unwrap_or("");
        let before = out.len();
        match c {
            b'\'' | b'"' => {
                let end = rest
                    .get(1..)
                    .and_then(|r| r.find(c as char))
                    .map_or(rest.len(), |e| e + 2);
                let quoted = rest.get(..end).unwrap_or(rest);
                if c == b'"' && quoted.contains(HOLE) && hole_is_relation(&seen) {
                    return Err(seen.replace(HOLE, "?") + &quoted.replace(HOLE, "?"));
                }
                // Holes inside string literals stay literal text.
                out.extend(quoted.chars().filter(|ch| *ch != HOLE));
                i += end;
            }
            b'-' if rest.starts_with("--") => {
                let end = rest.find('\n').unwrap_or(rest.len());
                out.push_str(rest.get(..end).unwrap_or(rest));
                i += end;
            }
            b'/' if rest.starts_with("/*") => {
                let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
                out.push_str(rest.get(..end).unwrap_or(rest));
                i += end;
            }
            0x01 => {
                if hole_is_relation(&seen) {
                    return Err(format!("{seen}?"));
                }
                slot(&mut pieces, &mut out, &mut seen, Slot::Hole);
                i += 1;
            }
            b'$' if rest
                .get(1..)
                .is_some_and(|r| r.starts_with(|ch: char| ch.is_ascii_digit()))
                && seen.chars().last().is_none_or(|p| !is_ident_char(p)) =>
            {
                let digits: String = rest
                    .get(1..)
                    .unwrap_or("")
                    .chars()
                    .take_while(|ch| ch.is_ascii_digit())
                    .collect();
                let n = digits.parse::<usize>().unwrap_or(0).min(100_000);
                slot(&mut pieces, &mut out, &mut seen, Slot::Dollar(n));
                i += 1 + digits.len();
            }
            b'%' if rest.starts_with("%s") || rest.starts_with("%b") || rest.starts_with("%t") => {
                slot(&mut pieces, &mut out, &mut seen, Slot::Pos(positional));
                positional += 1;
                i += 2;
            }
            b'%' if rest.starts_with("%%") => {
                out.push('%');
                i += 2;
            }
            b'%' if rest.starts_with("%(") => match rest.find(")s") {
                Some(close) if rest.get(2..close).is_some_and(is_simple_name) => {
                    let name = rest.get(2..close).unwrap_or("").to_string();
                    slot(&mut pieces, &mut out, &mut seen, Slot::Named(name));
                    i += close + 2;
                }
                _ => {
                    out.push('%');
                    i += 1;
                }
            },
            b':' if rest.starts_with("::") => {
                out.push_str("::");
                i += 2;
            }
            b':' => {
                let name: String = rest
                    .get(1..)
                    .unwrap_or("")
                    .chars()
                    .take_while(|ch| ch.is_alphanumeric() || *ch == '_')
                    .collect();
                let prev = seen.chars().last();
                if name
                    .chars()
                    .next()
                    .is_some_and(|ch| ch.is_alphabetic() || ch == '_')
                    && prev.is_none_or(|p| !is_ident_char(p) || p.is_whitespace())
                {
                    i += 1 + name.len();
                    slot(&mut pieces, &mut out, &mut seen, Slot::Named(name));
                } else {
                    out.push(':');
                    i += 1;
                }
            }
            b'?' => {
                slot(&mut pieces, &mut out, &mut seen, Slot::Pos(positional));
                positional += 1;
                i += 1;
            }
            _ => {
                let ch = rest.chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
        if let Some(added) = out.get(before..) {
            seen.push_str(added);
        }
    }
    if !out.is_empty() {
        pieces.push(Piece::Text(out));
    }
    Ok((pieces, seen))
}

fn is_simple_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

fn number_named(named: &mut Vec<(String, usize)>, next: &mut usize, name: String) -> usize {
    if let Some((_, n)) = named.iter().find(|(m, _)| *m == name) {
        return *n;
    }
    *next += 1;
    named.push((name, *next));
    *next
}

/// The largest `$n` placeholder in `raw` (0 when none).
fn max_dollar_placeholder(raw: &str) -> usize {
    let mut max = 0;
    let mut rest = raw;
    while let Some(pos) = rest.find('$') {
        let after = rest.get(pos + 1..).unwrap_or("");
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = digits.parse::<usize>() {
            max = max.max(n.min(100_000));
        }
        rest = after;
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Part {
        Part::Lit(s.into())
    }

    #[test]
    fn placeholders_are_numbered() {
        let r = |s: &str| render(&[lit(s)]);
        assert_eq!(
            r("UPDATE a SET v = %s WHERE id = %s"),
            Rendered::Sql("UPDATE a SET v = $1 WHERE id = $2".into())
        );
        assert_eq!(
            r("UPDATE a SET v = %(v)s WHERE id = %(id)s OR p = %(v)s"),
            Rendered::Sql("UPDATE a SET v = $1 WHERE id = $2 OR p = $1".into())
        );
        assert_eq!(
            r("SELECT x::int FROM a WHERE id = :id AND s = ':no'"),
            Rendered::Sql("SELECT x::int FROM a WHERE id = $1 AND s = ':no'".into())
        );
        assert_eq!(
            r("DELETE FROM a WHERE id = ?"),
            Rendered::Sql("DELETE FROM a WHERE id = $1".into())
        );
        assert_eq!(
            r("UPDATE a SET v = v + 1 WHERE id = $1"),
            Rendered::Sql("UPDATE a SET v = v + 1 WHERE id = $1".into())
        );
        assert_eq!(r("hello %s"), Rendered::NotSql);
    }

    #[test]
    fn holes_become_parameters_or_dynamic_relations() {
        let parts = vec![
            lit("SELECT * FROM t WHERE id = "),
            Part::Hole,
            lit(" FOR UPDATE"),
        ];
        assert_eq!(
            render(&parts),
            Rendered::Sql("SELECT * FROM t WHERE id = $1 FOR UPDATE".into())
        );
        let parts = vec![lit("UPDATE "), Part::Hole, lit(" SET x = 1")];
        assert!(matches!(render(&parts), Rendered::DynamicRelation(_)));
        let parts = vec![lit("SELECT * FROM orders_"), Part::Hole];
        assert!(matches!(render(&parts), Rendered::DynamicRelation(_)));
        let parts = vec![lit("INSERT INTO \""), Part::Hole, lit("\" VALUES (1)")];
        assert!(matches!(render(&parts), Rendered::DynamicRelation(_)));
        let parts = vec![lit("SELECT '"), Part::Hole, lit("' FROM t")];
        assert_eq!(render(&parts), Rendered::Sql("SELECT '' FROM t".into()));
    }

    #[test]
    fn placeholders_are_numbered_by_argument() {
        let expr = |e: &str| Arg::Expr(e.into());
        let args = Args {
            positional: Some(vec![expr("amount"), expr("src")]),
            seq: Some(vec![expr("src"), Arg::Lit("1".into())]),
            named: Some(vec![("id".into(), expr("dst"))]),
        };
        let mut keys = FxHashMap::default();
        keys.insert("dst".to_string(), 1);
        let r = |s: &str, keys: &mut FxHashMap<String, usize>| {
            render_bound(&[lit(s)], Some(&args), keys)
        };
        assert_eq!(
            r(
                "UPDATE a SET v = v - $1 WHERE id = $2 OR id = $2",
                &mut keys
            ),
            Rendered::Sql("UPDATE a SET v = v - $2 WHERE id = $3 OR id = $3".into())
        );
        assert_eq!(
            r("UPDATE a SET v = %s WHERE id = %s AND x = %s", &mut keys),
            Rendered::Sql("UPDATE a SET v = $3 WHERE id = 1 AND x = $4".into())
        );
        assert_eq!(
            r(
                "SELECT * FROM a WHERE id = :id OR p = :other OR q = :other",
                &mut keys
            ),
            Rendered::Sql("SELECT * FROM a WHERE id = $1 OR p = $4 OR q = $4".into())
        );
        // Nothing visible: per statement.
        assert_eq!(
            render_bound(&[lit("DELETE FROM a WHERE id = ?")], None, &mut keys),
            Rendered::Sql("DELETE FROM a WHERE id = $1".into())
        );
    }

    #[test]
    fn python_formatting() {
        let e = percent_format(vec![lit("SELECT * FROM %s WHERE a = '%%' AND b = %(x)d")]);
        assert_eq!(
            e,
            vec![
                lit("SELECT * FROM "),
                Part::Hole,
                lit(" WHERE a = '%' AND b = "),
                Part::Hole
            ]
        );
        let e = brace_format(vec![lit("SELECT {{}} FROM {table} WHERE id = {0}")]);
        assert_eq!(
            e,
            vec![
                lit("SELECT {} FROM "),
                Part::Hole,
                lit(" WHERE id = "),
                Part::Hole
            ]
        );
        assert_eq!(unescape(r"a\nb\'c\\d\x"), "a\nb'c\\d\\x");
    }
}
