//! A small, tolerant PostgreSQL lexer: the one place that knows where strings, quoted
//! identifiers, dollar quotes and comments begin and end.
//!
//! It never fails: an unterminated string or comment runs to the end of the input. Whitespace
//! and comments are not tokens; each token records whether any came before it, which is all that
//! splitting, redaction and fingerprinting need.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An unquoted word: keyword or identifier.
    Word,
    /// A `"quoted"` (or `U&"…"`) identifier.
    QuotedIdent,
    /// A string literal: `'…'`, `E'…'`, `B'…'`, `X'…'`, `N'…'`, `U&'…'`, `$tag$…$tag$`.
    String,
    /// A numeric literal, including a folded unary minus (`-1`).
    Number,
    /// A positional parameter `$1`.
    Param,
    /// A driver placeholder: `?`, `%s`, `%(name)s`.
    Placeholder,
    /// An operator (`=`, `<>`, `::`, `->>`, …).
    Op,
    /// One of `( ) [ ] , ; .` and `:` on its own.
    Punct,
}

impl Kind {
    /// Literals are what redaction hides.
    pub(crate) fn is_literal(self) -> bool {
        matches!(self, Kind::String | Kind::Number)
    }
}

/// One token, borrowing the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    /// Byte offset in the input.
    pub start: usize,
    /// 1-based line of the first byte.
    pub line: u32,
    /// Whether whitespace or a comment separates it from the previous token.
    pub space_before: bool,
}

impl Token<'_> {
    /// Whether this is the unquoted word `kw` (case-insensitive).
    pub(crate) fn is_word(&self, kw: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(kw)
    }

    /// Whether this is the punctuation or operator `p`.
    pub(crate) fn is(&self, p: &str) -> bool {
        matches!(self.kind, Kind::Punct | Kind::Op) && self.text == p
    }

    /// Byte offset just past the token.
    pub(crate) fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

const OP_CHARS: &[u8] = b"+-*/<>=~!@#%^&|`?";

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Splits `text` into tokens (comments and whitespace dropped).
pub(crate) fn tokenize(text: &str) -> Vec<Token<'_>> {
    tokenize_checked(text).0
}

/// [`tokenize`], also telling whether a string, quoted identifier or comment ran to the end of
/// the input unterminated.
pub(crate) fn tokenize_checked(text: &str) -> (Vec<Token<'_>>, bool) {
    let mut lx = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        out: Vec::new(),
        unterminated: false,
    };
    lx.run();
    fold_placeholders(text, &mut lx.out);
    (lx.out, lx.unterminated)
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    out: Vec<Token<'a>>,
    unterminated: bool,
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    /// Advances to `to`, counting newlines.
    fn advance_to(&mut self, to: usize) {
        let to = to.min(self.bytes.len());
        self.line += self.bytes[self.pos..to]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32;
        self.pos = to;
    }

    fn push(&mut self, kind: Kind, start: usize, line: u32, space_before: bool) {
        self.out.push(Token {
            kind,
            text: &self.text[start..self.pos],
            start,
            line,
            space_before,
        });
    }

    fn run(&mut self) {
        let mut space = false;
        while self.pos < self.bytes.len() {
            let c = self.peek(0);
            let (start, line) = (self.pos, self.line);
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => {
                    self.advance_to(self.pos + 1);
                    space = true;
                    continue;
                }
                b'-' if self.peek(1) == b'-' => {
                    let end = memchr_from(self.bytes, self.pos, b'\n');
                    self.advance_to(end);
                    space = true;
                    continue;
                }
                b'/' if self.peek(1) == b'*' => {
                    self.block_comment();
                    space = true;
                    continue;
                }
                b'\'' => {
                    self.quoted(b'\'', false);
                    self.push(Kind::String, start, line, space);
                }
                b'"' => {
                    self.quoted(b'"', false);
                    self.push(Kind::QuotedIdent, start, line, space);
                }
                b'$' if self.peek(1).is_ascii_digit() => {
                    let mut end = self.pos + 1;
                    while end < self.bytes.len() && self.bytes[end].is_ascii_digit() {
                        end += 1;
                    }
                    self.advance_to(end);
                    self.push(Kind::Param, start, line, space);
                }
                b'$' if self.dollar_tag().is_some() => {
                    let tag_len = self.dollar_tag().unwrap_or(2);
                    let tag = &self.text[self.pos..self.pos + tag_len];
                    let body_start = self.pos + tag_len;
                    let end = match self.text[body_start..].find(tag) {
                        Some(i) => body_start + i + tag_len,
                        None => {
                            self.unterminated = true;
                            self.bytes.len()
                        }
                    };
                    self.advance_to(end);
                    self.push(Kind::String, start, line, space);
                }
                b'0'..=b'9' => {
                    self.number();
                    self.push(Kind::Number, start, line, space);
                }
                b'.' if self.peek(1).is_ascii_digit() => {
                    self.number();
                    self.push(Kind::Number, start, line, space);
                }
                b'(' | b')' | b'[' | b']' | b',' | b';' | b'.' => {
                    self.advance_to(self.pos + 1);
                    self.push(Kind::Punct, start, line, space);
                }
                b':' => {
                    let len = if matches!(self.peek(1), b':' | b'=') {
                        2
                    } else {
                        1
                    };
                    self.advance_to(self.pos + len);
                    let kind = if len == 2 { Kind::Op } else { Kind::Punct };
                    self.push(kind, start, line, space);
                }
                _ if OP_CHARS.contains(&c) => {
                    self.operator();
                    self.push(Kind::Op, start, line, space);
                }
                _ => {
                    let ch = self.text[self.pos..].chars().next().unwrap_or(' ');
                    if is_ident_start(ch) {
                        self.word(start, line, space);
                    } else {
                        // Anything else (`\`, stray bytes) is a one-character operator.
                        self.advance_to(self.pos + ch.len_utf8());
                        self.push(Kind::Op, start, line, space);
                    }
                }
            }
            space = false;
        }
    }

    /// A word, or a prefixed literal / identifier (`E'…'`, `B'…'`, `X'…'`, `N'…'`, `U&'…'`, `U&"…"`).
    fn word(&mut self, start: usize, line: u32, space: bool) {
        let c0 = self.peek(0).to_ascii_uppercase();
        if matches!(c0, b'E' | b'B' | b'X' | b'N') && self.peek(1) == b'\'' {
            self.advance_to(self.pos + 1);
            self.quoted(b'\'', c0 == b'E');
            self.push(Kind::String, start, line, space);
            return;
        }
        if c0 == b'U' && self.peek(1) == b'&' && matches!(self.peek(2), b'\'' | b'"') {
            let q = self.peek(2);
            self.advance_to(self.pos + 2);
            self.quoted(q, false);
            let kind = if q == b'"' {
                Kind::QuotedIdent
            } else {
                Kind::String
            };
            self.push(kind, start, line, space);
            return;
        }
        let end = self.text[self.pos..]
            .char_indices()
            .find(|(_, ch)| !is_ident_char(*ch))
            .map(|(i, _)| self.pos + i)
            .unwrap_or(self.bytes.len());
        self.advance_to(end);
        self.push(Kind::Word, start, line, space);
    }

    /// Consumes a quoted run starting at the opening quote; doubled quotes escape, and so do
    /// backslashes when `backslash` (E'' strings).
    fn quoted(&mut self, q: u8, backslash: bool) {
        let mut i = self.pos + 1;
        while i < self.bytes.len() {
            let b = self.bytes[i];
            if backslash && b == b'\\' {
                i += 2;
                continue;
            }
            if b == q {
                if self.bytes.get(i + 1) == Some(&q) {
                    i += 2;
                    continue;
                }
                i += 1;
                self.advance_to(i);
                return;
            }
            i += 1;
        }
        self.unterminated = true;
        self.advance_to(self.bytes.len());
    }

    /// Length of a `$tag$` opener at the current position, if there is one.
    fn dollar_tag(&self) -> Option<usize> {
        let rest = &self.text[self.pos + 1..];
        for (i, ch) in rest.char_indices() {
            if ch == '$' {
                return Some(i + 2);
            }
            let ok = if i == 0 {
                is_ident_start(ch)
            } else {
                ch.is_alphanumeric() || ch == '_'
            };
            if !ok {
                return None;
            }
        }
        None
    }

    fn block_comment(&mut self) {
        let mut depth = 0usize;
        let mut i = self.pos;
        while i < self.bytes.len() {
            if self.bytes[i] == b'/' && self.bytes.get(i + 1) == Some(&b'*') {
                depth += 1;
                i += 2;
            } else if self.bytes[i] == b'*' && self.bytes.get(i + 1) == Some(&b'/') {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    break;
                }
            } else {
                i += 1;
            }
        }
        if depth > 0 {
            self.unterminated = true;
        }
        self.advance_to(i);
    }

    fn number(&mut self) {
        let b = self.bytes;
        let mut i = self.pos;
        if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')) {
            i += 2;
            while i < b.len() && (b[i].is_ascii_hexdigit() || b[i] == b'_') {
                i += 1;
            }
            self.advance_to(i);
            return;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
        // A fraction, but not the `..` of a range nor a `.` before a word.
        if i < b.len() && b[i] == b'.' && b.get(i + 1) != Some(&b'.') {
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                i += 1;
            }
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            let mut j = i + 1;
            if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                j += 1;
            }
            if j < b.len() && b[j].is_ascii_digit() {
                i = j;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        self.advance_to(i);
    }

    /// An operator, following PostgreSQL's rules: a run of operator characters that stops before
    /// `--` or `/*`, and that may not end in `+` or `-` unless it holds one of ``~!@#%^&|`?``.
    fn operator(&mut self) {
        let b = self.bytes;
        let mut end = self.pos;
        while end < b.len() && OP_CHARS.contains(&b[end]) {
            if end > self.pos
                && ((b[end] == b'-' && b.get(end + 1) == Some(&b'-'))
                    || (b[end] == b'/' && b.get(end + 1) == Some(&b'*')))
            {
                break;
            }
            end += 1;
        }
        let run = &b[self.pos..end];
        if run.len() > 1 && !run.iter().any(|c| b"~!@#%^&|`?".contains(c)) {
            while end > self.pos + 1 && matches!(b[end - 1], b'+' | b'-') {
                end -= 1;
            }
        }
        self.advance_to(end);
    }
}

fn memchr_from(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|b| *b == needle)
        .map(|i| from + i)
        .unwrap_or(bytes.len())
}

/// Words after which a `?` is a value (a JDBC placeholder), not the jsonb `?` operator.
const VALUE_CONTEXT_WORDS: &[&str] = &[
    "select",
    "values",
    "where",
    "and",
    "or",
    "not",
    "in",
    "is",
    "like",
    "ilike",
    "between",
    "then",
    "else",
    "when",
    "limit",
    "offset",
    "by",
    "returning",
    "set",
    "on",
    "as",
    "any",
    "all",
    "using",
    "having",
    "case",
    "distinct",
    "from",
    "fetch",
    "first",
    "next",
];

/// Folds driver placeholders (`?`, `%s`, `%(name)s`) into single [`Kind::Placeholder`] tokens and
/// a unary minus before a number into the number.
fn fold_placeholders<'a>(text: &'a str, tokens: &mut Vec<Token<'a>>) {
    let mut out: Vec<Token<'a>> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let prev = out.last();
        let value_position = match prev {
            None => true,
            Some(p) => match p.kind {
                Kind::Punct => matches!(p.text, "(" | "," | "["),
                Kind::Op => p.text != ")",
                Kind::Word => VALUE_CONTEXT_WORDS
                    .iter()
                    .any(|w| p.text.eq_ignore_ascii_case(w)),
                _ => false,
            },
        };
        if t.kind == Kind::Op && t.text == "%" {
            if let Some(n) = tokens
                .get(i + 1)
                .filter(|n| !n.space_before && n.kind == Kind::Word)
                && matches!(n.text, "s" | "b" | "t")
            {
                out.push(merge(text, t, *n, Kind::Placeholder));
                i += 2;
                continue;
            }
            // %(name)s
            if let [open, name, close, s] = tokens.get(i + 1..i + 5).unwrap_or(&[])
                && open.is("(")
                && close.is(")")
                && s.kind == Kind::Word
                && s.text == "s"
                && !open.space_before
                && !name.space_before
                && !close.space_before
                && !s.space_before
                && name.kind == Kind::Word
            {
                out.push(merge(text, t, *s, Kind::Placeholder));
                i += 5;
                continue;
            }
        }
        if t.kind == Kind::Op && t.text == "?" && value_position {
            out.push(Token {
                kind: Kind::Placeholder,
                ..t
            });
            i += 1;
            continue;
        }
        if t.kind == Kind::Op
            && t.text == "-"
            && value_position
            && let Some(n) = tokens
                .get(i + 1)
                .filter(|n| !n.space_before && n.kind == Kind::Number)
        {
            out.push(merge(text, t, *n, Kind::Number));
            i += 2;
            continue;
        }
        out.push(t);
        i += 1;
    }
    *tokens = out;
}

/// One token spanning `a` through `b`, two tokens of `text`.
fn merge<'a>(text: &'a str, a: Token<'a>, b: Token<'a>, kind: Kind) -> Token<'a> {
    Token {
        kind,
        text: &text[a.start..b.end()],
        start: a.start,
        line: a.line,
        space_before: a.space_before,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(Kind, &str)> {
        tokenize(s).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn strings_comments_and_dollar_quotes() {
        let toks = kinds(
            "SELECT 'a;''b', E'x\\'y', $fn$ ; $$ $fn$, \"Q;\" -- c;\n/* a /* nested */ ; */ 1",
        );
        assert_eq!(
            toks,
            vec![
                (Kind::Word, "SELECT"),
                (Kind::String, "'a;''b'"),
                (Kind::Punct, ","),
                (Kind::String, "E'x\\'y'"),
                (Kind::Punct, ","),
                (Kind::String, "$fn$ ; $$ $fn$"),
                (Kind::Punct, ","),
                (Kind::QuotedIdent, "\"Q;\""),
                (Kind::Number, "1"),
            ]
        );
    }

    #[test]
    fn operators_follow_postgres_rules() {
        assert_eq!(
            kinds("a=-1"),
            vec![(Kind::Word, "a"), (Kind::Op, "="), (Kind::Number, "-1")]
        );
        assert_eq!(
            kinds("a - 1"),
            vec![(Kind::Word, "a"), (Kind::Op, "-"), (Kind::Number, "1")]
        );
        assert_eq!(kinds("x->>'k'")[1], (Kind::Op, "->>"));
        assert_eq!(kinds("a::int")[1], (Kind::Op, "::"));
        assert_eq!(kinds("a<>b")[1], (Kind::Op, "<>"));
    }

    #[test]
    fn placeholders() {
        assert_eq!(kinds("id = %s")[2], (Kind::Placeholder, "%s"));
        assert_eq!(
            kinds("id = %(user_id)s")[2],
            (Kind::Placeholder, "%(user_id)s")
        );
        assert_eq!(kinds("id = ?")[2], (Kind::Placeholder, "?"));
        assert_eq!(kinds("(?, ?)")[3], (Kind::Placeholder, "?"));
        // jsonb's `?` operator stays an operator.
        assert_eq!(kinds("data ? 'k'")[1], (Kind::Op, "?"));
        assert_eq!(kinds("a % b")[1], (Kind::Op, "%"));
    }

    #[test]
    fn unterminated_input_runs_to_the_end() {
        assert_eq!(
            kinds("SELECT 'abc"),
            vec![(Kind::Word, "SELECT"), (Kind::String, "'abc")]
        );
        assert_eq!(kinds("SELECT /* x"), vec![(Kind::Word, "SELECT")]);
        assert_eq!(kinds("$$abc").len(), 1);
    }

    #[test]
    fn lines_are_counted() {
        let toks = tokenize("-- c\n\nSELECT\n 'a\nb' x");
        assert_eq!(toks[0].line, 3);
        assert_eq!(toks[1].line, 4);
        assert_eq!(toks[2].line, 5);
    }
}
