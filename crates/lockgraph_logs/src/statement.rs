//! Statements in log messages: the logging forms, bind parameters, and a fast shape key.
//!
//! The shape key is the hot path: every logged statement is normalized once, byte by byte,
//! without allocating (literals become `?`, unquoted words lower case, comments and whitespace
//! dropped). Transactions are collapsed on these keys; the full lock inference
//! (`lockgraph_sql`) runs only for the first transaction of each shape.

/// How a statement reached the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StatementMessage<'a> {
    /// The SQL text.
    pub text: &'a str,
    /// Logged before it ran (`statement:`, `execute …:`), as opposed to after (`duration: …`).
    pub before: bool,
    /// An extended-protocol `execute` (its `DETAIL:  parameters:` may follow).
    pub execute: bool,
}

/// Reads the statement-logging forms of a `LOG` message:
/// `statement: …`, `execute <name>: …`, `duration: X ms  statement: …`,
/// `duration: X ms  execute <name>: …`. `parse`/`bind` steps and `execute fetch from` are
/// skipped (they are not new statements).
///
/// ```text
/// statement: UPDATE t SET a = 1
/// execute S_1: UPDATE t SET a = $1
/// duration: 0.120 ms  statement: COMMIT
/// duration: 0.05 ms  bind S_1: UPDATE t SET a = $1      (skipped)
/// ```
pub(crate) fn parse_statement_message(msg: &str) -> Option<StatementMessage<'_>> {
    let (rest, before) = match msg.strip_prefix("duration: ") {
        Some(after) => {
            // `duration: 0.123 ms  statement: …`
            let pos = find(after, " ms  ")?;
            (&after[pos + 5..], false)
        }
        None => (msg, true),
    };
    if let Some(text) = rest.strip_prefix("statement: ") {
        return Some(StatementMessage {
            text,
            before,
            execute: false,
        });
    }
    if let Some(after) = rest.strip_prefix("execute ") {
        let colon = find(after, ": ")?;
        let name = &after[..colon];
        if name.starts_with("fetch from ") {
            return None;
        }
        return Some(StatementMessage {
            text: &after[colon + 2..],
            before,
            execute: true,
        });
    }
    None
}

/// The first occurrence of a short `needle` (no searcher set up: these needles are tiny and the
/// haystacks are single messages).
pub(crate) fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    memchr::memchr_iter(first, h).find(|&i| h[i..].starts_with(n))
}

/// Parses `parameters: $1 = '42', $2 = NULL` (a `DETAIL` line) into the byte ranges of the
/// values as printed, indexed by parameter number (1-based; gaps are `None`). `out` is reused.
pub(crate) fn parse_parameters(detail: &str, out: &mut Vec<Option<(usize, usize)>>) {
    out.clear();
    let Some(base) = find(detail, "parameters: ").map(|p| p + 12) else {
        return;
    };
    let b = detail.as_bytes();
    let mut i = base;
    while i < b.len() {
        while i < b.len() && matches!(b[i], b' ' | b',' | b'\n' | b'\t') {
            i += 1;
        }
        if i >= b.len() || b[i] != b'$' {
            break;
        }
        let ns = i + 1;
        let mut ne = ns;
        while ne < b.len() && b[ne].is_ascii_digit() {
            ne += 1;
        }
        let Ok(n) = detail[ns..ne].parse::<usize>() else {
            break;
        };
        if !detail[ne..].starts_with(" = ") || n == 0 || n > 65_535 {
            break;
        }
        let vs = ne + 3;
        let ve = if b.get(vs) == Some(&b'\'') {
            let mut k = vs + 1;
            loop {
                match memchr::memchr(b'\'', &b[k..]) {
                    Some(off) if b.get(k + off + 1) == Some(&b'\'') => k += off + 2,
                    Some(off) => break k + off + 1,
                    None => break b.len(),
                }
            }
        } else {
            vs + b[vs..]
                .iter()
                .take_while(|c| **c != b',' && **c != b'\n')
                .count()
        };
        if out.len() < n {
            out.resize(n, None);
        }
        out[n - 1] = Some((vs, ve));
        i = ve;
    }
}

/// Replaces `$n` placeholders outside quoted strings and identifiers with `value(n)`, so key
/// values are known. Placeholders without a value stay as they are.
pub(crate) fn substitute_parameters<'v>(
    sql: &str,
    value: impl Fn(usize) -> Option<&'v str>,
    out: &mut String,
) {
    out.clear();
    let b = sql.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while let Some(off) = memchr::memchr3(b'\'', b'"', b'$', &b[i.min(b.len())..]) {
        i += off;
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                loop {
                    match memchr::memchr(q, &b[i.min(b.len())..]) {
                        Some(o) if b.get(i + o + 1) == Some(&q) => i += o + 2,
                        Some(o) => {
                            i += o + 1;
                            break;
                        }
                        None => {
                            i = b.len();
                            break;
                        }
                    }
                }
            }
            _ if b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !is_word_byte(b[i - 1])) =>
            {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let n: usize = sql[i + 1..j].parse().unwrap_or(0);
                if let Some(v) = value(n) {
                    out.push_str(&sql[copied..i]);
                    out.push_str(v);
                    copied = j;
                }
                i = j;
            }
            _ => {
                // A dollar-quoted string: `$$…$$` or `$tag$…$tag$`.
                let tag_len = b[i + 1..]
                    .iter()
                    .take_while(|c| is_word_byte(**c) && **c != b'$')
                    .count();
                if b.get(i + 1 + tag_len) == Some(&b'$') && (i == 0 || !is_word_byte(b[i - 1])) {
                    let tag = &b[i..i + tag_len + 2];
                    let body = i + tag.len();
                    i = match memchr::memmem::find(&b[body..], tag) {
                        Some(off) => body + off + tag.len(),
                        None => b.len(),
                    };
                } else {
                    i += 1;
                }
            }
        }
    }
    out.push_str(&sql[copied..]);
}

/// `statement: EXECUTE name(args)` is logged with `DETAIL:  prepare: PREPARE name [(types)] AS
/// body`: writes the prepared body with the arguments in place of `$n` into `out`.
pub(crate) fn expand_execute(text: &str, detail: &str, out: &mut String) -> bool {
    let t = text.trim_start();
    if !t
        .get(..8)
        .is_some_and(|w| w.eq_ignore_ascii_case("execute "))
    {
        return false;
    }
    let Some(prep) = detail.strip_prefix("prepare: ") else {
        return false;
    };
    let lower = prep.to_ascii_lowercase();
    let Some(at) = find(&lower, " as ").or_else(|| find(&lower, "\nas ")) else {
        return false;
    };
    let body = prep[at + 4..].trim();
    let mut args: Vec<Option<&str>> = Vec::new();
    if let Some(open) = t.find('(') {
        let b = t.as_bytes();
        let (mut depth, mut start, mut i) = (0usize, open + 1, open + 1);
        let mut quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    b'\'' | b'"' => quote = Some(c),
                    b'(' => depth += 1,
                    b')' if depth == 0 => {
                        args.push(Some(t[start..i].trim()));
                        break;
                    }
                    b')' => depth -= 1,
                    b',' if depth == 0 => {
                        args.push(Some(t[start..i].trim()));
                        start = i + 1;
                    }
                    _ => {}
                },
            }
            i += 1;
        }
    }
    substitute_parameters(
        body,
        |n| args.get(n.checked_sub(1)?).copied().flatten(),
        out,
    );
    true
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Appends the shape key of `sql` to `out`: the text as written, with string and numeric
/// literals and dollar-quoted bodies as `?`, each comment as one space, leading and trailing
/// whitespace, comments and semicolons dropped. Returns whether a `;` is left outside quotes and
/// comments (a multi-statement query string), which the caller then splits.
///
/// Whitespace and case are kept: copying runs of plain text is what makes this fast, and
/// statements that differ only in spacing or case get the same fingerprint, which merges their
/// shapes at the end. Statements with equal keys have the same tokens up to literal values, so
/// the same literal-free template in `lockgraph_sql` (the key is never coarser than the
/// inference's own cache key) and the same redacted text.
pub(crate) fn normalize_into(sql: &str, out: &mut Vec<u8>) -> bool {
    let mut b = sql.as_bytes();
    while let [rest @ .., last] = b
        && (last.is_ascii_whitespace() || *last == b';')
    {
        b = rest;
    }
    let n = b.len();
    out.reserve(n + 8);
    let start = out.len();
    let mut i = skip_space_and_comments(b, 0);
    let mut plain = i;
    let mut inner_semicolon = false;
    macro_rules! literal {
        ($marker:expr) => {
            out.extend_from_slice(&b[plain..i]);
            out.extend_from_slice($marker);
        };
    }
    while i < n {
        match CLASS[b[i] as usize] {
            C_WORD => {
                i += 1;
                while i < n && CLASS[b[i] as usize] & C_WORDISH != 0 {
                    i += 1;
                }
            }
            C_DIGIT => {
                literal!(b"?");
                i += 1;
                while i < n && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                    if (b[i] == b'e' || b[i] == b'E') && matches!(b.get(i + 1), Some(b'+' | b'-')) {
                        i += 1;
                    }
                    i += 1;
                }
                plain = i;
            }
            C_DOT if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                literal!(b"?");
                i += 1;
                while i < n && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                plain = i;
            }
            C_QUOTE => {
                // E'…' strings honour backslash escapes.
                let escapes = i >= 1
                    && (b[i - 1] == b'e' || b[i - 1] == b'E')
                    && (i == 1 || CLASS[b[i - 2] as usize] & C_WORDISH == 0);
                literal!(b"?");
                i += 1;
                loop {
                    let found = if escapes {
                        memchr::memchr2(b'\'', b'\\', &b[i.min(n)..])
                    } else {
                        memchr::memchr(b'\'', &b[i.min(n)..])
                    };
                    let Some(off) = found else {
                        i = n;
                        break;
                    };
                    let k = i + off;
                    // A backslash escape, or a doubled quote.
                    if b[k] == b'\\' || b.get(k + 1) == Some(&b'\'') {
                        i = k + 2;
                    } else {
                        i = k + 1;
                        break;
                    }
                }
                i = i.min(n);
                plain = i;
            }
            C_DQUOTE => {
                i += 1;
                loop {
                    match memchr::memchr(b'"', &b[i.min(n)..]) {
                        Some(off) if b.get(i + off + 1) == Some(&b'"') => i += off + 2,
                        Some(off) => {
                            i += off + 1;
                            break;
                        }
                        None => {
                            i = n;
                            break;
                        }
                    }
                }
            }
            C_DOLLAR if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                while i < n && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            C_DOLLAR => {
                let tag_len = b[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c >= 0x80)
                    .count();
                let opens = b.get(i + 1 + tag_len) == Some(&b'$')
                    && (i == 0 || CLASS[b[i - 1] as usize] & C_WORDISH == 0);
                if opens {
                    literal!(b"?");
                    let tag = &b[i..i + tag_len + 2];
                    let body = i + tag.len();
                    i = match memchr::memmem::find(&b[body..], tag) {
                        Some(off) => body + off + tag.len(),
                        None => n,
                    };
                    plain = i;
                } else {
                    i += 1;
                }
            }
            C_DASH if b.get(i + 1) == Some(&b'-') => {
                literal!(b" ");
                i += memchr::memchr(b'\n', &b[i..]).unwrap_or(n - i);
                plain = i;
            }
            C_SLASH if b.get(i + 1) == Some(&b'*') => {
                literal!(b" ");
                i = skip_block_comment(b, i);
                plain = i;
            }
            C_SEMI => {
                inner_semicolon = true;
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.extend_from_slice(&b[plain..n.max(plain)]);
    // A trailing comment leaves a space.
    while out.len() > start && out.last().is_some_and(u8::is_ascii_whitespace) {
        out.pop();
    }
    inner_semicolon
}

/// The end of a (nested) `/* … */` comment starting at `i`.
fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let n = b.len();
    let mut depth = 0usize;
    while i < n {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    n
}

/// Past whitespace and comments from `i`.
fn skip_space_and_comments(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"--") {
            i += memchr::memchr(b'\n', &b[i..]).unwrap_or(b.len() - i);
        } else if b[i..].starts_with(b"/*") {
            i = skip_block_comment(b, i);
        } else {
            return i;
        }
    }
}

const C_OTHER: u8 = 0;
const C_SPACE: u8 = 1;
const C_DIGIT: u8 = 2 | C_WORDISH;
const C_QUOTE: u8 = 3;
const C_DQUOTE: u8 = 4;
const C_DOLLAR: u8 = 5 | C_WORDISH;
const C_DASH: u8 = 6;
const C_SLASH: u8 = 7;
const C_DOT: u8 = 8;
const C_SEMI: u8 = 9;
const C_WORD: u8 = 10 | C_WORDISH;
/// Bytes that continue a word (letters, digits, `_`, `$`, non-ASCII).
const C_WORDISH: u8 = 0x80;

/// Byte classes for [`normalize_into`].
static CLASS: [u8; 256] = {
    let mut t = [C_OTHER; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => C_SPACE,
            b'0'..=b'9' => C_DIGIT,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | 0x80..=0xff => C_WORD,
            b'\'' => C_QUOTE,
            b'"' => C_DQUOTE,
            b'$' => C_DOLLAR,
            b'-' => C_DASH,
            b'/' => C_SLASH,
            b'.' => C_DOT,
            b';' => C_SEMI,
            _ => C_OTHER,
        };
        c += 1;
    }
    t
};

/// Transaction control, read from a shape key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    Begin,
    Commit,
    Rollback,
    /// `COMMIT AND CHAIN` / `ROLLBACK AND CHAIN`: ends the transaction and starts the next.
    Chain,
    Savepoint,
    RollbackTo,
    Release,
    Other,
}

/// Classifies a normalized statement (see [`normalize_into`]).
pub(crate) fn control(norm: &[u8]) -> Control {
    let first_len = norm
        .iter()
        .position(|c| !c.is_ascii_alphanumeric() && *c != b'_')
        .unwrap_or(norm.len());
    if !(3..=9).contains(&first_len) {
        return Control::Other;
    }
    let mut first = [0u8; 9];
    first[..first_len].copy_from_slice(&norm[..first_len]);
    first.make_ascii_lowercase();
    let first = &first[..first_len];
    if !matches!(
        first,
        b"begin"
            | b"start"
            | b"commit"
            | b"end"
            | b"prepare"
            | b"abort"
            | b"rollback"
            | b"savepoint"
            | b"release"
    ) {
        return Control::Other;
    }
    // A control statement: fold its words (keys keep the case and spacing as written).
    let lower = norm.to_ascii_lowercase();
    let words: Vec<&[u8]> = lower
        .split(|c| !c.is_ascii_alphanumeric() && *c != b'_')
        .filter(|w| !w.is_empty())
        .collect();
    let word = |k: usize| words.get(k).copied().unwrap_or_default();
    let second = word(1);
    let chain = || words.windows(2).any(|w| w[0] == b"and" && w[1] == b"chain");
    match first {
        b"begin" => Control::Begin,
        b"start" if second == b"transaction" => Control::Begin,
        b"commit" | b"end" if second == b"prepared" => Control::Other,
        b"commit" | b"end" if chain() => Control::Chain,
        b"commit" | b"end" => Control::Commit,
        b"prepare" if second == b"transaction" => Control::Commit,
        b"abort" => Control::Rollback,
        b"rollback" if second == b"prepared" => Control::Other,
        b"rollback" => {
            if second == b"to"
                || ((second == b"work" || second == b"transaction") && word(2) == b"to")
            {
                Control::RollbackTo
            } else if chain() {
                Control::Chain
            } else {
                Control::Rollback
            }
        }
        b"savepoint" => Control::Savepoint,
        b"release" => Control::Release,
        _ => Control::Other,
    }
}

/// The 64-bit hash of a shape key (see [`normalize_into`]): transactions are collapsed on
/// sequences of these. Equal hashes of different keys (odds about 1 in 10^9 for 100,000
/// statement shapes) would merge two shapes.
pub(crate) fn shape_hash(norm: &[u8]) -> u64 {
    use std::hash::Hasher;
    if norm.is_empty() {
        return EMPTY_SHAPE;
    }
    let mut h = rustc_hash::FxHasher::default();
    h.write_usize(norm.len());
    h.write(norm);
    // FxHash mixes weakly in its low bits: finish with a murmur3 avalanche.
    let mut x = h.finish();
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    (x ^ (x >> 33)).max(1)
}

/// The shape hash of an empty statement (nothing but comments or semicolons).
pub(crate) const EMPTY_SHAPE: u64 = 0;

/// A 64-bit hash of raw statement text (to recognise the statement an `ERROR` repeats).
pub(crate) fn text_hash(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write(text.trim().as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> (String, bool) {
        let mut out = Vec::new();
        let semi = normalize_into(s, &mut out);
        (String::from_utf8(out).unwrap(), semi)
    }

    #[test]
    fn statement_forms() {
        fn f(m: &str) -> Option<(&str, bool, bool)> {
            parse_statement_message(m).map(|s| (s.text, s.before, s.execute))
        }
        assert_eq!(f("statement: BEGIN"), Some(("BEGIN", true, false)));
        assert_eq!(
            f("execute <unnamed>: UPDATE t SET a = $1"),
            Some(("UPDATE t SET a = $1", true, true))
        );
        assert_eq!(
            f("execute S_1/C_2: SELECT 1"),
            Some(("SELECT 1", true, true))
        );
        assert_eq!(f("execute fetch from S_1/C_2: SELECT 1"), None);
        assert_eq!(
            f("duration: 0.123 ms  statement: COMMIT"),
            Some(("COMMIT", false, false))
        );
        assert_eq!(
            f("duration: 1.5 ms  execute S_3: DELETE FROM t"),
            Some(("DELETE FROM t", false, true))
        );
        assert_eq!(f("duration: 0.05 ms  parse S_3: DELETE FROM t"), None);
        assert_eq!(f("duration: 0.05 ms  bind S_3: DELETE FROM t"), None);
        assert_eq!(f("duration: 0.05 ms"), None);
        assert_eq!(f("checkpoint starting: time"), None);
    }

    #[test]
    fn parameters_are_parsed_and_substituted() {
        let detail = "parameters: $1 = '42', $2 = 'it''s, here', $3 = NULL, $5 = '7'";
        let mut ranges = Vec::new();
        parse_parameters(detail, &mut ranges);
        let p: Vec<Option<&str>> = ranges
            .iter()
            .map(|r| r.map(|(a, z)| &detail[a..z]))
            .collect();
        assert_eq!(
            p,
            vec![
                Some("'42'"),
                Some("'it''s, here'"),
                Some("NULL"),
                None,
                Some("'7'")
            ]
        );
        let mut out = String::new();
        substitute_parameters(
            "UPDATE t SET a = $2, b = '$1', \"$1\" = $$ $1 $$ WHERE id = $1 AND x = $4 AND y = $5",
            |n| p.get(n.checked_sub(1)?).copied().flatten(),
            &mut out,
        );
        assert_eq!(
            out,
            "UPDATE t SET a = 'it''s, here', b = '$1', \"$1\" = $$ $1 $$ WHERE id = '42' AND x = $4 AND y = '7'"
        );
        parse_parameters("no params", &mut ranges);
        assert!(ranges.is_empty());
    }

    #[test]
    fn sql_level_prepared_statements() {
        let mut out = String::new();
        assert!(expand_execute(
            "EXECUTE upd(5, 'a,b', f(1, 2))",
            "prepare: PREPARE upd (int, text, int) AS UPDATE t SET a = $2, b = $3 WHERE id = $1",
            &mut out
        ));
        assert_eq!(out, "UPDATE t SET a = 'a,b', b = f(1, 2) WHERE id = 5");
        assert!(expand_execute(
            "execute q",
            "prepare: prepare q as SELECT 1",
            &mut out
        ));
        assert_eq!(out, "SELECT 1");
        assert!(!expand_execute(
            "SELECT 1",
            "prepare: PREPARE q AS SELECT 1",
            &mut out
        ));
        assert!(!expand_execute(
            "EXECUTE q",
            "parameters: $1 = '1'",
            &mut out
        ));
    }

    #[test]
    fn shape_keys() {
        assert_eq!(
            norm("UPDATE  Accounts SET balance = balance - 10.5 WHERE id = 42 -- c\n;"),
            (
                "UPDATE  Accounts SET balance = balance - ? WHERE id = ?".into(),
                false
            )
        );
        assert_eq!(
            norm("UPDATE Accounts /* x /* y */ */ SET balance=balance-1 WHERE id=x'7'"),
            (
                "UPDATE Accounts   SET balance=balance-? WHERE id=x?".into(),
                false
            )
        );
        assert_eq!(norm("SELECT e'\\'' ;").0, "SELECT e?");
        assert_eq!(
            norm("SELECT E'a\\'b', 'c''d', $q$ x $q$, $1, \"Mixed\"\"x\", t1.c2, .5 FROM t1"),
            (
                "SELECT E?, ?, ?, $1, \"Mixed\"\"x\", t1.c2, ? FROM t1".into(),
                false
            )
        );
        assert_eq!(
            norm(" /* app */ -- x\n BEGIN;").0,
            "BEGIN",
            "leading comments are dropped"
        );
        assert!(norm("BEGIN; UPDATE t SET a = 1;").1);
        assert!(!norm("COMMIT;;  ").1);
        assert!(!norm("SELECT ';', $$;$$, \";\" -- ;\n /* ; */").1);
        // Unterminated constructs end the scan without panicking.
        for s in [
            "'abc", "\"x", "$a$ body", "/* open", "E'\\", "$", "1e+", ".5.", "--", "/*", "",
        ] {
            let _ = norm(s);
        }
        assert_ne!(norm("UPDATE a SET x = 1").0, norm("UPDATE b SET x = 1").0);
        assert_ne!(norm("SELECT a1").0, norm("SELECT a 1").0);
    }

    #[test]
    fn shape_hashes() {
        assert_eq!(shape_hash(b""), EMPTY_SHAPE);
        assert_ne!(shape_hash(b"a"), EMPTY_SHAPE);
        assert_ne!(
            shape_hash(b"UPDATE a SET x = ?"),
            shape_hash(b"UPDATE b SET x = ?")
        );
        assert_eq!(shape_hash(b"BEGIN"), shape_hash(b"BEGIN"));
    }

    #[test]
    fn control_statements() {
        let c = |s: &str| control(norm(s).0.as_bytes());
        assert_eq!(c("BEGIN"), Control::Begin);
        assert_eq!(c("begin isolation level serializable"), Control::Begin);
        assert_eq!(c("START TRANSACTION READ WRITE"), Control::Begin);
        assert_eq!(c("COMMIT"), Control::Commit);
        assert_eq!(c("end transaction"), Control::Commit);
        assert_eq!(c("COMMIT PREPARED 'x'"), Control::Other);
        assert_eq!(c("PREPARE TRANSACTION 'x'"), Control::Commit);
        assert_eq!(c("commit and chain"), Control::Chain);
        assert_eq!(c("COMMIT\n  AND CHAIN"), Control::Chain);
        assert_eq!(c("begin\nisolation level serializable"), Control::Begin);
        assert_eq!(c("BEGIN;"), Control::Begin);
        assert_eq!(c("beginning_of_table_name"), Control::Other);
        assert_eq!(c("begin_x"), Control::Other);
        assert_eq!(c("commit and no chain"), Control::Commit);
        assert_eq!(c("ROLLBACK"), Control::Rollback);
        assert_eq!(c("abort"), Control::Rollback);
        assert_eq!(c("ROLLBACK TO SAVEPOINT s1"), Control::RollbackTo);
        assert_eq!(c("rollback work to s1"), Control::RollbackTo);
        assert_eq!(c("SAVEPOINT s1"), Control::Savepoint);
        assert_eq!(c("RELEASE s1"), Control::Release);
        assert_eq!(c("/* app */ UPDATE t SET a = 1"), Control::Other);
    }
}
