//! Splitting a SQL file into statements.

use crate::lexer::{Kind, Token, tokenize, tokenize_checked};

/// One statement of a file, as written (without its terminating semicolon).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawStatement {
    /// The statement text, from its first token to the end of its last one (inner comments kept).
    pub text: String,
    /// 1-based line of the statement's first token (leading comments skipped).
    pub line: u32,
    /// Byte offset of the first token in the file.
    pub offset: usize,
}

/// Splits a file into statements on semicolons outside strings, quoted identifiers, dollar
/// quotes, comments, parentheses and `BEGIN ATOMIC … END` function bodies.
///
/// psql meta-commands (a line starting with `\`) are skipped, and so is the data block that
/// follows `COPY … FROM STDIN` (up to its `\.` line), as found in `pg_dump` output.
///
/// ```
/// let stmts = lockgraph_sql::split_statements("-- hi\nBEGIN;\nUPDATE t SET a = ';' WHERE id = 1;\n");
/// assert_eq!(stmts.len(), 2);
/// assert_eq!((stmts[1].text.as_str(), stmts[1].line), ("UPDATE t SET a = ';' WHERE id = 1", 3));
/// ```
pub fn split_statements(text: &str) -> Vec<RawStatement> {
    let mut out = Vec::new();
    let mut rest_start = 0usize;
    let mut line_base = 0u32;
    // Each round lexes from `rest_start`: rounds restart only after skipped COPY data or psql
    // meta-commands, which the lexer must not see.
    while rest_start < text.len() {
        let chunk = &text[rest_start..];
        let (mut tokens, unterminated) = tokenize_checked(chunk);
        // A `'…'` string or `"…"` identifier left open to the end of the input is most likely a
        // stray quote: it ends with its line, and the lines after it are read again as SQL
        // (its statement is reported as not terminated). Dollar quotes and comments, which
        // span lines by design, run to the end.
        let mut cut_at = None;
        if unterminated
            && let Some(last) = tokens.last()
            && (last.kind == Kind::QuotedIdent
                || (last.kind == Kind::String && !last.text.starts_with('$')))
            && let Some(nl) = last.text.find('\n')
        {
            let eol = last.start + nl + 1;
            cut_at = Some(eol);
            tokens = tokenize(&chunk[..eol]);
        }
        let mut stmt_start: Option<usize> = None; // index into tokens
        let mut depth = 0i32;
        let mut atomic = 0i32;
        let mut restart_at: Option<usize> = None;
        let mut i = 0;
        while i < tokens.len() {
            let t = &tokens[i];
            if stmt_start.is_none() {
                // A psql meta-command: a backslash first on its line, outside any statement.
                if t.text == "\\" && at_line_start(chunk, t.start) {
                    let eol = chunk[t.start..]
                        .find('\n')
                        .map(|p| t.start + p + 1)
                        .unwrap_or(chunk.len());
                    restart_at = Some(eol);
                    break;
                }
                if t.is(";") {
                    i += 1;
                    continue;
                }
                stmt_start = Some(i);
                depth = 0;
                atomic = 0;
            }
            match (t.kind, t.text) {
                (Kind::Punct, "(") | (Kind::Punct, "[") => depth += 1,
                (Kind::Punct, ")") | (Kind::Punct, "]") => depth = (depth - 1).max(0),
                (Kind::Word, _)
                    if t.is_word("ATOMIC") && i > 0 && tokens[i - 1].is_word("BEGIN") =>
                {
                    atomic += 1;
                }
                (Kind::Word, _) if atomic > 0 && (t.is_word("CASE") || t.is_word("BEGIN")) => {
                    atomic += 1
                }
                (Kind::Word, _) if atomic > 0 && t.is_word("END") => atomic -= 1,
                _ => {}
            }
            let ends = t.is(";") && depth == 0 && atomic == 0;
            let last = i + 1 == tokens.len();
            if ends || last {
                let first = stmt_start.take().unwrap_or(i);
                let end_tok = if ends { i.checked_sub(1) } else { Some(i) };
                if let Some(end_tok) = end_tok.filter(|e| *e >= first) {
                    let (a, b) = (tokens[first].start, tokens[end_tok].end());
                    out.push(RawStatement {
                        text: chunk[a..b].to_string(),
                        line: line_base + tokens[first].line,
                        offset: rest_start + a,
                    });
                    if ends && is_copy_from_stdin(&tokens[first..=end_tok]) {
                        // Data follows on the next line, up to a line holding `\.`.
                        let after = chunk[t.end()..]
                            .find('\n')
                            .map(|p| t.end() + p + 1)
                            .unwrap_or(chunk.len());
                        restart_at = Some(end_of_copy_data(chunk, after));
                        break;
                    }
                }
            }
            i += 1;
        }
        match restart_at.or(cut_at) {
            Some(at) => {
                line_base += chunk[..at].matches('\n').count() as u32;
                rest_start += at;
            }
            None => break,
        }
    }
    out
}

fn at_line_start(text: &str, pos: usize) -> bool {
    text[..pos]
        .rsplit('\n')
        .next()
        .is_some_and(|l| l.trim().is_empty())
}

fn is_copy_from_stdin(tokens: &[Token<'_>]) -> bool {
    tokens.first().is_some_and(|t| t.is_word("COPY"))
        && tokens
            .windows(2)
            .any(|w| w[0].is_word("FROM") && w[1].is_word("STDIN"))
}

/// The offset just past the `\.` line that ends COPY data starting at `from` (or the end).
fn end_of_copy_data(text: &str, from: usize) -> usize {
    let mut pos = from;
    while pos < text.len() {
        let eol = text[pos..]
            .find('\n')
            .map(|p| pos + p + 1)
            .unwrap_or(text.len());
        if text[pos..eol].trim_end() == "\\." {
            return eol;
        }
        pos = eol;
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(String, u32)> {
        split_statements(s)
            .into_iter()
            .map(|r| (r.text, r.line))
            .collect()
    }

    #[test]
    fn a_stray_quote_ends_with_its_line_and_a_dollar_quote_runs_to_the_end() {
        assert_eq!(
            texts("UPDATE a SET n = 'open WHERE id = 1;\nUPDATE b SET n = 1;\nSELECT \"x;\n"),
            [
                ("UPDATE a SET n = 'open WHERE id = 1;\n".to_string(), 1),
                ("UPDATE b SET n = 1".to_string(), 2),
                ("SELECT \"x;\n".to_string(), 3),
            ]
        );
        assert_eq!(
            texts("SELECT 1;\nDO $$ BEGIN\nUPDATE a SET n = 1;\n"),
            [
                ("SELECT 1".to_string(), 1),
                ("DO $$ BEGIN\nUPDATE a SET n = 1;\n".to_string(), 2),
            ]
        );
    }

    #[test]
    fn splits_on_top_level_semicolons() {
        let sql = "BEGIN;\n-- comment; here\nUPDATE a SET x = 'a;b' WHERE \"we;ird\" = 1;\n/* block; /* nested; */ */ SELECT $$;$$, $t$ ; $t$;\nCOMMIT";
        assert_eq!(
            texts(sql),
            vec![
                ("BEGIN".into(), 1),
                ("UPDATE a SET x = 'a;b' WHERE \"we;ird\" = 1".into(), 3),
                ("SELECT $$;$$, $t$ ; $t$".into(), 4),
                ("COMMIT".into(), 5),
            ]
        );
    }

    #[test]
    fn escapes_and_empty_statements() {
        assert_eq!(
            texts(";;SELECT E'\\';'; ;"),
            vec![("SELECT E'\\';'".into(), 1)]
        );
        assert_eq!(texts("  -- only a comment\n"), vec![]);
        assert_eq!(texts("SELECT 1 -- trailing"), vec![("SELECT 1".into(), 1)]);
    }

    #[test]
    fn begin_atomic_bodies_stay_whole() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND;\nSELECT 3;";
        let got = texts(sql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].0.ends_with("END"));
        assert_eq!(got[1], ("SELECT 3".into(), 6));
    }

    #[test]
    fn parentheses_hold_semicolons() {
        assert_eq!(texts("SELECT (1;2); SELECT 3").len(), 2);
    }

    #[test]
    fn pg_dump_copy_data_and_meta_commands_are_skipped() {
        let sql =
            "\\connect shop\nCOPY public.t (a, b) FROM stdin;\n1\t'x;\n2\ty\n\\.\nSELECT 1;\n";
        assert_eq!(
            texts(sql),
            vec![
                ("COPY public.t (a, b) FROM stdin".into(), 2),
                ("SELECT 1".into(), 6)
            ]
        );
    }
}
