//! Splitting SQL script text into statements and stand-alone `--` comments, the way psql sees
//! them: `;` ends a statement except inside `'…'` (and `E'…'` with backslash escapes), `"…"`,
//! `$tag$…$tag$`, `-- …` and (nested) `/* … */`.

/// A piece of script text (`lockgraph_core`'s, shared with MySQL's scripts).
pub(crate) use lockgraph_core::ScriptPiece as Piece;

/// Where and why the text could not be split (an unterminated quote or comment).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SplitError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

/// Splits `text` into pieces, in order.
pub(crate) fn split(text: &str) -> Result<Vec<Piece<'_>>, SplitError> {
    let b = text.as_bytes();
    let mut pieces = Vec::new();
    let mut line = 1;
    let mut start: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            _ if c.is_ascii_whitespace() => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                if start.is_none() {
                    pieces.push(Piece::Comment {
                        line,
                        text: text[i + 2..end].trim_end_matches('\r'),
                    });
                }
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let open_line = line;
                let mut depth = 0usize;
                loop {
                    match (b.get(i), b.get(i + 1)) {
                        (Some(b'/'), Some(b'*')) => {
                            depth += 1;
                            i += 2;
                        }
                        (Some(b'*'), Some(b'/')) => {
                            depth -= 1;
                            i += 2;
                            if depth == 0 {
                                break;
                            }
                        }
                        (Some(b'\n'), _) => {
                            line += 1;
                            i += 1;
                        }
                        (Some(_), _) => i += 1,
                        (None, _) => return Err(unterminated(open_line, "/* comment")),
                    }
                }
            }
            b';' => {
                if let Some((s, l)) = start.take() {
                    pieces.push(Piece::Statement {
                        line: l,
                        text: text[s..i].trim_end(),
                    });
                }
                i += 1;
            }
            _ => {
                start.get_or_insert((i, line));
                i = match c {
                    b'\'' => {
                        let escapes = i > 0
                            && matches!(b[i - 1], b'E' | b'e')
                            && (i < 2 || !is_ident(b[i - 2]));
                        skip_quoted(b, i, b'\'', escapes, &mut line)?
                    }
                    b'"' => skip_quoted(b, i, b'"', false, &mut line)?,
                    b'$' if i == 0 || !is_ident(b[i - 1]) => match dollar_tag(b, i) {
                        Some(tag) => skip_dollar(text, i, tag, &mut line)?,
                        None => i + 1,
                    },
                    _ => i + 1,
                };
            }
        }
    }
    if let Some((s, l)) = start {
        pieces.push(Piece::Statement {
            line: l,
            text: text[s..].trim_end(),
        });
    }
    Ok(pieces)
}

fn unterminated(line: usize, what: &str) -> SplitError {
    SplitError {
        line,
        message: format!("unterminated {what}"),
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Skips a quoted literal or identifier starting at `i` (the opening quote); a doubled quote
/// stands for itself. Returns the index after the closing quote.
fn skip_quoted(
    b: &[u8],
    mut i: usize,
    quote: u8,
    backslash_escapes: bool,
    line: &mut usize,
) -> Result<usize, SplitError> {
    let open_line = *line;
    i += 1;
    loop {
        match b.get(i) {
            None => {
                let what = if quote == b'"' {
                    "quoted identifier"
                } else {
                    "string"
                };
                return Err(unterminated(open_line, what));
            }
            Some(&c) if c == quote => {
                if b.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Ok(i + 1);
                }
            }
            Some(b'\\') if backslash_escapes => {
                if b.get(i + 1) == Some(&b'\n') {
                    *line += 1;
                }
                i += 2;
            }
            Some(b'\n') => {
                *line += 1;
                i += 1;
            }
            Some(_) => i += 1,
        }
    }
}

/// The dollar-quote tag (`$$`, `$body$`) starting at `i`, if there is one (`$1` is not).
fn dollar_tag(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        if c == b'$' {
            return Some(j + 1 - i);
        }
        let ok = if j == i + 1 {
            c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
        } else {
            c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
        };
        if !ok {
            return None;
        }
        j += 1;
    }
    None
}

/// Skips a dollar-quoted string whose tag (of `tag_len` bytes) starts at `i`.
fn skip_dollar(
    text: &str,
    i: usize,
    tag_len: usize,
    line: &mut usize,
) -> Result<usize, SplitError> {
    let tag = &text[i..i + tag_len];
    let body = i + tag_len;
    match text[body..].find(tag) {
        Some(n) => {
            *line += text[i..body + n].matches('\n').count();
            Ok(body + n + tag_len)
        }
        None => Err(unterminated(*line, &format!("dollar-quoted string {tag}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(text: &str) -> Vec<&str> {
        split(text)
            .unwrap()
            .into_iter()
            .filter_map(|p| match p {
                Piece::Statement { text, .. } => Some(text),
                Piece::Comment { .. } => None,
            })
            .collect()
    }

    #[test]
    fn semicolons_inside_quotes_and_comments_do_not_split() {
        let text = "SELECT 'a;b', \"x;y\", E'it\\'s;', $$ ; $$, $f$ $$ ; $f$ -- c;\n FROM t /* ; /* ; */ ; */;\nSELECT $1;";
        assert_eq!(
            statements(text),
            [
                "SELECT 'a;b', \"x;y\", E'it\\'s;', $$ ; $$, $f$ $$ ; $f$ -- c;\n FROM t /* ; /* ; */ ; */",
                "SELECT $1"
            ]
        );
    }

    #[test]
    fn comments_and_lines() {
        let text = "-- head\n\nBEGIN;\n-- [session 2]\nUPDATE t\n  SET a = 1 -- inline\n;\nCOMMIT";
        assert_eq!(
            split(text).unwrap(),
            [
                Piece::Comment {
                    line: 1,
                    text: " head"
                },
                Piece::Statement {
                    line: 3,
                    text: "BEGIN"
                },
                Piece::Comment {
                    line: 4,
                    text: " [session 2]"
                },
                Piece::Statement {
                    line: 5,
                    text: "UPDATE t\n  SET a = 1 -- inline"
                },
                Piece::Statement {
                    line: 8,
                    text: "COMMIT"
                },
            ]
        );
    }

    #[test]
    fn strings_count_lines() {
        let text = "SELECT 'a\nb';\n$$x\ny$$;\nSELECT 3;";
        let lines: Vec<usize> = split(text)
            .unwrap()
            .iter()
            .map(|p| match p {
                Piece::Statement { line, .. } | Piece::Comment { line, .. } => *line,
            })
            .collect();
        assert_eq!(lines, [1, 3, 5]);
    }

    #[test]
    fn unterminated_pieces() {
        assert_eq!(split("SELECT 1;\nSELECT 'x").unwrap_err().line, 2);
        assert!(split("SELECT $q$ x").unwrap_err().message.contains("$q$"));
        assert!(split("/* x").unwrap_err().message.contains("comment"));
        assert!(
            split("SELECT \"x")
                .unwrap_err()
                .message
                .contains("identifier")
        );
        // `e'` inside an identifier is not an escape-string prefix.
        assert_eq!(statements("SELECT name'\\';"), ["SELECT name'\\'"]);
    }
}
