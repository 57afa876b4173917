//! lockgraph's fuzz targets: one registry ([`Target`]) of the front-ends that read what users
//! feed lockgraph — PostgreSQL logs in each format, deadlock reports, SQL, and the source code of
//! every language read — each a function from arbitrary bytes to a checked run.
//!
//! - [`Target::run`] feeds one input to its front-end and checks what must hold for *any* input:
//!   no panic, and the target's invariants (a log read through a 7-byte buffer gives the same
//!   analysis as read whole; every location points at a line of the input; …). A broken
//!   invariant panics, which libFuzzer reports as a crash.
//! - [`Target::seeds`] lists the files its corpus starts from (the project's test data and
//!   samples); `examples/seed.rs` copies them into a corpus directory.
//! - The libFuzzer harness is the separate cargo-fuzz project in `fuzz/` (its own workspace, so
//!   the normal build never compiles libFuzzer): each `fuzz/fuzz_targets/<name>.rs` calls
//!   [`Target::run`]. `scripts/fuzz.sh` runs every target for a given time and prints the figures
//!   recorded in `docs/reliability.md`.
//! - Inputs that once crashed, hung or broke an invariant are kept in `regressions/<name>/`;
//!   `tests/regressions.rs` runs them and every seed through [`Target::run`] in the normal tests.
#![warn(missing_docs)]

use lockgraph_core::{Location, Schema};
use lockgraph_logs::{LogAnalysis, LogAnalyzer, LogFormat, LogOptions};
use lockgraph_source::{Lang, SourceFile, SourceOptions};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// A fuzz target: one front-end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Stderr logs. The input's first line is the `log_line_prefix` (empty: detect it), the
    /// rest is the log.
    LogStderr,
    /// csvlog.
    LogCsv,
    /// jsonlog.
    LogJson,
    /// MySQL/MariaDB InnoDB deadlock reports (`SHOW ENGINE INNODB STATUS`, error logs).
    InnoDb,
    /// The deadlock-report parser: the input is the report's DETAIL (the cycle and the
    /// processes' statements), set in a stderr log between two sessions' transactions.
    Deadlock,
    /// SQL lock inference and transaction building over a whole SQL file.
    Sql,
    /// The Python extractor. Inputs may hold several files, cut at [`FILE_SEPARATOR`] lines.
    Python,
    /// Go.
    Go,
    /// Java and Kotlin (the first byte picks the language).
    Java,
    /// JavaScript, TypeScript and TSX (the first byte picks the language).
    Js,
    /// Ruby.
    Ruby,
    /// Rust.
    Rust,
}

/// Largest seed piece ([`Target::seed_pieces`]).
pub const SEED_PIECE: usize = 4096;

/// A line that starts the next file in a source target's input.
pub const FILE_SEPARATOR: &str = "#--lockgraph-fuzz-file--";

impl Target {
    /// Every target, in a stable order.
    pub const ALL: [Target; 12] = [
        Target::LogStderr,
        Target::LogCsv,
        Target::LogJson,
        Target::InnoDb,
        Target::Deadlock,
        Target::Sql,
        Target::Python,
        Target::Go,
        Target::Java,
        Target::Js,
        Target::Ruby,
        Target::Rust,
    ];

    /// Its name (the cargo-fuzz target and the regression directory).
    pub fn name(self) -> &'static str {
        match self {
            Target::LogStderr => "log_stderr",
            Target::LogCsv => "log_csv",
            Target::LogJson => "log_json",
            Target::InnoDb => "innodb",
            Target::Deadlock => "deadlock",
            Target::Sql => "sql",
            Target::Python => "python",
            Target::Go => "go",
            Target::Java => "java",
            Target::Js => "js",
            Target::Ruby => "ruby",
            Target::Rust => "rust",
        }
    }

    /// The target of a name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Runs one input and checks the target's invariants; panics when one breaks.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::LogStderr => {
                let (prefix, log) = split_first_line(data);
                let prefix = String::from_utf8_lossy(prefix).into_owned();
                let opts = LogOptions {
                    format: Some(LogFormat::Stderr),
                    prefix: (!prefix.is_empty()).then_some(prefix),
                    ..LogOptions::default()
                };
                check_log(opts, log);
            }
            Target::LogCsv => check_log(format(LogFormat::Csv), data),
            Target::LogJson => check_log(format(LogFormat::Json), data),
            Target::InnoDb => check_log(format(LogFormat::InnoDb), data),
            Target::Deadlock => {
                let mut log = Vec::with_capacity(data.len() + DEADLOCK_BEFORE.len() + 200);
                log.extend_from_slice(DEADLOCK_BEFORE.as_bytes());
                log.extend_from_slice(data);
                log.extend_from_slice(DEADLOCK_AFTER.as_bytes());
                check_log(format(LogFormat::Stderr), &log);
            }
            Target::Sql => check_sql(data),
            Target::Python => check_source(&[Lang::Python], data),
            Target::Go => check_source(&[Lang::Go], data),
            Target::Java => check_source(&[Lang::Java, Lang::Kotlin], data),
            Target::Js => check_source(&[Lang::JavaScript, Lang::TypeScript, Lang::Tsx], data),
            Target::Ruby => check_source(&[Lang::Ruby], data),
            Target::Rust => check_source(&[Lang::Rust], data),
        }
    }

    /// The files its corpus starts from, under the workspace root `root`.
    pub fn seeds(self, root: &Path) -> Vec<PathBuf> {
        let logs = root.join("crates/lockgraph_logs/tests/data");
        let mut files = match self {
            Target::LogStderr | Target::Deadlock => {
                let mut f = walk(&logs, ext_in(&["log"]));
                f.extend(walk(&root.join("samples/logs"), ext_in(&["log"])));
                f
            }
            Target::LogCsv => walk(&logs, ext_in(&["csv"])),
            Target::LogJson => walk(&logs, ext_in(&["json"])),
            Target::InnoDb => {
                let mut f = walk(&logs.join("innodb"), ext_in(&["txt", "log"]));
                f.extend(walk(&root.join("samples/innodb"), ext_in(&["txt"])));
                f
            }
            Target::Sql => {
                let mut f = walk(
                    &root.join("crates/lockgraph_sql/tests/data"),
                    ext_in(&["sql"]),
                );
                f.extend(walk(&root.join("samples"), ext_in(&["sql"])));
                f
            }
            _ => {
                let langs = self.langs();
                let ours = |p: &Path| Lang::of(p).is_some_and(|l| langs.contains(&l));
                let mut f = walk(&root.join("crates/lockgraph_source/tests/data"), ours);
                f.extend(walk(&root.join("samples"), ours));
                f
            }
        };
        files.sort();
        files
    }

    /// How a seed file's bytes become an input of this target (a stderr log gets an empty
    /// first line, "detect the prefix"; a Kotlin or TypeScript file its language byte).
    pub fn seed_input(self, path: &Path, bytes: Vec<u8>) -> Vec<u8> {
        match self {
            Target::LogStderr => [b"\n".as_slice(), &bytes].concat(),
            Target::Deadlock => deadlock_detail(&bytes).unwrap_or_default(),
            Target::Java | Target::Js => {
                let lang = Lang::of(path).unwrap_or(self.langs()[0]);
                let pick = self.langs().iter().position(|l| *l == lang).unwrap_or(0) as u8;
                [&[pick][..], &bytes].concat()
            }
            _ => bytes,
        }
    }

    /// A seed input cut into pieces of at most [`SEED_PIECE`] bytes at line starts, so that
    /// the fuzzer starts from small inputs it runs fast (a log or SQL file; a source file stays
    /// whole, its syntax depends on all of it). Empty inputs give no piece.
    pub fn seed_pieces(self, input: &[u8]) -> Vec<Vec<u8>> {
        let cut = matches!(
            self,
            Target::LogStderr | Target::LogCsv | Target::LogJson | Target::Sql
        );
        if !cut || input.len() <= SEED_PIECE {
            return if input.is_empty() {
                vec![]
            } else {
                vec![input.to_vec()]
            };
        }
        let (head, body) = match self {
            // Each stderr piece keeps the prefix line.
            Target::LogStderr => {
                let (prefix, rest) = split_first_line(input);
                ([prefix, b"\n"].concat(), rest)
            }
            _ => (Vec::new(), input),
        };
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < body.len() {
            let mut end = (start + SEED_PIECE).min(body.len());
            if end < body.len()
                && let Some(nl) = body[start..end].iter().rposition(|&b| b == b'\n')
            {
                end = start + nl + 1;
            }
            pieces.push([head.as_slice(), &body[start..end]].concat());
            start = end;
        }
        pieces
    }

    fn langs(self) -> &'static [Lang] {
        match self {
            Target::Python => &[Lang::Python],
            Target::Go => &[Lang::Go],
            Target::Java => &[Lang::Java, Lang::Kotlin],
            Target::Js => &[Lang::JavaScript, Lang::TypeScript, Lang::Tsx],
            Target::Ruby => &[Lang::Ruby],
            Target::Rust => &[Lang::Rust],
            _ => &[],
        }
    }
}

fn format(f: LogFormat) -> LogOptions {
    LogOptions {
        format: Some(f),
        ..LogOptions::default()
    }
}

fn split_first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Two sessions' transactions, then a deadlock report whose DETAIL is the input.
const DEADLOCK_BEFORE: &str = "\
2024-05-01 10:00:00.001 UTC [5477] app@shop LOG:  statement: BEGIN
2024-05-01 10:00:00.002 UTC [5477] app@shop LOG:  statement: UPDATE accounts SET balance = balance - 1 WHERE id = 1
2024-05-01 10:00:00.003 UTC [5478] app@shop LOG:  statement: BEGIN
2024-05-01 10:00:00.004 UTC [5478] app@shop LOG:  statement: UPDATE ledger SET amount = amount + 1 WHERE id = 2
2024-05-01 10:00:01.007 UTC [5478] app@shop ERROR:  deadlock detected
2024-05-01 10:00:01.007 UTC [5478] app@shop DETAIL:  ";
const DEADLOCK_AFTER: &str = "
2024-05-01 10:00:01.007 UTC [5478] app@shop HINT:  See server log for query details.
2024-05-01 10:00:01.007 UTC [5478] app@shop CONTEXT:  while updating tuple (0,1) in relation \"accounts\"
2024-05-01 10:00:01.007 UTC [5478] app@shop STATEMENT:  UPDATE accounts SET balance = balance - 1 WHERE id = 1
2024-05-01 10:00:01.008 UTC [5478] app@shop LOG:  statement: ROLLBACK
2024-05-01 10:00:01.009 UTC [5477] app@shop LOG:  statement: COMMIT
";

/// The DETAIL of the first deadlock report in a stderr log (its continuation lines included).
fn deadlock_detail(log: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(log);
    let mut lines = text
        .lines()
        .skip_while(|l| !l.contains("DETAIL:  Process "));
    let first = lines.next()?;
    let mut out = first[first.find("Process ")?..].to_string();
    for l in lines.take_while(|l| l.starts_with('\t')) {
        out.push('\n');
        out.push_str(l);
    }
    Some(out.into_bytes())
}

/// Reads `data` whole and through a 7-byte buffer: both must give the same analysis, and every
/// location must name a line of the input.
fn check_log(opts: LogOptions, data: &[u8]) {
    let whole = analyze(opts.clone(), data, data.len().max(1));
    let small = analyze(opts, data, 7);
    assert_eq!(
        summary(&whole),
        summary(&small),
        "reading through a small buffer changed the analysis"
    );
    let lines = data.split(|&b| b == b'\n').count() as u32;
    let in_input = |l: &Location| l.line <= lines;
    for t in &whole.transactions {
        assert!(in_input(&t.location), "transaction at {}", t.location);
        for s in &t.statements {
            assert!(in_input(&s.location), "statement at {}", s.location);
        }
    }
    for w in &whole.warnings {
        assert!(in_input(&w.location), "warning at {}", w.location);
    }
    assert_eq!(whole.transactions.len(), whole.shape_counts.len());
}

fn analyze(opts: LogOptions, data: &[u8], buffer: usize) -> LogAnalysis {
    let mut a = LogAnalyzer::new(opts, Schema::default());
    a.feed("fuzz.log", BufReader::with_capacity(buffer, data))
        .expect("reading from memory cannot fail");
    a.finish()
}

/// What must not depend on how the input was buffered.
fn summary(a: &LogAnalysis) -> String {
    let mut s = format!("{:?}\n", a.stats);
    for t in &a.transactions {
        s += &format!("{} {}\n", t.location, t.statements.len());
    }
    for d in &a.deadlocks {
        s += &format!("{:?} {}\n", d.relations, d.participants.len());
    }
    for w in &a.warnings {
        s += &format!("{w}\n");
    }
    s
}

fn check_sql(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (schema, _) = lockgraph_sql::parse_schema(&[("fuzz.sql", &text)]);
    let lines = text.split('\n').count() as u32;
    for raw in lockgraph_sql::split_statements(&text) {
        let inf = lockgraph_sql::infer_statement(&raw.text, &schema);
        // The same statement, indented, is the same shape (not trailing spaces: a statement
        // may end inside an unterminated quote, where they count).
        let respaced = format!("  \n\t{}", raw.text);
        assert_eq!(
            lockgraph_sql::fingerprint(&raw.text),
            lockgraph_sql::fingerprint(&respaced)
        );
        drop(inf);
    }
    let (transactions, _) = lockgraph_sql::build_transactions(
        "fuzz.sql",
        &text,
        &schema,
        &lockgraph_sql::SqlFileOptions::default(),
    );
    for t in &transactions {
        assert!(t.location.line <= lines, "transaction at {}", t.location);
    }
}

/// Cuts the input into files at [`FILE_SEPARATOR`] lines; for several languages the first
/// byte picks the language.
fn check_source(langs: &[Lang], data: &[u8]) {
    let (lang, data) = match langs {
        [one] => (*one, data),
        _ => match data.split_first() {
            Some((b, rest)) => (langs[*b as usize % langs.len()], rest),
            None => (langs[0], data),
        },
    };
    let text = String::from_utf8_lossy(data);
    let ext = lang.extension();
    let files: Vec<SourceFile> = text
        .split(FILE_SEPARATOR)
        .take(4)
        .enumerate()
        .map(|(i, part)| SourceFile {
            name: format!("pkg/m{i}.{ext}"),
            text: part.to_string(),
        })
        .collect();
    // Parsed once, as `lockgraph check` does.
    let parsed = lockgraph_source::parse_files(&files);
    let schema = lockgraph_source::model_schema_parsed(&parsed);
    let ex = lockgraph_source::extract_parsed(&parsed, &schema, &SourceOptions::default());
    let lines_of = |path: &str| {
        files
            .iter()
            .find(|f| f.name == path)
            .map(|f| f.text.split('\n').count() as u32)
    };
    for t in &ex.transactions {
        let n = lines_of(&t.location.path).expect("a transaction in a file of the input");
        assert!(t.location.line <= n, "transaction at {}", t.location);
    }
    for s in &ex.statements {
        let n = lines_of(&s.location.path).expect("a statement in a file of the input");
        assert!(s.location.line <= n, "statement at {}", s.location);
    }
}

fn walk(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// A filter for [`walk`]: files with one of `exts`.
fn ext_in(exts: &'static [&'static str]) -> impl Fn(&Path) -> bool {
    move |p| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.contains(&e))
    }
}
