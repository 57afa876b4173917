//! `log_line_prefix`: compiled into a matcher, or detected from the first lines of a log.
//!
//! A prefix string (`%m [%p] %q%u@%d `) is compiled into a list of items — literal bytes and
//! fields. Fields with a grammar (timestamps, numbers, session ids, SQLSTATE) are parsed; free-text
//! fields (user, database, application, host, backend type, command tag) end where the next literal
//! matches, with bounded backtracking, so an application name holding the separator still works. A
//! match is only accepted when a severity marker (`LOG:  `, `ERROR:  `, `DETAIL:  `, …) follows,
//! which is what makes detection reliable: a candidate prefix is scored by how many sample lines it
//! matches that way.

use memchr::memmem;

/// Longest prefix region searched (user, database and application names are at most 63 bytes).
const WINDOW: usize = 1024;
/// Match attempts per line (bounds backtracking on hostile lines).
const BUDGET: u32 = 256;

/// Severity of a log entry, as printed before `:  `.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Severity {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Log,
    Fatal,
    Panic,
    /// `DETAIL:` line of the previous message.
    Detail,
    /// `HINT:` line.
    Hint,
    /// `QUERY:` line (internal query).
    Query,
    /// `CONTEXT:` line.
    Context,
    /// `STATEMENT:` line (the client statement that caused the message).
    Statement,
    /// `LOCATION:` line (`log_error_verbosity = verbose`).
    Location,
}

impl Severity {
    /// Whether the line belongs to the previous message of the same process.
    pub(crate) fn is_secondary(self) -> bool {
        matches!(
            self,
            Severity::Detail
                | Severity::Hint
                | Severity::Query
                | Severity::Context
                | Severity::Statement
                | Severity::Location
        )
    }

    /// From the name as printed (csvlog/jsonlog `error_severity`).
    pub(crate) fn from_name(name: &[u8]) -> Option<Severity> {
        Some(match name {
            b"LOG" => Severity::Log,
            b"ERROR" => Severity::Error,
            b"WARNING" => Severity::Warning,
            b"FATAL" => Severity::Fatal,
            b"PANIC" => Severity::Panic,
            b"NOTICE" => Severity::Notice,
            b"INFO" => Severity::Info,
            b"DEBUG" | b"DEBUG1" | b"DEBUG2" | b"DEBUG3" | b"DEBUG4" | b"DEBUG5" => Severity::Debug,
            b"DETAIL" => Severity::Detail,
            b"HINT" => Severity::Hint,
            b"QUERY" => Severity::Query,
            b"CONTEXT" => Severity::Context,
            b"STATEMENT" => Severity::Statement,
            b"LOCATION" => Severity::Location,
            _ => return None,
        })
    }
}

/// Reads a severity marker at the start of `b`: `LOG:  ` (two spaces; one is tolerated at the end
/// of the line). Returns the severity and the length of the marker.
pub(crate) fn parse_severity(b: &[u8]) -> Option<(Severity, usize)> {
    let name_len = |name: &[u8]| b.starts_with(name).then_some(name.len());
    let (sev, colon) = match *b.first()? {
        b'L' => name_len(b"LOG:")
            .map(|n| (Severity::Log, n - 1))
            .or_else(|| name_len(b"LOCATION:").map(|n| (Severity::Location, n - 1)))?,
        b'E' => (Severity::Error, name_len(b"ERROR:")? - 1),
        b'W' => (Severity::Warning, name_len(b"WARNING:")? - 1),
        b'F' => (Severity::Fatal, name_len(b"FATAL:")? - 1),
        b'P' => (Severity::Panic, name_len(b"PANIC:")? - 1),
        b'N' => (Severity::Notice, name_len(b"NOTICE:")? - 1),
        b'I' => (Severity::Info, name_len(b"INFO:")? - 1),
        b'D' => name_len(b"DETAIL:")
            .map(|n| (Severity::Detail, n - 1))
            .or_else(|| {
                let n = name_len(b"DEBUG")?;
                match b.get(n)? {
                    b':' => Some((Severity::Debug, n)),
                    b'1'..=b'5' if b.get(n + 1) == Some(&b':') => Some((Severity::Debug, n + 1)),
                    _ => None,
                }
            })?,
        b'H' => (Severity::Hint, name_len(b"HINT:")? - 1),
        b'Q' => (Severity::Query, name_len(b"QUERY:")? - 1),
        b'C' => (Severity::Context, name_len(b"CONTEXT:")? - 1),
        b'S' => (Severity::Statement, name_len(b"STATEMENT:")? - 1),
        _ => return None,
    };
    let rest = &b[colon + 1..];
    let spaces = rest.iter().take(2).take_while(|&&c| c == b' ').count();
    if spaces == 2 || rest.len() == spaces {
        Some((sev, colon + 1 + spaces))
    } else {
        None
    }
}

/// A prefix escape with a value worth keeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// `%m`, `%t`, `%s`: `2024-05-01 12:34:56[.789] UTC`.
    Timestamp { keep: bool },
    /// `%n`: `1714567890.123`.
    Epoch,
    /// `%p`.
    Pid,
    /// `%P`, `%l`, `%x`, `%Q`: a (possibly empty, possibly signed) number.
    Number,
    /// `%c`: `hex.hex`.
    Session,
    /// `%e`: five characters.
    SqlState,
    /// `%u %d %a %h %r %b %i %v`: anything (possibly empty).
    Free,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Item {
    Lit(Box<[u8]>),
    Field {
        field: Field,
        padded: bool,
    },
    /// `%q`: non-session processes stop here.
    StopForNonSession,
}

/// What a matched prefix says about its line (byte ranges into the line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PrefixMatch {
    /// Where the severity marker starts.
    pub end: usize,
    pub timestamp: Option<(usize, usize)>,
    pub pid: Option<u32>,
    pub session: Option<(usize, usize)>,
    pub sqlstate: Option<(usize, usize)>,
}

/// A compiled `log_line_prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefix {
    text: String,
    items: Vec<Item>,
    loose: bool,
}

impl Prefix {
    /// Compiles a `log_line_prefix` value. Unknown escapes print nothing in PostgreSQL and are
    /// ignored here too; padding (`%-10u`, `%5p`) is understood.
    ///
    /// ```
    /// let p = lockgraph_logs::Prefix::compile("%m [%p] %q%u@%d ");
    /// assert!(p.has_pid());
    /// assert_eq!(p.as_str(), "%m [%p] %q%u@%d ");
    /// ```
    pub fn compile(text: &str) -> Prefix {
        let b = text.as_bytes();
        let mut items: Vec<Item> = Vec::new();
        let mut lit: Vec<u8> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' || i + 1 >= b.len() {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            let mut j = i + 1;
            let mut padded = false;
            if b[j] == b'-' {
                j += 1;
                padded = true;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
                padded = true;
            }
            let Some(&esc) = b.get(j) else {
                break;
            };
            i = j + 1;
            let field = match esc {
                b'%' => {
                    lit.push(b'%');
                    continue;
                }
                b'm' | b't' => Field::Timestamp { keep: true },
                b's' => Field::Timestamp { keep: false },
                b'n' => Field::Epoch,
                b'p' => Field::Pid,
                b'P' | b'l' | b'x' | b'Q' => Field::Number,
                b'c' => Field::Session,
                b'e' => Field::SqlState,
                b'u' | b'd' | b'a' | b'h' | b'r' | b'b' | b'i' | b'v' => Field::Free,
                b'q' => {
                    if !lit.is_empty() {
                        items.push(Item::Lit(std::mem::take(&mut lit).into()));
                    }
                    items.push(Item::StopForNonSession);
                    continue;
                }
                _ => continue,
            };
            if !lit.is_empty() {
                items.push(Item::Lit(std::mem::take(&mut lit).into()));
            }
            items.push(Item::Field { field, padded });
        }
        if !lit.is_empty() {
            items.push(Item::Lit(lit.into()));
        }
        Prefix {
            text: text.to_string(),
            items,
            loose: false,
        }
    }

    /// The loose reader used when no prefix fits: the first severity marker in the line ends the
    /// prefix; a leading timestamp, the first `[pid]` and a `hex.hex` session id are picked up.
    pub fn loose() -> Prefix {
        Prefix {
            text: String::new(),
            items: Vec::new(),
            loose: true,
        }
    }

    /// The prefix as configured (empty for the loose reader).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is the loose reader.
    pub fn is_loose(&self) -> bool {
        self.loose
    }

    /// Whether lines carry a process id (`%p`).
    pub fn has_pid(&self) -> bool {
        self.loose || self.has(Field::Pid)
    }

    /// Whether lines carry a session id (`%c`).
    pub fn has_session(&self) -> bool {
        self.loose || self.has(Field::Session)
    }

    fn has(&self, f: Field) -> bool {
        self.items
            .iter()
            .any(|i| matches!(i, Item::Field { field, .. } if *field == f))
    }

    /// Matches the prefix at the start of `line`; `None` unless a severity marker follows it.
    pub(crate) fn matches(&self, line: &[u8]) -> Option<PrefixMatch> {
        if self.loose {
            return loose_match(line);
        }
        let line = &line[..line.len().min(WINDOW + 64)];
        if let Some(m) = self.match_greedy(line) {
            return Some(m);
        }
        let mut m = PrefixMatch::default();
        let mut budget = BUDGET;
        self.match_from(line, 0, 0, &mut m, &mut budget)
            .then_some(m)
    }

    /// The common case without backtracking: every free-text field ends at the first place
    /// where the literal after it occurs. `None` when that does not lead to a severity marker
    /// (then [`Prefix::match_from`] tries every way).
    fn match_greedy(&self, line: &[u8]) -> Option<PrefixMatch> {
        let mut m = PrefixMatch::default();
        let mut pos = 0;
        for (i, item) in self.items.iter().enumerate() {
            match item {
                Item::Lit(lit) => {
                    if !lit_at(line, pos, lit) {
                        return None;
                    }
                    pos += lit.len();
                }
                Item::StopForNonSession => {
                    if parse_severity(&line[pos..]).is_some() {
                        m.end = pos;
                        return Some(m);
                    }
                }
                Item::Field {
                    field: Field::Free, ..
                } => {
                    let Some(Item::Lit(lit)) = self.items.get(i + 1) else {
                        return None;
                    };
                    let limit = line.len().min(pos + WINDOW);
                    let first = lit[0];
                    let off = line[pos..limit].iter().position(|&c| c == first)?;
                    pos += off;
                }
                Item::Field { field, padded } => {
                    let mut start = pos;
                    if *padded {
                        start += count_spaces(&line[pos..]);
                    }
                    let end = parse_field(*field, line, start)?;
                    match field {
                        Field::Timestamp { keep: true } | Field::Epoch => {
                            m.timestamp = Some((start, end))
                        }
                        Field::Pid => m.pid = parse_u32(&line[start..end]),
                        Field::Session => m.session = Some((start, end)),
                        Field::SqlState => m.sqlstate = Some((start, end)),
                        _ => {}
                    }
                    pos = end;
                    if *padded {
                        pos += count_spaces(&line[pos..]);
                    }
                }
            }
        }
        parse_severity(&line[pos..]).is_some().then(|| {
            m.end = pos;
            m
        })
    }

    fn match_from(
        &self,
        line: &[u8],
        i: usize,
        pos: usize,
        m: &mut PrefixMatch,
        budget: &mut u32,
    ) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let Some(item) = self.items.get(i) else {
            if parse_severity(&line[pos..]).is_some() {
                m.end = pos;
                return true;
            }
            return false;
        };
        match item {
            Item::Lit(lit) => {
                lit_at(line, pos, lit) && self.match_from(line, i + 1, pos + lit.len(), m, budget)
            }
            Item::StopForNonSession => {
                if parse_severity(&line[pos..]).is_some() {
                    m.end = pos;
                    return true;
                }
                self.match_from(line, i + 1, pos, m, budget)
            }
            Item::Field {
                field: Field::Free,
                padded,
            } => self.match_free(line, i, pos, *padded, m, budget),
            Item::Field { field, padded } => {
                let mut start = pos;
                if *padded {
                    start += count_spaces(&line[pos..]);
                }
                let Some(mut end) = parse_field(*field, line, start) else {
                    return false;
                };
                let value_end = end;
                if *padded {
                    end += count_spaces(&line[end..]);
                }
                if self.match_from(line, i + 1, end, m, budget) {
                    match field {
                        Field::Timestamp { keep: true } | Field::Epoch => {
                            m.timestamp = Some((start, value_end))
                        }
                        Field::Pid => m.pid = parse_u32(&line[start..value_end]),
                        Field::Session => m.session = Some((start, value_end)),
                        Field::SqlState => m.sqlstate = Some((start, value_end)),
                        _ => {}
                    }
                    true
                } else {
                    false
                }
            }
        }
    }

    /// A free-text field: try each place where what follows it can start.
    fn match_free(
        &self,
        line: &[u8],
        i: usize,
        pos: usize,
        _padded: bool,
        m: &mut PrefixMatch,
        budget: &mut u32,
    ) -> bool {
        let limit = line.len().min(pos + WINDOW);
        match self.items.get(i + 1) {
            Some(Item::Lit(lit)) if lit.len() == 1 => {
                // Free fields are short: a plain scan beats setting up a search.
                let c = lit[0];
                for k in pos..limit {
                    if line[k] == c {
                        if *budget == 0 {
                            return false;
                        }
                        if self.match_from(line, i + 1, k, m, budget) {
                            return true;
                        }
                    }
                }
                false
            }
            Some(Item::Lit(lit)) => {
                for off in memmem::find_iter(&line[pos..limit], &**lit) {
                    if *budget == 0 {
                        return false;
                    }
                    if self.match_from(line, i + 1, pos + off, m, budget) {
                        return true;
                    }
                }
                false
            }
            _ => {
                for end in pos..=limit {
                    if *budget == 0 {
                        return false;
                    }
                    // Only try positions where something can plausibly start.
                    if end > pos
                        && end < line.len()
                        && line[end - 1] != b' '
                        && !line[end].is_ascii_uppercase()
                        && !line[end].is_ascii_digit()
                    {
                        continue;
                    }
                    if self.match_from(line, i + 1, end, m, budget) {
                        return true;
                    }
                }
                false
            }
        }
    }
}

/// Whether `lit` is at `pos` (short literals: a plain loop beats a `memcmp` call).
#[inline]
fn lit_at(line: &[u8], pos: usize, lit: &[u8]) -> bool {
    match line.get(pos..pos + lit.len()) {
        Some(s) => s.iter().zip(lit.iter()).all(|(a, b)| a == b),
        None => false,
    }
}

fn count_spaces(b: &[u8]) -> usize {
    b.iter().take_while(|&&c| c == b' ').count()
}

pub(crate) fn parse_u32(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    u32::try_from(v).ok()
}

fn digits(b: &[u8], pos: usize) -> usize {
    b.get(pos..)
        .map(|r| r.iter().take_while(|c| c.is_ascii_digit()).count())
        .unwrap_or(0)
}

fn parse_field(field: Field, line: &[u8], pos: usize) -> Option<usize> {
    match field {
        Field::Timestamp { .. } => parse_timestamp(line, pos),
        Field::Epoch => {
            let n = digits(line, pos);
            if n == 0 {
                return None;
            }
            let mut end = pos + n;
            if line.get(end) == Some(&b'.') {
                end += 1 + digits(line, end + 1);
            }
            Some(end)
        }
        Field::Pid => {
            let n = digits(line, pos);
            (n > 0).then_some(pos + n)
        }
        Field::Number => {
            let sign = usize::from(line.get(pos) == Some(&b'-'));
            Some(pos + sign + digits(line, pos + sign))
        }
        Field::Session => {
            let hex = |p: usize| {
                line.get(p..)
                    .map(|r| r.iter().take_while(|c| c.is_ascii_hexdigit()).count())
                    .unwrap_or(0)
            };
            let a = hex(pos);
            if a == 0 || line.get(pos + a) != Some(&b'.') {
                return None;
            }
            let b = hex(pos + a + 1);
            (b > 0).then_some(pos + a + 1 + b)
        }
        Field::SqlState => {
            let s = line.get(pos..pos + 5)?;
            s.iter()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                .then_some(pos + 5)
        }
        Field::Free => Some(pos),
    }
}

/// `YYYY-MM-DD HH:MM:SS[.fff][ TZ]` at `pos`; returns its end.
pub(crate) fn parse_timestamp(b: &[u8], pos: usize) -> Option<usize> {
    let s: &[u8; 19] = b.get(pos..pos + 19)?.try_into().ok()?;
    // Eight bytes at a time: the separators must be in place; set them to `0`, then every byte
    // must be a digit.
    let word = |k: usize| {
        u64::from_le_bytes([
            s[k],
            s[k + 1],
            s[k + 2],
            s[k + 3],
            s[k + 4],
            s[k + 5],
            s[k + 6],
            s[k + 7],
        ])
    };
    let sep = |byte: usize, c: u8| (0xffu64 << (8 * byte), u64::from(c) << (8 * byte));
    let digits = |w: u64, (m1, v1): (u64, u64), (m2, v2): (u64, u64)| {
        if w & (m1 | m2) != v1 | v2 {
            return false;
        }
        let y = (w & !(m1 | m2)) | (0x30 & m1) | (0x30 & m2) | ((m1 | m2) & 0x3030_3030_3030_3030);
        const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
        const THREES: u64 = 0x3030_3030_3030_3030;
        y & HIGH == THREES && y.wrapping_add(0x0606_0606_0606_0606) & HIGH == THREES
    };
    // `YYYY-MM-`, `DD HH:MM` (or `T`), `HH:MM:SS`.
    let date_time_sep = s[10];
    if date_time_sep != b' ' && date_time_sep != b'T' {
        return None;
    }
    let ok = digits(word(0), sep(4, b'-'), sep(7, b'-'))
        && digits(word(8), sep(2, date_time_sep), sep(5, b':'))
        && digits(word(11), sep(2, b':'), sep(5, b':'));
    if !ok {
        return None;
    }
    let d = |c: u8| c.wrapping_sub(b'0') < 10;
    let mut end = pos + 19;
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(|c| d(*c)) {
        end += 2;
        while b.get(end).is_some_and(|c| d(*c)) {
            end += 1;
        }
    }
    // Time zone abbreviation (`UTC`, `CEST`, `+03`, `-0330`).
    if b.get(end) == Some(&b' ') {
        let z = end + 1;
        let mut k = z;
        while k < b.len()
            && k - z <= 6
            && (b[k].is_ascii_alphanumeric() || b[k] == b'+' || b[k] == b'-')
        {
            k += 1;
        }
        let n = k - z;
        // A short word, and not a severity (`%t LOG:` with no zone cannot happen, but a bare
        // `%m` in a hand-made log might).
        if (1..=6).contains(&n) && !(b.get(k) == Some(&b':') && parse_severity(&b[z..]).is_some()) {
            end = k;
        }
    }
    Some(end)
}

/// The loose reader: see [`Prefix::loose`].
fn loose_match(line: &[u8]) -> Option<PrefixMatch> {
    let limit = line.len().min(WINDOW);
    let mut end = None;
    for (k, &c) in line[..limit].iter().enumerate() {
        if c.is_ascii_uppercase()
            && (k == 0 || !line[k - 1].is_ascii_alphanumeric())
            && parse_severity(&line[k..]).is_some()
        {
            end = Some(k);
            break;
        }
    }
    let end = end?;
    let head = &line[..end];
    let mut m = PrefixMatch {
        end,
        ..PrefixMatch::default()
    };
    if let Some(ts_end) = parse_timestamp(head, 0) {
        m.timestamp = Some((0, ts_end));
    }
    // First `[digits]` (or `[digits-…]`) is taken as the pid.
    let mut k = 0;
    while let Some(off) = memchr::memchr(b'[', &head[k..]) {
        let s = k + off + 1;
        let n = digits(head, s);
        if n > 0 && matches!(head.get(s + n), Some(b']')) {
            m.pid = parse_u32(&head[s..s + n]);
            break;
        }
        k = s;
    }
    // A `%c` session id: 8 hex digits, a dot, hex digits.
    let mut k = 0;
    while k + 10 <= head.len() {
        let Some(off) = memchr::memchr(b'.', &head[k..]) else {
            break;
        };
        let dot = k + off;
        if dot >= 8
            && head[dot - 8..dot].iter().all(u8::is_ascii_hexdigit)
            && (dot == 8 || !head[dot - 9].is_ascii_alphanumeric())
        {
            let n = head[dot + 1..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if n > 0 && head.get(dot + 1 + n) != Some(&b'.') {
                m.session = Some((dot - 8, dot + 1 + n));
                break;
            }
        }
        k = dot + 1;
    }
    Some(m)
}

/// Prefixes tried first when detecting: PostgreSQL's default, distributions' defaults, pgBadger's
/// recommendation, managed services.
pub const COMMON_PREFIXES: &[&str] = &[
    "%m [%p] ",
    "%m [%p] %q%u@%d ",
    "%t [%p] %q%u@%d ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] db=%d,user=%u,app=%a,client=%h ",
    "%m [%p]: [%l-1] db=%d,user=%u ",
    "%t [%p]: [%l-1] ",
    "%m [%p]: [%l-1] ",
    "%t [%p]: ",
    "%m [%p]: ",
    "%t:%r:%u@%d:[%p]:",
    "%m:%r:%u@%d:[%p]:",
    "%t [%p] ",
    "%m [%p] %q[user=%u,db=%d,app=%a] ",
    "%m [%p] %q%u@%d %a ",
    "%m [%p-%l] %q%u@%d ",
    "%t [%p-%l] %q%u@%d ",
    "%m [%c] ",
    "%m [%p] %c ",
    "%m %c %p ",
    "%m [%p/%c] ",
    "%t-%c-",
    "< %m > ",
    "%m %p ",
    "%t %p ",
    "[%p] ",
    "",
];

/// Guesses the prefix of a stderr log from sample lines. Returns the best prefix and how many
/// sample entry lines it matched, or `None` when nothing looks like a PostgreSQL log.
pub(crate) fn detect(sample: &[&[u8]], hint: Option<&Prefix>) -> Option<(Prefix, usize, usize)> {
    let lines: Vec<&[u8]> = sample
        .iter()
        .copied()
        .filter(|l| !l.is_empty() && l[0] != b'\t')
        .take(500)
        .collect();
    let loose = Prefix::loose();
    let loose_score = lines.iter().filter(|l| loose.matches(l).is_some()).count();
    if loose_score == 0 {
        return None;
    }
    let mut candidates: Vec<Prefix> = Vec::new();
    if let Some(h) = hint {
        candidates.push(h.clone());
    }
    candidates.extend(COMMON_PREFIXES.iter().map(|p| Prefix::compile(p)));
    let mut seen_generalized: Vec<String> = Vec::new();
    for l in lines.iter().take(50) {
        if let Some(m) = loose.matches(l) {
            for g in generalize(&l[..m.end]) {
                if !seen_generalized.contains(&g) && seen_generalized.len() < 12 {
                    seen_generalized.push(g);
                }
            }
        }
    }
    candidates.extend(seen_generalized.iter().map(|g| Prefix::compile(g)));
    let mut best: Option<(Prefix, usize)> = None;
    for c in candidates {
        let score = lines.iter().filter(|l| c.matches(l).is_some()).count();
        if best.as_ref().is_none_or(|(_, s)| score > *s) {
            best = Some((c, score));
        }
    }
    let (prefix, score) = best?;
    if score * 2 < loose_score || score == 0 {
        return Some((loose, loose_score, lines.len()));
    }
    Some((prefix, score, lines.len()))
}

/// Turns one line's prefix text into candidate `log_line_prefix` values.
pub(crate) fn generalize(head: &[u8]) -> Vec<String> {
    let mut out = String::new();
    let mut i = 0;
    let mut have_pid = false;
    let mut first_user_field: Option<usize> = None;
    if let Some(end) = parse_timestamp(head, 0) {
        out.push_str(if head[..end].contains(&b'.') {
            "%m"
        } else {
            "%t"
        });
        i = end;
    } else if let Some(end) = parse_field(Field::Epoch, head, 0).filter(|e| *e >= 10) {
        out.push_str("%n");
        i = end;
    }
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.';
    while i < head.len() {
        let c = head[i];
        let prev_alnum = i > 0 && head[i - 1].is_ascii_alphanumeric();
        // `[123-1]`: %l with syslog-style continuation number.
        if c == b'[' {
            let n = digits(head, i + 1);
            if n > 0 && head.get(i + 1 + n) == Some(&b'-') {
                let m = digits(head, i + 2 + n);
                if m > 0 && head.get(i + 2 + n + m) == Some(&b']') {
                    out.push_str("[%l-");
                    out.push_str(&String::from_utf8_lossy(&head[i + 2 + n..i + 2 + n + m]));
                    out.push(']');
                    i += 3 + n + m;
                    continue;
                }
            }
        }
        if !prev_alnum && c.is_ascii_hexdigit() {
            // `%c`: 8 hex digits, a dot, hex digits (not an IP address).
            let a = head[i..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
            if a == 8 && head.get(i + 8) == Some(&b'.') {
                let b = head[i + 9..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if b > 0 && head.get(i + 9 + b) != Some(&b'.') {
                    out.push_str("%c");
                    // `%c` holds the pid: later bare numbers are other fields.
                    have_pid = true;
                    i += 9 + b;
                    continue;
                }
            }
        }
        if !prev_alnum && c.is_ascii_alphabetic() {
            // key=value
            let k = head[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                .count();
            if head.get(i + k) == Some(&b'=') {
                let key = head[i..i + k].to_ascii_lowercase();
                let esc = match key.as_slice() {
                    b"user" | b"usr" | b"u" | b"username" => Some("%u"),
                    b"db" | b"database" | b"dbname" | b"d" => Some("%d"),
                    b"app" | b"application" | b"appname" | b"application_name" | b"a" => Some("%a"),
                    b"client" | b"host" | b"remote" | b"clienthost" | b"h" => Some("%h"),
                    b"pid" | b"p" => Some("%p"),
                    b"session" | b"sess" | b"sid" | b"c" => Some("%c"),
                    b"xid" | b"tx" | b"x" => Some("%x"),
                    b"vxid" | b"v" => Some("%v"),
                    b"line" | b"l" => Some("%l"),
                    b"sqlstate" | b"state" | b"e" => Some("%e"),
                    b"backend" | b"type" | b"b" => Some("%b"),
                    b"qid" | b"query_id" | b"queryid" => Some("%Q"),
                    b"tag" | b"i" => Some("%i"),
                    _ => None,
                };
                if let Some(esc) = esc {
                    out.push_str(&String::from_utf8_lossy(&head[i..=i + k]));
                    if esc == "%p" {
                        have_pid = true;
                    }
                    if first_user_field.is_none() && matches!(esc, "%u" | "%d" | "%a" | "%h") {
                        first_user_field = Some(out.len() - k - 1);
                    }
                    out.push_str(esc);
                    i += k + 1;
                    while i < head.len() && !matches!(head[i], b',' | b' ' | b';' | b'|' | b']') {
                        i += 1;
                    }
                    continue;
                }
            }
            // user@db
            let w = head[i..].iter().take_while(|c| is_word(**c)).count();
            if head.get(i + w) == Some(&b'@') {
                let w2 = head[i + w + 1..]
                    .iter()
                    .take_while(|c| is_word(**c))
                    .count();
                if w2 > 0 {
                    if first_user_field.is_none() {
                        first_user_field = Some(out.len());
                    }
                    out.push_str("%u@%d");
                    i += w + 1 + w2;
                    continue;
                }
            }
        }
        if !prev_alnum && (c.is_ascii_alphanumeric() || c == b'[') {
            // host(port) or [local]
            let w = head[i..]
                .iter()
                .take_while(|c| !matches!(c, b' ' | b'(' | b')' | b',' | b'@'))
                .count();
            if head.get(i + w) == Some(&b'(') {
                let n = digits(head, i + w + 1);
                if n > 0 && head.get(i + w + 1 + n) == Some(&b')') {
                    if first_user_field.is_none() {
                        first_user_field = Some(out.len());
                    }
                    out.push_str("%r");
                    i += w + 2 + n;
                    continue;
                }
            }
        }
        if !prev_alnum && c.is_ascii_digit() {
            let n = digits(head, i);
            // `%v`: a virtual transaction id `5/22`.
            if head.get(i + n) == Some(&b'/') {
                let m = digits(head, i + n + 1);
                if m > 0
                    && !head
                        .get(i + n + 1 + m)
                        .is_some_and(u8::is_ascii_alphanumeric)
                {
                    out.push_str("%v");
                    i += n + 1 + m;
                    continue;
                }
            }
            if !head
                .get(i + n)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'.')
            {
                out.push_str(if have_pid { "%l" } else { "%p" });
                have_pid = true;
                i += n;
                continue;
            }
        }
        if c == b'%' {
            out.push_str("%%");
        } else {
            // Keep the prefix text as it is (UTF-8 safe: copy the whole character).
            let len = utf8_len(c);
            out.push_str(&String::from_utf8_lossy(
                &head[i..(i + len).min(head.len())],
            ));
            i += len;
            continue;
        }
        i += 1;
    }
    let mut variants = vec![out.clone()];
    if let Some(at) = first_user_field {
        let mut q = out.clone();
        q.insert_str(at, "%q");
        variants.insert(0, q);
    }
    variants
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (end, pid, timestamp, session).
    type Matched = (usize, Option<u32>, Option<String>, Option<String>);

    fn m(prefix: &str, line: &str) -> Option<Matched> {
        let p = Prefix::compile(prefix);
        p.matches(line.as_bytes()).map(|mm| {
            (
                mm.end,
                mm.pid,
                mm.timestamp.map(|(a, b)| line[a..b].to_string()),
                mm.session.map(|(a, b)| line[a..b].to_string()),
            )
        })
    }

    #[test]
    fn default_prefix() {
        let line = "2024-05-01 12:34:56.789 UTC [5477] LOG:  statement: SELECT 1";
        let (end, pid, ts, _) = m("%m [%p] ", line).unwrap();
        assert_eq!(&line[end..end + 4], "LOG:");
        assert_eq!(pid, Some(5477));
        assert_eq!(ts.as_deref(), Some("2024-05-01 12:34:56.789 UTC"));
        assert!(
            m(
                "%m [%p] ",
                "2024-05-01 12:34:56.789 UTC [5477] app@db LOG:  x"
            )
            .is_none()
        );
    }

    #[test]
    fn q_stops_for_background_processes() {
        let p = "%m [%p] %q%u@%d ";
        assert!(
            m(
                p,
                "2024-05-01 12:34:56.789 UTC [77] LOG:  checkpoint starting: time"
            )
            .is_some()
        );
        let (end, pid, ..) =
            m(p, "2024-05-01 12:34:56.789 UTC [78] app@shop ERROR:  boom").unwrap();
        assert_eq!(pid, Some(78));
        assert_eq!(end, 42);
        // An empty user and database (`@`) still match.
        assert!(m(p, "2024-05-01 12:34:56.789 UTC [78] @ LOG:  x").is_some());
    }

    #[test]
    fn free_text_with_the_separator_inside_backtracks() {
        let p = "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ";
        let line = "2024-05-01 12:34:56 CEST [901]: [3-1] user=app,db=shop,app=my app, v2,client=10.0.0.7 LOG:  statement: BEGIN";
        let (end, pid, ts, _) = m(p, line).unwrap();
        assert_eq!(pid, Some(901));
        assert_eq!(ts.as_deref(), Some("2024-05-01 12:34:56 CEST"));
        assert!(line[end..].starts_with("LOG:  statement"));
    }

    #[test]
    fn rds_prefix_with_host_port() {
        let p = "%t:%r:%u@%d:[%p]:";
        let line =
            "2024-05-01 12:34:56 UTC:10.1.2.3(51234):app@shop:[4242]:ERROR:  deadlock detected";
        let (end, pid, ts, _) = m(p, line).unwrap();
        assert_eq!(pid, Some(4242));
        assert_eq!(ts.as_deref(), Some("2024-05-01 12:34:56 UTC"));
        assert!(line[end..].starts_with("ERROR"));
        // IPv6 client with colons in %r.
        let line = "2024-05-01 12:34:56 UTC:2001:db8::1(5432):app@shop:[4243]:LOG:  x";
        assert_eq!(m(p, line).unwrap().1, Some(4243));
        let line = "2024-05-01 12:34:56 UTC:[local]:app@shop:[4244]:LOG:  x";
        assert_eq!(m(p, line).unwrap().1, Some(4244));
    }

    #[test]
    fn session_epoch_sqlstate_padding_and_percent() {
        let line = "1714567890.123 65f1a2b3.15a5 40P01 100% [  42] ERROR:  x";
        let p = Prefix::compile("%n %c %e 100%% [%4p] ");
        let mm = p.matches(line.as_bytes()).unwrap();
        assert_eq!(mm.pid, Some(42));
        assert_eq!(
            &line[mm.session.unwrap().0..mm.session.unwrap().1],
            "65f1a2b3.15a5"
        );
        assert_eq!(
            &line[mm.sqlstate.unwrap().0..mm.sqlstate.unwrap().1],
            "40P01"
        );
        assert_eq!(
            &line[mm.timestamp.unwrap().0..mm.timestamp.unwrap().1],
            "1714567890.123"
        );
        // Unknown escapes print nothing.
        assert!(m("%m %z[%p] ", "2024-05-01 12:34:56.789 UTC [1] LOG:  x").is_some());
    }

    #[test]
    fn severities() {
        assert_eq!(parse_severity(b"LOG:  x"), Some((Severity::Log, 6)));
        assert_eq!(
            parse_severity(b"DEBUG3:  x").map(|s| s.0),
            Some(Severity::Debug)
        );
        assert_eq!(
            parse_severity(b"STATEMENT:  x").map(|s| s.0),
            Some(Severity::Statement)
        );
        assert_eq!(parse_severity(b"LOG: x"), None);
        assert_eq!(parse_severity(b"LOGS:  x"), None);
        assert_eq!(parse_severity(b"HINT:"), Some((Severity::Hint, 5)));
    }

    fn detect_str(lines: &[&str]) -> String {
        let b: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        let (p, ..) = detect(&b, None).unwrap();
        if p.is_loose() {
            "<loose>".into()
        } else {
            p.as_str().to_string()
        }
    }

    #[test]
    fn detects_common_prefixes() {
        assert_eq!(
            detect_str(&[
                "2024-05-01 12:00:00.001 UTC [10] LOG:  database system is ready",
                "2024-05-01 12:00:01.001 UTC [11] app@shop LOG:  statement: BEGIN",
                "2024-05-01 12:00:01.002 UTC [11] app@shop ERROR:  deadlock detected",
                "\tProcess 1: x",
            ]),
            "%m [%p] %q%u@%d "
        );
        assert_eq!(
            detect_str(&[
                "2024-05-01 12:00:00 UTC [10]: [1-1] user=app,db=shop,app=psql,client=[local] LOG:  statement: BEGIN",
                "2024-05-01 12:00:00 UTC [10]: [2-1] user=app,db=shop,app=psql,client=[local] LOG:  statement: COMMIT",
            ]),
            "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "
        );
        assert_eq!(
            detect_str(&[
                "2024-05-01 12:00:00.5 UTC [7] LOG:  x",
                "2024-05-01 12:00:00.6 UTC [8] LOG:  y"
            ]),
            "%m [%p] "
        );
        assert_eq!(
            detect_str(&["LOG:  statement: SELECT 1", "ERROR:  boom"]),
            ""
        );
    }

    #[test]
    fn generalizes_unknown_prefixes() {
        let head = b"2024-05-01 12:00:00.123 UTC pid=77 sess=65f1a2b3.4d tag|app@shop| ";
        let g = generalize(head);
        assert!(
            g.contains(&"%m pid=%p sess=%c tag|%q%u@%d| ".to_string()),
            "{g:?}"
        );
        let lines = [
            "2024-05-01 12:00:00.123 UTC pid=77 sess=65f1a2b3.4d tag|app@shop| LOG:  statement: BEGIN",
            "2024-05-01 12:00:00.124 UTC pid=78 sess=65f1a2b4.4e tag|| LOG:  checkpoint",
            "2024-05-01 12:00:00.125 UTC pid=77 sess=65f1a2b3.4d tag|app@shop| LOG:  statement: COMMIT",
        ];
        let got = detect_str(&lines);
        assert!(got == "%m pid=%p sess=%c tag|%q%u@%d| ", "{got}");
        // `%m %c %x %v `: the pid is in %c; %v is empty for background processes.
        let lines = [
            "2026-11-24 03:16:54.437 UTC 6b0501a6.4a38 0  LOG:  starting PostgreSQL",
            "2026-11-24 03:16:54.553 UTC 6b0501a6.4a43 0 5/22 LOG:  statement: BEGIN",
            "2026-11-24 03:16:54.562 UTC 6b0501a6.4a43 818 5/23 LOG:  statement: UPDATE t SET a = 1",
        ];
        assert_eq!(detect_str(&lines), "%m %c %l %v ");
    }

    #[test]
    fn loose_reader() {
        let p = Prefix::loose();
        let line = b"2024-05-01 12:00:00 UTC <weird> [123] {65f1a2b3.7b} WARNING:  x";
        let mm = p.matches(line).unwrap();
        assert_eq!(mm.pid, Some(123));
        assert_eq!(
            &line[mm.session.unwrap().0..mm.session.unwrap().1],
            b"65f1a2b3.7b"
        );
        assert!(line[mm.end..].starts_with(b"WARNING"));
        assert!(p.matches(b"no severity here").is_none());
    }

    #[test]
    fn hostile_lines_are_bounded() {
        let p = Prefix::compile("%u%d%a%h ");
        let line = "x".repeat(100_000);
        assert!(p.matches(line.as_bytes()).is_none());
        let line = " ".repeat(5000) + "LOG:  x";
        let _ = p.matches(line.as_bytes());
    }
}
