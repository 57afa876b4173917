//! MySQL/MariaDB text for reproductions: driver placeholders bound to literals that fit their
//! columns, and values for the other columns of seeded rows.
//!
//! Placeholders are found with MySQL's lexical rules (`'…'` and `"…"` strings with backslash
//! escapes, `` `…` `` identifiers, `#`, `-- ` and `/* */` comments) and numbered the way
//! `lockgraph_sql` numbers them, so that `$n` in a lock's key is the `n`-th placeholder of the
//! statement: `?` and `%s` in order, `%(name)s` once per name; `$n` as written. With `%s`-style
//! placeholders, `%%` is a literal `%` (the driver formats the whole text), also inside strings.
//!
//! The literal for a placeholder depends on the column it is compared with or assigned to
//! (`col = ?`, `col IN (?, …)`, an `INSERT`'s column list): a string `'1'` for numbers and text
//! (MySQL converts it, and an indexed column is still searched by its index — a bare `1` compared
//! with a text column would scan the table and lock every row), a date for date columns (strict
//! mode rejects `'1'` there), an `ENUM`'s first value.

use super::Bind;
use std::collections::BTreeMap;

/// Column name (lower case) → data type as written, for the tables a statement touches.
pub(super) type ColumnTypes<'a> = dyn Fn(&str) -> Option<&'a str> + 'a;

/// One piece of a MySQL statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    /// Whitespace or a comment: kept as written, never significant.
    Space(&'a str),
    /// An unquoted word (keyword, identifier, number).
    Word(&'a str),
    /// A `` `quoted` `` identifier, with its backticks.
    Quoted(&'a str),
    /// A string literal with its quotes.
    Str(&'a str),
    /// `?`, `%s`, `%(name)s` or `$n`.
    Placeholder(&'a str),
    /// A run of comparison characters (`=`, `<>`, `<=>`, `!=`).
    Op(&'a str),
    /// `%%`.
    Percent2,
    /// Any other character.
    Other(&'a str),
}

fn lex(text: &str) -> Vec<Tok<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Byte offset just past the first occurrence of `end` at or after `from` (or the end).
    let until = |from: usize, end: &str| {
        text[from..]
            .find(end)
            .map_or(text.len(), |p| from + p + end.len())
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let start = i;
        let tok = match c {
            b'\'' | b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                    } else if b[i] == c {
                        i += 1;
                        if b.get(i) == Some(&c) {
                            i += 1;
                        } else {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                i = i.min(b.len());
                Tok::Str(&text[start..i])
            }
            b'`' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'`' {
                        i += 1;
                        if b.get(i) == Some(&b'`') {
                            i += 1;
                        } else {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                Tok::Quoted(&text[start..i.min(b.len())])
            }
            b'#' => {
                i = until(i, "\n");
                Tok::Space(&text[start..i])
            }
            b'-' if next == Some(b'-') && b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) => {
                i = until(i, "\n");
                Tok::Space(&text[start..i])
            }
            b'/' if next == Some(b'*') => {
                i = until(i + 2, "*/");
                Tok::Space(&text[start..i])
            }
            b'?' => {
                i += 1;
                Tok::Placeholder(&text[start..i])
            }
            b'%' if next == Some(b's') => {
                i += 2;
                Tok::Placeholder(&text[start..i])
            }
            b'%' if next == Some(b'(') => match text[i..].find(")s") {
                Some(p) if text[i + 2..i + p].bytes().all(is_word_byte) => {
                    i += p + 2;
                    Tok::Placeholder(&text[start..i])
                }
                _ => {
                    i += 1;
                    Tok::Other(&text[start..i])
                }
            },
            b'%' if next == Some(b'%') => {
                i += 2;
                Tok::Percent2
            }
            b'$' if next.is_some_and(|c| c.is_ascii_digit()) => {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Placeholder(&text[start..i])
            }
            b'<' | b'>' | b'=' | b'!' => {
                while i < b.len() && matches!(b[i], b'<' | b'>' | b'=' | b'!') {
                    i += 1;
                }
                Tok::Op(&text[start..i])
            }
            c if c.is_ascii_whitespace() => {
                while i < b.len() && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                Tok::Space(&text[start..i])
            }
            c if is_word_byte(c) || c >= 0x80 => {
                while i < b.len() && (is_word_byte(b[i]) || b[i] >= 0x80) {
                    i += 1;
                }
                Tok::Word(&text[start..i])
            }
            _ => {
                i += 1;
                Tok::Other(&text[start..i])
            }
        };
        out.push(tok);
    }
    out
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// What an open parenthesis is, for the placeholders inside it.
enum Paren {
    /// `col IN (…)`: every item is compared with `col`.
    InList(String),
    /// An `INSERT`'s column list.
    Columns,
    /// One row of an `INSERT`'s `VALUES`: the item number.
    Row(usize),
    /// Anything else.
    Other,
}

/// A column name as written (`` `Id` `` or `Id`) in lockgraph's folded form.
fn column_name(t: Tok<'_>) -> Option<String> {
    match t {
        Tok::Word(w) if !w.starts_with(|c: char| c.is_ascii_digit()) => Some(w.to_lowercase()),
        Tok::Quoted(q) => Some(
            q.trim_start_matches('`')
                .trim_end_matches('`')
                .replace("``", "`")
                .to_lowercase(),
        ),
        _ => None,
    }
}

/// `text` as it can be run on MySQL: trailing semicolon dropped, placeholders bound to literals
/// that fit their columns (see the module docs).
pub(super) fn bind(text: &str, bind: &Bind, types: &ColumnTypes<'_>) -> String {
    let t = text.trim().trim_end_matches(';').trim_end();
    let toks = lex(t);
    let percent = toks
        .iter()
        .any(|t| matches!(t, Tok::Placeholder(p) if p.starts_with('%')));
    let insert = toks
        .iter()
        .find_map(|t| match t {
            Tok::Word(w) => {
                Some(w.eq_ignore_ascii_case("insert") || w.eq_ignore_ascii_case("replace"))
            }
            Tok::Space(_) => None,
            _ => Some(false),
        })
        .unwrap_or(false);
    let mut out = String::with_capacity(t.len() + 8);
    let mut next = 0usize;
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    let mut parens: Vec<Paren> = Vec::new();
    let mut insert_columns: Vec<String> = Vec::new();
    let mut in_values = false;
    // The last two significant tokens before the current one.
    let mut prev: [Option<Tok<'_>>; 2] = [None, None];
    for tok in toks {
        match tok {
            Tok::Space(s) => {
                out.push_str(s);
                continue;
            }
            Tok::Str(s) if percent => out.push_str(&s.replace("%%", "%")),
            Tok::Percent2 if percent => out.push('%'),
            Tok::Percent2 => out.push_str("%%"),
            Tok::Placeholder(p) => {
                let number = if let Some(name) = p.strip_prefix("%(") {
                    let n = named.len();
                    let fresh = next + 1;
                    let k = *named.entry(name).or_insert(fresh);
                    if named.len() > n {
                        next = fresh;
                    }
                    k
                } else if let Some(n) = p.strip_prefix('$') {
                    n.parse().unwrap_or(0)
                } else {
                    next += 1;
                    next
                };
                let column = match (prev, parens.last()) {
                    ([Some(Tok::Op(_)), Some(c)], _) => column_name(c),
                    (_, Some(Paren::InList(c))) => Some(c.clone()),
                    (_, Some(Paren::Row(k))) => insert_columns.get(*k).cloned(),
                    _ => None,
                };
                let data_type = column.as_deref().and_then(types);
                out.push_str(&literal(bind.value(&format!("${number}")), data_type));
            }
            Tok::Word(w)
                if insert
                    && (w.eq_ignore_ascii_case("values") || w.eq_ignore_ascii_case("value")) =>
            {
                in_values = insert;
                out.push_str(w);
            }
            Tok::Other("(") => {
                let paren = match prev {
                    [Some(Tok::Word(w)), Some(c)] if w.eq_ignore_ascii_case("in") => {
                        column_name(c).map_or(Paren::Other, Paren::InList)
                    }
                    _ if in_values && parens.is_empty() => Paren::Row(0),
                    [Some(Tok::Word(_) | Tok::Quoted(_)), _]
                        if insert
                            && !in_values
                            && parens.is_empty()
                            && insert_columns.is_empty() =>
                    {
                        Paren::Columns
                    }
                    _ => Paren::Other,
                };
                parens.push(paren);
                out.push('(');
            }
            Tok::Other(")") => {
                parens.pop();
                out.push(')');
            }
            Tok::Other(",") => {
                if let Some(Paren::Row(k)) = parens.last_mut() {
                    *k += 1;
                }
                out.push(',');
            }
            other => {
                if let (Some(Paren::Columns), Some(c)) = (parens.last(), column_name(other)) {
                    insert_columns.push(c);
                }
                out.push_str(match other {
                    Tok::Word(s) | Tok::Quoted(s) | Tok::Str(s) | Tok::Op(s) | Tok::Other(s) => s,
                    Tok::Placeholder(s) | Tok::Space(s) => s,
                    Tok::Percent2 => "%%",
                });
            }
        }
        prev = [Some(tok), prev[0]];
    }
    out
}

/// A literal for placeholder value `n` (`1`, or `2` for a second row) in a column of
/// `data_type` (unknown: a string, which MySQL converts to what the column needs).
pub(super) fn literal(n: &str, data_type: Option<&str>) -> String {
    let t = data_type.unwrap_or("").trim().to_ascii_lowercase();
    let number: u32 = n.parse().unwrap_or(1);
    let day = number.clamp(1, 28);
    if t.starts_with("datetime") || t.starts_with("timestamp") {
        format!("'2000-01-{day:02} 00:00:00'")
    } else if t.starts_with("date") {
        format!("'2000-01-{day:02}'")
    } else if t.starts_with("time") {
        format!("'00:00:{:02}'", number.min(59))
    } else if t.starts_with("year") {
        format!("{}", 2000 + number.min(99))
    } else if t.starts_with("bit") {
        number.to_string()
    } else if t.starts_with("enum") {
        let values = enum_values(&t);
        let i = (number as usize).saturating_sub(1);
        values
            .get(i)
            .or(values.first())
            .map_or_else(|| format!("'{n}'"), |v| v.to_string())
    } else if t.starts_with("set(") {
        "''".to_string()
    } else {
        format!("'{}'", n.replace('\'', "''"))
    }
}

/// The quoted values of `enum('a','b')`, each with its quotes.
fn enum_values(data_type: &str) -> Vec<&str> {
    lex(data_type)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Str(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// A value for a seeded row's other columns (`NOT NULL` without default, or numbers that must
/// survive the steps' decrements), or `None` when the type is unknown.
pub(super) fn dummy_value(data_type: &str, relation: &str, n: usize) -> Option<String> {
    let t = data_type.trim().to_ascii_lowercase();
    let declared_len = t
        .split_once('(')
        .and_then(|(_, rest)| rest.split([')', ',']).next()?.trim().parse::<usize>().ok());
    let word = t
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        .unwrap_or("");
    Some(match word {
        "tinyint" | "bool" | "boolean" | "bit" => "0".into(),
        "smallint" => "1000".into(),
        "mediumint" | "int" | "integer" | "bigint" | "decimal" | "numeric" | "dec" | "fixed"
        | "float" | "double" | "real" => "1000000".into(),
        "datetime" | "timestamp" => "NOW()".into(),
        "date" => "CURRENT_DATE".into(),
        "time" => "CURRENT_TIME".into(),
        "year" => "2000".into(),
        "uuid" => "UUID()".into(),
        "json" => "'{}'".into(),
        "binary" | "varbinary" | "blob" | "tinyblob" | "mediumblob" | "longblob" => "x'00'".into(),
        "enum" => enum_values(&t).first()?.to_string(),
        "set" => "''".into(),
        "char" | "varchar" | "nchar" | "nvarchar" | "text" | "tinytext" | "mediumtext"
        | "longtext" => super::seed_text(relation, n, declared_len),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(column: &str) -> Option<&'static str> {
        match column {
            "id" | "account_id" => Some("int"),
            "created_at" => Some("datetime"),
            "day" => Some("date"),
            "status" => Some("enum('new','paid')"),
            "note" => Some("varchar(40)"),
            _ => None,
        }
    }

    fn run(text: &str) -> String {
        bind(text, &Bind::default(), &types)
    }

    #[test]
    fn every_placeholder_style_is_bound() {
        assert_eq!(
            run("UPDATE accounts SET balance = balance - %s WHERE id = %s;"),
            "UPDATE accounts SET balance = balance - '1' WHERE id = '1'"
        );
        assert_eq!(
            run("UPDATE accounts SET balance = ? WHERE id = ?"),
            "UPDATE accounts SET balance = '1' WHERE id = '1'"
        );
        assert_eq!(
            run("UPDATE t SET note = %(note)s WHERE id = %(id)s OR id = %(id)s"),
            "UPDATE t SET note = '1' WHERE id = '1' OR id = '1'"
        );
        assert_eq!(
            run("DELETE FROM t WHERE id = $2"),
            "DELETE FROM t WHERE id = '1'"
        );
    }

    #[test]
    fn numbering_follows_lockgraph_sql_and_overrides_apply() {
        let bind2 = Bind {
            overrides: vec![("$2".into(), "2".into()), ("$3".into(), "3".into())],
        };
        // `%(a)s` is 1, `%(b)s` is 2 (both times), `%s`… would be 3.
        assert_eq!(
            bind("SELECT %(a)s, %(b)s, %(b)s, %(c)s", &bind2, &types),
            "SELECT '1', '2', '2', '3'"
        );
        assert_eq!(
            bind("SELECT ?, ?, ?", &bind2, &types),
            "SELECT '1', '2', '3'"
        );
    }

    #[test]
    fn strings_comments_and_quoted_names_are_not_placeholders() {
        assert_eq!(
            run("SELECT '?', \"it\\'s ?\", `a?` FROM t # why?\nWHERE id = ? -- and ?"),
            "SELECT '?', \"it\\'s ?\", `a?` FROM t # why?\nWHERE id = '1' -- and ?"
        );
        assert_eq!(run("SELECT 'a--b', 1--1"), "SELECT 'a--b', 1--1");
        // `%%` is a literal `%` only when the driver formats the text.
        assert_eq!(
            run("SELECT * FROM t WHERE note LIKE 'a%%' AND id = %s"),
            "SELECT * FROM t WHERE note LIKE 'a%' AND id = '1'"
        );
        assert_eq!(run("SELECT 5 %% 3, ?"), "SELECT 5 %% 3, '1'");
    }

    #[test]
    fn literals_fit_their_columns() {
        assert_eq!(
            run(
                "INSERT INTO ledger (account_id, created_at, `Day`, status) VALUES (%s, %s, %s, %s)"
            ),
            "INSERT INTO ledger (account_id, created_at, `Day`, status) VALUES ('1', '2000-01-01 00:00:00', '2000-01-01', 'new')"
        );
        assert_eq!(
            run(
                "INSERT INTO t (id, note) VALUES (?, ?), (?, NOW()) ON DUPLICATE KEY UPDATE created_at = ?"
            ),
            "INSERT INTO t (id, note) VALUES ('1', '1'), ('1', NOW()) ON DUPLICATE KEY UPDATE created_at = '2000-01-01 00:00:00'"
        );
        assert_eq!(
            run("UPDATE t SET `day` = ? WHERE id IN (?, ?) AND created_at >= ?"),
            "UPDATE t SET `day` = '2000-01-01' WHERE id IN ('1', '1') AND created_at >= '2000-01-01 00:00:00'"
        );
        assert_eq!(literal("2", Some("DATE")), "'2000-01-02'");
        assert_eq!(literal("2", Some("enum('a','b')")), "'b'");
        assert_eq!(literal("7", Some("enum('a','b')")), "'a'");
        assert_eq!(literal("1", Some("bit(1)")), "1");
        assert_eq!(literal("1", None), "'1'");
    }

    #[test]
    fn dummy_values() {
        assert_eq!(dummy_value("tinyint(1)", "t", 1).as_deref(), Some("0"));
        assert_eq!(
            dummy_value("DECIMAL(12,2)", "t", 1).as_deref(),
            Some("1000000")
        );
        assert_eq!(
            dummy_value("int unsigned", "t", 1).as_deref(),
            Some("1000000")
        );
        assert_eq!(dummy_value("datetime(6)", "t", 1).as_deref(), Some("NOW()"));
        assert_eq!(dummy_value("enum('x','y')", "t", 1).as_deref(), Some("'x'"));
        assert_eq!(
            dummy_value("varchar(6)", "orders", 3).as_deref(),
            Some("'seed-3'")
        );
        assert_eq!(
            dummy_value("longtext", "orders", 3).as_deref(),
            Some("'seed-orders-3'")
        );
        assert_eq!(dummy_value("geometry", "t", 1), None);
    }
}
