//! Command-line arguments.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// lockgraph — lockdep for databases: find the lock-order cycles that become deadlocks.
#[derive(Debug, Parser)]
#[command(name = "lockgraph", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Statically check SQL files and migrations for deadlock hazards.
    Check(CheckArgs),
    /// Analyse PostgreSQL server logs: deadlocks explained, lock waits, deadlocks predicted.
    Logs(LogsArgs),
    /// List the rules (or print their documentation as Markdown).
    Rules {
        /// Print the full documentation as Markdown (what docs/rules.md contains).
        #[arg(long)]
        markdown: bool,
    },
    /// Print one rule's documentation.
    Rule {
        /// Code (`LG101`) or name (`lock-order-inversion`).
        code: String,
    },
    /// Look at a live PostgreSQL server: who blocks whom right now, the root blocker, cycles;
    /// `--watch` keeps looking and learns the lock orders it sees.
    Live(crate::live::LiveArgs),
    /// Run a SQL file (a migration) in a transaction that is always rolled back, and report the
    /// locks each statement really took (from pg_locks), compared with static inference.
    Trace(crate::trace::TraceArgs),
    /// Run a reproduction script (written by `check --emit-repro`) against a database and report
    /// whether the server raised a deadlock (PostgreSQL: 40P01; MySQL/MariaDB: error 1213). Works
    /// in a scratch schema (PostgreSQL) or database (MySQL) it drops afterwards.
    Repro {
        /// The script.
        file: PathBuf,
        /// Connection string or URL of a database you own (never production): `postgres://…`
        /// for PostgreSQL scripts, `mysql://…` for MySQL/MariaDB scripts (`-- engine: mysql`).
        #[arg(long, env = "DATABASE_URL")]
        url: String,
    },
    /// Render the history store (`logs --store`, `merge`) as one HTML page: the lock-order
    /// graph, deadlock signatures, timeline, top blockers, new and resolved signatures.
    Report(crate::report_cmd::ReportArgs),
    /// Merge history stores made on different machines (one per host or log shard) into one.
    Merge(crate::merge::MergeArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    Completions(crate::completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory with `--out`.
    Man(crate::completions::ManArgs),
}

/// Options of `lockgraph check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check (directories are walked for *.sql and *.py, honouring
    /// .gitignore).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Only read walked files matching this glob (repeatable; `app/**`, `*.sql`). A glob without
    /// `/` matches at any depth.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip walked files matching this glob (repeatable; `tests/**`, `*_test.py`).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// How deep calls from a transaction into other functions are followed.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_call_depth: usize,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lowest severity that makes the exit code 1 [default: `fail-on` of the configuration file,
    /// else error].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Add the transaction shapes production logs showed (stored by `logs --store`) to the
    /// analysis, so a code path inverting a production lock order is caught (default without a
    /// value: `lockgraph/history.sqlite` in the user's data directory).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub store: Option<PathBuf>,
    /// Treat every file under this path as one transaction (as migration runners do). Files under
    /// a directory named `migrations` are treated this way unless `--no-migration-transactions`.
    #[arg(long, value_name = "PATH")]
    pub file_transaction: Vec<PathBuf>,
    /// Do not treat files under `migrations/` directories as one transaction each.
    #[arg(long)]
    pub no_migration_transactions: bool,
    /// The database engine of transactions whose files name none through their drivers or URLs
    /// (postgres, mysql, sqlite) [default: `engine` of the configuration file, else the engine
    /// the project's code names, else postgres]. `[[engines]]` in the configuration sets it per
    /// path.
    #[arg(long, value_name = "ENGINE", value_parser = parse_engine)]
    pub engine: Option<lockgraph_core::Engine>,
    /// Only run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Write a two-session reproduction script per finding into this directory.
    #[arg(long, value_name = "DIR")]
    pub emit_repro: Option<PathBuf>,
    /// Show SQL literals in output (they are redacted by default: logs and code carry data).
    #[arg(long)]
    pub show_literals: bool,
    /// Report only findings that are not in this baseline file (written by --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every finding of this run in FILE as the accepted baseline; the exit code is then
    /// 0 unless an input or configuration error occurred.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings that involve lines changed since this git revision (working tree
    /// against REV, untracked files included).
    #[arg(long, value_name = "REV")]
    pub diff_base: Option<String>,
    /// Configuration file options.
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// Which configuration file to use (`check`, `logs`, `live`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Read the configuration from FILE (a lockgraph.toml, or a pyproject.toml with a
    /// [tool.lockgraph] table) instead of discovering it.
    #[arg(long = "config", value_name = "FILE", conflicts_with = "no_config")]
    pub path: Option<PathBuf>,
    /// Use no configuration file (defaults and flags only).
    #[arg(long)]
    pub no_config: bool,
}

/// Options of `lockgraph logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Log files (plain, .gz, .zst; `-` for stdin). Rotated sets are read in time order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The server's log_line_prefix (stderr logs); detected from the file when omitted.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Log format; detected from the content when omitted.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// SQL files or directories (migrations, schema dump) that give keys and foreign keys.
    #[arg(long, value_name = "PATH")]
    pub schema: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lowest severity that makes the exit code 1 [default: `fail-on` of the configuration file,
    /// else error].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Only run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Show SQL literals in output (redacted by default: logs carry personal data).
    #[arg(long)]
    pub show_literals: bool,
    /// Never draw a progress bar (it is drawn only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Configuration file options.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Connection string or URL of the database the log came from: relation OIDs the log does
    /// not name are looked up in its `pg_class` (catalog reads only, read-only transaction).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Keep history in this SQLite file (default without a value: `lockgraph/history.sqlite` in
    /// the user's data directory): read only what is new since the last run, then report on
    /// everything stored. See docs/store.md.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
    pub store: Option<PathBuf>,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    /// stderr / syslog-style text with log_line_prefix.
    Stderr,
    /// csvlog.
    Csv,
    /// jsonlog (PostgreSQL 15+).
    Json,
    /// MySQL/MariaDB InnoDB deadlock reports: SHOW ENGINE INNODB STATUS output or an error log
    /// with innodb_print_all_deadlocks = ON.
    Innodb,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics with snippets.
    Text,
    /// Machine-readable JSON (docs/json.md).
    Json,
    /// The lock-order graph in Graphviz DOT.
    Dot,
    /// The lock-order graph as a Mermaid flowchart.
    Mermaid,
    /// SARIF 2.1.0 for GitHub code scanning and other SAST dashboards (docs/formats.md).
    Sarif,
    /// GitHub Actions workflow commands: one annotation per finding.
    Github,
    /// GitLab Code Quality report (JSON).
    Gitlab,
    /// JUnit XML: a testsuite per rule, a failing testcase per finding.
    Junit,
    /// One self-contained HTML page: the graph as SVG, findings, deadlocks, timeline, blockers
    /// (docs/report.md).
    Html,
}

/// `--fail-on` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Info,
    /// Never exit 1 for findings.
    Never,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `postgres`, `mysql`, `sqlite` (and their aliases).
fn parse_engine(s: &str) -> Result<lockgraph_core::Engine, String> {
    lockgraph_core::Engine::parse(s)
        .ok_or_else(|| format!("`{s}` is not an engine (postgres, mysql, sqlite)"))
}
