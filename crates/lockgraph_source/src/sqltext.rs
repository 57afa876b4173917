//! SQL text built by Python expressions: literal pieces, holes (values only known at run time)
//! and references to string constants, rendered to one statement with `$n` placeholders.

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

/// Decodes the common backslash escapes of a (non-raw) Python string literal.
pub(crate) fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\n') => {}
            Some(o @ ('\\' | '\'' | '"')) => out.push(o),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
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

/// Renders resolved parts (no `Ref` left: unresolved references must be turned into holes first).
pub(crate) fn render(parts: &[Part]) -> Rendered {
    let mut raw = String::new();
    for p in parts {
        match p {
            Part::Lit(s) => raw.extend(s.chars().filter(|c| *c != HOLE)),
            Part::Hole | Part::Ref(_) => raw.push(HOLE),
        }
    }
    if !starts_like_sql(&raw) {
        return Rendered::NotSql;
    }
    normalize_placeholders(&raw)
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

/// Numbers placeholders and holes `$1, $2, …` (outside quotes and comments): `%s`, `%(name)s`
/// (one number per name), `:name`, `?` and holes get the next number; `$n` as written is kept
/// and numbering of the others starts after the largest.
fn normalize_placeholders(raw: &str) -> Rendered {
    let max_dollar = max_dollar_placeholder(raw);
    let mut next = max_dollar;
    let mut named: Vec<(String, usize)> = Vec::new();
    let mut out = String::with_capacity(raw.len() + 8);
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let rest = raw.get(i..).unwrap_or("");
        match c {
            b'\'' | b'"' => {
                let end = rest
                    .get(1..)
                    .and_then(|r| r.find(c as char))
                    .map_or(rest.len(), |e| e + 2);
                let quoted = rest.get(..end).unwrap_or(rest);
                if c == b'"' && quoted.contains(HOLE) && hole_is_relation(&out) {
                    return Rendered::DynamicRelation(
                        out.replace(HOLE, "?") + &quoted.replace(HOLE, "?"),
                    );
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
                if hole_is_relation(&out) {
                    let mut shown = out.clone();
                    shown.push('?');
                    return Rendered::DynamicRelation(shown);
                }
                next += 1;
                out.push_str(&format!("${next}"));
                i += 1;
            }
            b'%' if rest.starts_with("%s") || rest.starts_with("%b") || rest.starts_with("%t") => {
                next += 1;
                out.push_str(&format!("${next}"));
                i += 2;
            }
            b'%' if rest.starts_with("%%") => {
                out.push('%');
                i += 2;
            }
            b'%' if rest.starts_with("%(") => match rest.find(")s") {
                Some(close) if rest.get(2..close).is_some_and(is_simple_name) => {
                    let name = rest.get(2..close).unwrap_or("").to_string();
                    let n = number_named(&mut named, &mut next, name);
                    out.push_str(&format!("${n}"));
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
                let prev = out.chars().last();
                if name
                    .chars()
                    .next()
                    .is_some_and(|ch| ch.is_alphabetic() || ch == '_')
                    && prev.is_none_or(|p| !is_ident_char(p) || p.is_whitespace())
                {
                    i += 1 + name.len();
                    let n = number_named(&mut named, &mut next, name);
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(':');
                    i += 1;
                }
            }
            b'?' => {
                next += 1;
                out.push_str(&format!("${next}"));
                i += 1;
            }
            _ => {
                let ch = rest.chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    Rendered::Sql(out)
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
