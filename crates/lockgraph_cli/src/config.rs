//! Configuration files: `lockgraph.toml`, or a `[tool.lockgraph]` table in `pyproject.toml`.
//!
//! [`find`] discovers the file that governs a run (upward from each input, then from the working
//! directory), [`load`] reads it and [`parse`] turns its text into a validated [`Config`]. Every
//! problem is a [`ConfigDiagnostic`] pointing into the file (`file:line:col`, the source line and
//! a caret); all of them are collected and returned together, and the CLI stops with exit code 2.
//! An unknown key is an error, not a warning: a misspelt `fail-on` or `ignore` would otherwise
//! silently change what CI enforces. A rule code or name that matches no rule is an error for the
//! same reason.
//!
//! ```
//! use lockgraph_cli::config::parse;
//! let text = "fail-on = \"warning\"\norder = [\"accounts\", \"ledger\"]\n";
//! let config = parse(text, "lockgraph.toml", std::path::Path::new("."), false)
//!     .unwrap()
//!     .unwrap();
//! assert_eq!(config.order, ["accounts", "ledger"]);
//! ```
//!
//! Parsing is two passes over the same text: `toml`'s span-preserving document tree finds every
//! unknown key (serde's `deny_unknown_fields` stops at the first one), then serde deserializes
//! the known keys into [`Spanned`] values so that validation errors point at the offending value.

use globset::{Glob, GlobSet, GlobSetBuilder};
use lockgraph_core::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The configuration file's own name.
pub const CONFIG_FILE: &str = "lockgraph.toml";
/// Python projects may keep the configuration in `[tool.lockgraph]` of this file instead.
pub const PYPROJECT_FILE: &str = "pyproject.toml";

/// The keys a configuration table may have.
pub const KEYS: &[&str] = &[
    "include",
    "exclude",
    "file-transaction",
    "migration-transactions",
    "schema",
    "select",
    "ignore",
    "fail-on",
    "severity",
    "order",
    "groups",
    "engine",
    "engines",
];

/// The keys of one `[[groups]]` entry.
pub const GROUP_KEYS: &[&str] = &["name", "paths", "concurrent"];

/// The keys of one `[[engines]]` entry.
pub const ENGINE_KEYS: &[&str] = &["paths", "engine"];

/// When findings make the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailThreshold {
    /// Findings at or above this severity fail the run.
    At(Severity),
    /// Findings never fail the run.
    Never,
}

impl FailThreshold {
    /// Whether any finding reaches the threshold.
    pub fn reached_by(self, findings: &[lockgraph_core::Finding]) -> bool {
        match self {
            FailThreshold::At(s) => findings.iter().any(|f| f.severity >= s),
            FailThreshold::Never => false,
        }
    }
}

/// One `[[groups]]` entry: transactions of matching files never run concurrently with each
/// other (unless `concurrent = true`, which declares that they do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// The group's name (transactions of one group are serialized; `migrations` is the group
    /// migration files get by default).
    pub name: String,
    /// Globs of the files whose transactions belong to the group.
    pub paths: Vec<String>,
    /// `true`: transactions of these files may run concurrently with each other after all.
    pub concurrent: bool,
}

/// One `[[engines]]` entry: transactions of matching files run on this engine, whatever their
/// drivers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Globs of the files.
    pub paths: Vec<String>,
    /// Their engine.
    pub engine: lockgraph_core::Engine,
}

/// A validated configuration. Relative paths are resolved against [`Config::base`]; rule
/// selectors are resolved to codes.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file, as it is named in messages (relative to the working directory when inside it).
    pub display: String,
    /// The directory the file is in: relative paths and globs are taken from here.
    pub base: PathBuf,
    /// `include`: globs of walked files to read.
    pub include: Vec<String>,
    /// `exclude`: globs of walked files to skip.
    pub exclude: Vec<String>,
    /// `file-transaction`: every SQL file under these paths is one transaction.
    pub file_transaction: Vec<PathBuf>,
    /// `migration-transactions`: whether files under `migrations/` are one transaction each.
    pub migration_transactions: Option<bool>,
    /// `schema`: SQL files read for their DDL only.
    pub schema: Vec<PathBuf>,
    /// `select`: rule codes to run (empty: all).
    pub select: Vec<&'static str>,
    /// `ignore`: rule codes not to run.
    pub ignore: Vec<&'static str>,
    /// `fail-on`.
    pub fail_on: Option<FailThreshold>,
    /// `[severity]`: per-rule severity overrides, by code.
    pub severity: BTreeMap<&'static str, Severity>,
    /// `order`: the declared canonical lock order (relation names as written).
    pub order: Vec<String>,
    /// `[[groups]]`.
    pub groups: Vec<GroupConfig>,
    /// `engine`: the engine of transactions whose files name none (see
    /// `lockgraph_source::engine` for the order of precedence).
    pub engine: Option<lockgraph_core::Engine>,
    /// `[[engines]]`: per-path engines, first match wins.
    pub engines: Vec<EngineConfig>,
}

/// A problem in a configuration file, with the place it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDiagnostic {
    /// The file as named in messages.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// The source line.
    pub source_line: String,
    /// How many characters of the line to underline (at least 1).
    pub width: usize,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.line.to_string();
        let pad = " ".repeat(n.len());
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{n} | {}", self.source_line)?;
        write!(
            f,
            "{pad} | {}{}",
            " ".repeat(self.column - 1),
            "^".repeat(self.width)
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// `--config pyproject.toml` without a `[tool.lockgraph]` table.
    #[error("{path}: no [tool.lockgraph] table")]
    NoTable {
        /// The file.
        path: String,
    },
    /// The file has errors; every one is listed.
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<ConfigDiagnostic>),
    /// The inputs lie under different configuration files.
    #[error(
        "the inputs are governed by different configuration files: {}; check them in separate runs or choose one with --config FILE",
        .0.join(", ")
    )]
    Ambiguous(Vec<String>),
}

/// The configuration file that governs a run, if any: for each input (a file's directory, or
/// the directory itself), the nearest `lockgraph.toml` — or `pyproject.toml` with a
/// `[tool.lockgraph]` table — in it or an ancestor; inputs that reach none (and runs without
/// inputs) use the nearest one above the working directory. In one directory `lockgraph.toml`
/// wins over `pyproject.toml`. Inputs governed by different files are an error: one run has one
/// configuration.
pub fn find(cwd: &Path, inputs: &[PathBuf]) -> Result<Option<PathBuf>, ConfigError> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut fallback = inputs.is_empty();
    for input in inputs {
        let abs = cwd.join(input);
        let start = if abs.is_dir() {
            abs.as_path()
        } else {
            abs.parent().unwrap_or(cwd)
        };
        match nearest(start) {
            Some(p) => found.push(p),
            None => fallback = true,
        }
    }
    if fallback && let Some(p) = nearest(cwd) {
        found.push(p);
    }
    let mut unique: Vec<PathBuf> = Vec::new();
    for p in found {
        let key = std::fs::canonicalize(&p).unwrap_or(p);
        if !unique.contains(&key) {
            unique.push(key);
        }
    }
    match unique.len() {
        0 => Ok(None),
        1 => Ok(unique.pop()),
        _ => Err(ConfigError::Ambiguous(
            unique.iter().map(|p| display_path(p, cwd)).collect(),
        )),
    }
}

/// The nearest configuration file in `dir` or an ancestor.
fn nearest(dir: &Path) -> Option<PathBuf> {
    for d in dir.ancestors() {
        let own = d.join(CONFIG_FILE);
        if own.is_file() {
            return Some(own);
        }
        let py = d.join(PYPROJECT_FILE);
        if py.is_file()
            && let Ok(text) = std::fs::read_to_string(&py)
            && has_tool_table(&text)
        {
            return Some(py);
        }
    }
    None
}

/// Whether a pyproject.toml has a `[tool.lockgraph]` table (a file that does not parse but
/// mentions it counts, so that its errors are reported rather than skipped).
fn has_tool_table(text: &str) -> bool {
    if !text.contains("lockgraph") {
        return false;
    }
    match DeTable::parse(text) {
        Ok(doc) => lockgraph_table(doc.get_ref()).is_some(),
        Err(_) => true,
    }
}

fn lockgraph_table<'a, 'i>(doc: &'a DeTable<'i>) -> Option<&'a Spanned<DeValue<'i>>> {
    let tool = entry(doc, "tool")?;
    entry(tool.get_ref().as_table()?, "lockgraph")
}

fn entry<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

/// `path` relative to `cwd` when it lies inside it, `/`-separated; else as it is.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| cwd.join(path));
    let shown = abs.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or(abs);
    shown
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/")
}

/// Reads and validates a configuration file (`pyproject.toml` by its name, anything else as a
/// `lockgraph.toml`). Relative paths in it are resolved against its directory.
pub fn load(path: &Path, cwd: &Path) -> Result<Config, ConfigError> {
    let display = display_path(path, cwd);
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: display.clone(),
        source,
    })?;
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| cwd.join(path));
    let base = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    let pyproject = path.file_name().is_some_and(|n| n == PYPROJECT_FILE);
    parse(&text, &display, &base, pyproject)?.ok_or(ConfigError::NoTable { path: display })
}

/// The keys as serde sees them; unknown keys are found by the document walk instead.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    include: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    file_transaction: Vec<Spanned<String>>,
    migration_transactions: Option<bool>,
    #[serde(default)]
    schema: Vec<Spanned<String>>,
    #[serde(default)]
    select: Vec<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    order: Vec<Spanned<String>>,
    #[serde(default)]
    groups: Vec<Spanned<RawGroup>>,
    engine: Option<Spanned<String>>,
    #[serde(default)]
    engines: Vec<Spanned<RawEngines>>,
}

#[derive(Debug, Deserialize)]
struct RawEngines {
    paths: Vec<Spanned<String>>,
    engine: Spanned<String>,
}

#[derive(Debug, Deserialize)]
struct RawGroup {
    name: Spanned<String>,
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    concurrent: bool,
}

#[derive(Debug, Deserialize)]
struct RawPyproject {
    tool: Option<RawTool>,
}

#[derive(Debug, Deserialize)]
struct RawTool {
    lockgraph: Option<RawConfig>,
}

/// Collects diagnostics against one file's text.
struct Sink<'a> {
    text: &'a str,
    file: &'a str,
    diagnostics: Vec<ConfigDiagnostic>,
}

impl Sink<'_> {
    fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let source_line = self.text[line_start..line_end].trim_end_matches('\r');
        let column = self.text[line_start..start].chars().count() + 1;
        let end = span.end.clamp(start, line_end.max(start));
        let width = self.text[start..end].chars().count().max(1);
        self.diagnostics.push(ConfigDiagnostic {
            file: self.file.to_string(),
            line: self.text[..start].matches('\n').count() + 1,
            column,
            message,
            source_line: source_line.to_string(),
            width,
            help,
        });
    }
}

/// Parses and validates configuration text. `file` names it in diagnostics, `base` resolves its
/// relative paths, `pyproject` reads the `[tool.lockgraph]` table of a pyproject.toml (and returns
/// `Ok(None)` when there is none).
pub fn parse(
    text: &str,
    file: &str,
    base: &Path,
    pyproject: bool,
) -> Result<Option<Config>, ConfigError> {
    let mut sink = Sink {
        text,
        file,
        diagnostics: Vec::new(),
    };
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            sink.error(
                e.span().unwrap_or(0..0),
                format!("invalid TOML: {}", e.message().trim_end()),
                None,
            );
            return Err(ConfigError::Invalid(sink.diagnostics));
        }
    };
    // Pass 1: every unknown key, with its place.
    let table = if pyproject {
        match lockgraph_table(doc.get_ref()) {
            None => return Ok(None),
            Some(v) => v.get_ref().as_table(),
        }
    } else {
        Some(doc.get_ref())
    };
    if let Some(table) = table {
        unknown_keys(&mut sink, table);
    }
    // Pass 2: the known keys, typed, with spans.
    let raw = if pyproject {
        toml::from_str::<RawPyproject>(text)
            .map(|p| p.tool.and_then(|t| t.lockgraph).unwrap_or_default())
    } else {
        toml::from_str::<RawConfig>(text)
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            sink.error(
                e.span().unwrap_or(0..0),
                e.message().trim_end().to_string(),
                None,
            );
            return Err(ConfigError::Invalid(sorted(sink.diagnostics)));
        }
    };
    let config = validate(&mut sink, raw, file, base);
    if sink.diagnostics.is_empty() {
        Ok(Some(config))
    } else {
        Err(ConfigError::Invalid(sorted(sink.diagnostics)))
    }
}

fn sorted(mut d: Vec<ConfigDiagnostic>) -> Vec<ConfigDiagnostic> {
    d.sort_by_key(|d| (d.line, d.column));
    d
}

fn unknown_keys(sink: &mut Sink<'_>, table: &DeTable<'_>) {
    for (key, value) in table {
        let k: &str = key.get_ref();
        if !KEYS.contains(&k) {
            sink.error(
                key.span(),
                format!("unknown key `{k}`"),
                Some(suggest(k, KEYS.iter().copied(), "the keys are")),
            );
            continue;
        }
        let (entry_keys, what) = match k {
            "groups" => (GROUP_KEYS, "a group has"),
            "engines" => (ENGINE_KEYS, "an [[engines]] entry has"),
            _ => continue,
        };
        let Some(items) = value.get_ref().as_array() else {
            continue;
        };
        for item in items.iter() {
            let Some(entry) = item.get_ref().as_table() else {
                continue;
            };
            for (ek, _) in entry {
                let ek_str: &str = ek.get_ref();
                if !entry_keys.contains(&ek_str) {
                    sink.error(
                        ek.span(),
                        format!("unknown key `{ek_str}` in [[{k}]]"),
                        Some(suggest(ek_str, entry_keys.iter().copied(), what)),
                    );
                }
            }
        }
    }
}

/// `did you mean `x`?` for a near miss, else the list of what is valid.
fn suggest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
    list: &str,
) -> String {
    let lower = word.to_ascii_lowercase();
    let best = candidates
        .clone()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .min();
    match best {
        Some((d, c)) if d <= 2.max(word.len() / 4) => format!("did you mean `{c}`?"),
        _ => format!("{list}: {}", candidates.collect::<Vec<_>>().join(", ")),
    }
}

/// Levenshtein distance (counted in characters).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A rule code or name, resolved; an error pointing at it when it matches no rule.
fn rule(sink: &mut Sink<'_>, key: &str, name: &Spanned<String>) -> Option<&'static str> {
    let n = name.get_ref().trim();
    if let Some(r) = lockgraph_rules::find_rule(n) {
        return Some(r.info().code);
    }
    let rules = lockgraph_rules::REGISTRY
        .iter()
        .flat_map(|r| [r.info().code, r.info().name]);
    let help = match suggest(n, rules, "") {
        s if s.starts_with("did you mean") => s,
        _ => "`lockgraph rules` lists the codes and names".to_string(),
    };
    sink.error(
        name.span(),
        format!("`{n}` in `{key}` matches no rule"),
        Some(help),
    );
    None
}

fn globs(sink: &mut Sink<'_>, key: &str, items: &[Spanned<String>]) -> Vec<String> {
    let mut out = Vec::new();
    for g in items {
        match Glob::new(g.get_ref()) {
            Ok(_) => out.push(g.get_ref().clone()),
            Err(e) => sink.error(
                g.span(),
                format!("invalid glob in `{key}`: {}", e.kind()),
                None,
            ),
        }
    }
    out
}

fn validate(sink: &mut Sink<'_>, raw: RawConfig, file: &str, base: &Path) -> Config {
    let mut config = Config {
        display: file.to_string(),
        base: base.to_path_buf(),
        migration_transactions: raw.migration_transactions,
        ..Config::default()
    };
    config.include = globs(sink, "include", &raw.include);
    config.exclude = globs(sink, "exclude", &raw.exclude);
    config.file_transaction = raw
        .file_transaction
        .iter()
        .map(|p| base.join(p.get_ref()))
        .collect();
    config.schema = raw.schema.iter().map(|p| base.join(p.get_ref())).collect();
    config.select = raw
        .select
        .iter()
        .filter_map(|n| rule(sink, "select", n))
        .collect();
    config.ignore = raw
        .ignore
        .iter()
        .filter_map(|n| rule(sink, "ignore", n))
        .collect();
    if let Some(f) = &raw.fail_on {
        config.fail_on = match f.get_ref().to_ascii_lowercase().as_str() {
            "never" => Some(FailThreshold::Never),
            "error" => Some(FailThreshold::At(Severity::Error)),
            "warning" => Some(FailThreshold::At(Severity::Warning)),
            "info" => Some(FailThreshold::At(Severity::Info)),
            other => {
                sink.error(
                    f.span(),
                    format!("`fail-on` is `{other}`"),
                    Some("one of: error, warning, info, never".into()),
                );
                None
            }
        };
    }
    for (name, level) in &raw.severity {
        let Some(code) = rule(sink, "severity", name) else {
            continue;
        };
        match Severity::parse(level.get_ref()) {
            Some(s) => {
                config.severity.insert(code, s);
            }
            None => sink.error(
                level.span(),
                format!("`{}` is not a severity", level.get_ref()),
                Some("one of: error, warning, info".into()),
            ),
        }
    }
    let mut seen: Vec<lockgraph_core::RelationName> = Vec::new();
    for r in &raw.order {
        let name = lockgraph_core::RelationName::parse(r.get_ref());
        if name.as_str().is_empty() {
            sink.error(r.span(), "empty relation name in `order`".into(), None);
        } else if seen.contains(&name) {
            sink.error(
                r.span(),
                format!("`{}` appears twice in `order`", r.get_ref()),
                Some("a relation has one place in the lock order".into()),
            );
        } else {
            seen.push(name);
            config.order.push(r.get_ref().clone());
        }
    }
    let mut names: Vec<String> = Vec::new();
    for g in &raw.groups {
        let g = g.get_ref();
        let name = g.name.get_ref().trim();
        if name.is_empty() {
            sink.error(g.name.span(), "a group needs a name".into(), None);
            continue;
        }
        if names.iter().any(|n| n == name) {
            sink.error(
                g.name.span(),
                format!("group `{name}` is declared twice"),
                Some("list all its paths in one [[groups]] entry".into()),
            );
            continue;
        }
        names.push(name.to_string());
        config.groups.push(GroupConfig {
            name: name.to_string(),
            paths: globs(sink, "paths", &g.paths),
            concurrent: g.concurrent,
        });
    }
    config.engine = raw.engine.as_ref().and_then(|e| engine(sink, e));
    for e in &raw.engines {
        let e = e.get_ref();
        if let Some(engine) = engine(sink, &e.engine) {
            config.engines.push(EngineConfig {
                paths: globs(sink, "paths", &e.paths),
                engine,
            });
        }
    }
    config
}

fn engine(sink: &mut Sink<'_>, name: &Spanned<String>) -> Option<lockgraph_core::Engine> {
    let engine = lockgraph_core::Engine::parse(name.get_ref());
    if engine.is_none() {
        sink.error(
            name.span(),
            format!("`{}` is not an engine", name.get_ref()),
            Some("one of: postgres, mysql, sqlite".into()),
        );
    }
    engine
}

/// Globs from a configuration file. A glob matches a file when it matches the file's path
/// relative to the configuration's directory, or — like `--include` — the file's display name or
/// any trailing part of it that starts after a `/` (so `migrations/**` matches at any depth).
#[derive(Debug, Clone)]
pub struct PathGlobs {
    set: GlobSet,
    base: Option<PathBuf>,
}

impl PathGlobs {
    /// Compiles the globs; `base` is the configuration's directory.
    pub fn new(globs: &[String], base: Option<&Path>) -> Result<PathGlobs, String> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            b.add(Glob::new(g).map_err(|e| format!("invalid glob '{g}': {e}"))?);
        }
        Ok(PathGlobs {
            set: b.build().map_err(|e| e.to_string())?,
            base: base.map(|b| std::fs::canonicalize(b).unwrap_or_else(|_| b.to_path_buf())),
        })
    }

    /// Whether the file at `path`, shown as `name`, matches.
    pub fn matches(&self, path: &Path, name: &str) -> bool {
        if let Some(base) = &self.base {
            let abs = std::fs::canonicalize(path).ok();
            if let Some(rel) = abs.as_deref().and_then(|a| a.strip_prefix(base).ok()) {
                let rel = rel
                    .to_string_lossy()
                    .replace(std::path::MAIN_SEPARATOR, "/");
                if self.set.is_match(&rel) {
                    return true;
                }
            }
        }
        self.set.is_match(name)
            || name
                .match_indices('/')
                .any(|(i, _)| self.set.is_match(&name[i + 1..]))
    }
}

/// `include`/`exclude` of a configuration file (either may be absent).
#[derive(Debug, Clone, Default)]
pub struct PathFilter {
    /// Only files matching these are read.
    pub include: Option<PathGlobs>,
    /// Files matching these are skipped.
    pub exclude: Option<PathGlobs>,
}

impl PathFilter {
    /// Whether the filter narrows anything.
    pub fn is_active(&self) -> bool {
        self.include.is_some() || self.exclude.is_some()
    }

    /// Whether a walked file is read.
    pub fn accepts(&self, path: &Path, name: &str) -> bool {
        self.include.as_ref().is_none_or(|g| g.matches(path, name))
            && !self.exclude.as_ref().is_some_and(|g| g.matches(path, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Config {
        parse(text, "lockgraph.toml", Path::new("/p"), false)
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap()
    }

    fn errors(text: &str) -> Vec<ConfigDiagnostic> {
        match parse(text, "lockgraph.toml", Path::new("/p"), false) {
            Err(ConfigError::Invalid(d)) => d,
            other => panic!("expected diagnostics, got {other:?}"),
        }
    }

    #[test]
    fn every_key() {
        let c = ok(r#"
include = ["db/**"]
exclude = ["db/seed/**"]
file-transaction = ["db/deploy"]
migration-transactions = false
schema = ["db/schema.sql"]
select = ["LG101", "unordered-row-locks"]
ignore = ["LG903"]
fail-on = "warning"
order = ["accounts", "ledger"]
engine = "postgres"

[severity]
LG103 = "error"
lock-upgrade = "info"

[[groups]]
name = "batch"
paths = ["jobs/**"]
concurrent = false

[[engines]]
paths = ["cache/**"]
engine = "sqlite"
"#);
        assert_eq!(c.include, ["db/**"]);
        assert_eq!(c.exclude, ["db/seed/**"]);
        assert_eq!(c.file_transaction, [PathBuf::from("/p/db/deploy")]);
        assert_eq!(c.migration_transactions, Some(false));
        assert_eq!(c.schema, [PathBuf::from("/p/db/schema.sql")]);
        assert_eq!(c.select, ["LG101", "LG103"]);
        assert_eq!(c.ignore, ["LG903"]);
        assert_eq!(c.fail_on, Some(FailThreshold::At(Severity::Warning)));
        assert_eq!(c.order, ["accounts", "ledger"]);
        assert_eq!(c.severity["LG103"], Severity::Error);
        assert_eq!(c.severity["LG102"], Severity::Info);
        assert_eq!(
            c.groups,
            [GroupConfig {
                name: "batch".into(),
                paths: vec!["jobs/**".into()],
                concurrent: false
            }]
        );
        assert_eq!(c.engine, Some(lockgraph_core::Engine::Postgres));
        assert_eq!(
            c.engines,
            [EngineConfig {
                paths: vec!["cache/**".into()],
                engine: lockgraph_core::Engine::Sqlite
            }]
        );
    }

    #[test]
    fn unknown_keys_are_all_reported_with_places() {
        let d = errors(
            "fial-on = \"error\"\nselect = [\"LG101\"]\n\n[[groups]]\nname = \"m\"\npaths = []\nconcurrently = true\n",
        );
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!((d[0].line, d[0].column, d[0].width), (1, 1, 7));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `fail-on`?"));
        assert_eq!((d[1].line, d[1].column), (7, 1));
        assert!(d[1].message.contains("[[groups]]"));
        assert_eq!(
            d[0].to_string(),
            "lockgraph.toml:1:1: unknown key `fial-on`\n  |\n1 | fial-on = \"error\"\n  | ^^^^^^^\n  = help: did you mean `fail-on`?"
        );
    }

    #[test]
    fn rules_that_match_nothing_point_at_the_value() {
        let d = errors("select = [\"LG101\", \"LG1O2\"]\n[severity]\nlock-upgrad = \"error\"\n");
        assert_eq!(d.len(), 2, "{d:#?}");
        assert_eq!((d[0].line, d[0].column, d[0].width), (1, 20, 7));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `LG102`?"));
        assert_eq!((d[1].line, d[1].column), (3, 1));
    }

    #[test]
    fn bad_values() {
        let d = errors(
            "fail-on = \"sometimes\"\norder = [\"a\", \"A\"]\n[severity]\nLG101 = \"fatal\"\n",
        );
        let messages: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`fail-on` is `sometimes`",
                "`A` appears twice in `order`",
                "`fatal` is not a severity"
            ]
        );
        let d = errors("select = \"LG101\"\n");
        assert_eq!(d[0].line, 1);
        assert!(d[0].message.contains("expected a sequence"), "{d:?}");
        let d = errors("order = [\n");
        assert!(d[0].message.starts_with("invalid TOML"), "{d:?}");
        let d = errors(
            "engine = \"oracle\"\n[[engines]]\npaths = [\"a/**\"]\nengine = \"db2\"\ndriver = 1\n",
        );
        let messages: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "`oracle` is not an engine",
                "`db2` is not an engine",
                "unknown key `driver` in [[engines]]"
            ]
        );
    }

    #[test]
    fn pyproject_reads_tool_lockgraph_only() {
        let text = "[project]\nname = \"x\"\n\n[tool.lockgraph]\nfail-on = \"info\"\nbogus = 1\n";
        match parse(text, "pyproject.toml", Path::new("/p"), true) {
            Err(ConfigError::Invalid(d)) => {
                assert_eq!((d.len(), d[0].line), (1, 6), "{d:?}");
            }
            other => panic!("{other:?}"),
        }
        let c = parse(
            "[tool.lockgraph]\nfail-on = \"info\"\n",
            "pyproject.toml",
            Path::new("/p"),
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(c.fail_on, Some(FailThreshold::At(Severity::Info)));
        assert!(
            parse(
                "[project]\nname = \"x\"\n",
                "pyproject.toml",
                Path::new("/p"),
                true
            )
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn globs_match_relative_to_the_config_or_at_any_depth() {
        let g = PathGlobs::new(&["migrations/**".into()], None).unwrap();
        assert!(g.matches(Path::new("x"), "db/migrations/0001.sql"));
        assert!(!g.matches(Path::new("x"), "db/0001.sql"));
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("fial-on", "fail-on"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
