//! lockgraph's rules: one registry of stable codes, one module per rule, docs generated from it.
//!
//! A rule reads an [`Analysis`] — every [`Transaction`] the front-ends produced, the
//! [`LockGraph`] built from them, the input [`Diagnostic`]s and the [`Schema`] — and appends
//! [`Finding`]s. [`check`] runs the selected rules of [`REGISTRY`] and returns findings sorted
//! for deterministic output. Each finding of a deadlock rule carries a [`Suggestion`] and a
//! [`Repro`] built by [`repro`] (the interleaving that makes the deadlock happen on a real server,
//! with setup DDL and seed rows from the schema).
//!
//! ```
//! use lockgraph_rules::{check, Analysis, CheckOptions, REGISTRY};
//! use lockgraph_core::Schema;
//! use lockgraph_sql::{build_transactions, SqlFileOptions};
//!
//! let sql = "BEGIN; UPDATE a SET n = 1 WHERE id = 1; UPDATE b SET n = 1 WHERE id = 1; COMMIT;\n\
//!            BEGIN; UPDATE b SET n = 2 WHERE id = 1; UPDATE a SET n = 2 WHERE id = 1; COMMIT;";
//! let schema = Schema::default();
//! let (txns, diags) = build_transactions("x.sql", sql, &schema, &SqlFileOptions::default());
//! let analysis = Analysis::new(&txns, &diags, &schema, &[], CheckOptions::default());
//! let findings = check(&analysis, &REGISTRY.iter().map(|r| r.info().code).collect::<Vec<_>>());
//! assert_eq!(findings[0].code, "LG101");
//! ```
//!
//! Design notes: rules never see parser or database types, only the core model; a rule's
//! `///` doc comment is its user documentation (`declare_rule!` captures it), and a test keeps the
//! four spellings of each rule (code, kebab name, type, file) in sync.
#![warn(missing_docs)]

/// Shared helpers for building findings (labels, statement text, fingerprints).
mod evidence;
/// Shared pieces of the live rules (4xx from a snapshot).
mod live;
/// Reproductions: interleavings, setup DDL and seed rows.
pub mod repro;
/// The rule trait and `declare_rule!`.
mod rule;
/// One module per rule.
pub mod rules;

pub use rule::{Rule, RuleInfo};

use lockgraph_core::{
    Diagnostic, Finding, LockSnapshot, ObservedDeadlock, Schema, Statement, Suppression,
    Transaction,
};
use lockgraph_graph::{LockGraph, WaitGraph};
use std::sync::Arc;

/// Knobs that change what rules report.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Print statements with their literals (default: redacted).
    pub show_literals: bool,
    /// At most this many cycles per strongly connected component.
    pub max_cycles_per_component: usize,
    /// At most this many cycles in total.
    pub max_cycles: usize,
    /// The project's declared canonical lock order (relation names, first to last) from
    /// `order = [...]` in lockgraph.toml; LG104 reports transactions that lock against it.
    /// Empty: no order declared.
    pub declared_order: Vec<String>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            show_literals: false,
            max_cycles_per_component: 64,
            max_cycles: 512,
            declared_order: Vec::new(),
        }
    }
}

/// Everything the rules read.
pub struct Analysis<'a> {
    /// All transactions from every input.
    pub transactions: &'a [Transaction],
    /// Input problems (unparseable or unmodelled statements).
    pub diagnostics: &'a [Diagnostic],
    /// Tables, keys and foreign keys seen in the input.
    pub schema: &'a Schema,
    /// Every statement of the input in input order (reproductions replay its DDL as setup).
    pub statements: &'a [Arc<Statement>],
    /// Deadlocks the server reported (from logs or live inspection); empty for static checks.
    pub deadlocks: &'a [ObservedDeadlock],
    /// Inline `lockgraph: ignore[…]` comments of the input.
    pub suppressions: &'a [Suppression],
    /// The wait-for graph of a live server's snapshot (live mode), built once for the live
    /// 4xx rules; its `snapshot` field is the snapshot itself.
    pub waits: Option<WaitGraph<'a>>,
    /// The transactions that run on SQLite, kept apart from `transactions` (SQLite locks the
    /// whole database file, not rows or tables): the SQLite rules (5xx) read them.
    pub sqlite: Option<&'a lockgraph_sqlite::SqliteModel>,
    /// The lock-order graph over `transactions`.
    pub graph: LockGraph,
    /// Options.
    pub options: CheckOptions,
}

impl<'a> Analysis<'a> {
    /// Builds the lock-order graph and bundles the inputs.
    pub fn new(
        transactions: &'a [Transaction],
        diagnostics: &'a [Diagnostic],
        schema: &'a Schema,
        statements: &'a [Arc<Statement>],
        options: CheckOptions,
    ) -> Self {
        let graph = LockGraph::build(transactions);
        Analysis {
            transactions,
            diagnostics,
            schema,
            statements,
            deadlocks: &[],
            suppressions: &[],
            waits: None,
            sqlite: None,
            graph,
            options,
        }
    }

    /// Adds the input's suppression comments ([`check`] drops what they silence and reports
    /// the unused ones as LG904).
    pub fn with_suppressions(mut self, suppressions: &'a [Suppression]) -> Self {
        self.suppressions = suppressions;
        self
    }

    /// Adds a live snapshot (the live rules LG402–LG405 read it).
    pub fn with_snapshot(mut self, snapshot: &'a LockSnapshot) -> Self {
        self.waits = Some(WaitGraph::build(snapshot));
        self
    }

    /// Adds the SQLite transactions and connections (the 5xx rules read them).
    pub fn with_sqlite(mut self, sqlite: &'a lockgraph_sqlite::SqliteModel) -> Self {
        self.sqlite = Some(sqlite);
        self
    }

    /// Adds the deadlocks a server reported (the 4xx rules read them).
    pub fn with_deadlocks(mut self, deadlocks: &'a [ObservedDeadlock]) -> Self {
        self.deadlocks = deadlocks;
        self
    }
}

impl Analysis<'_> {
    /// Transactions (with their index) that two concurrent runs of can overlap — the ones that
    /// can deadlock with themselves (LG102, LG103). Migrations in one group never overlap.
    pub fn self_concurrent(&self) -> impl Iterator<Item = (usize, &Transaction)> + '_ {
        self.transactions
            .iter()
            .enumerate()
            .filter(|(_, t)| t.may_run_concurrently_with(t))
    }
}

/// Every rule, in code order. Adding a rule means adding it here (and a fixture pair).
pub static REGISTRY: &[&dyn Rule] = &[
    &rules::lock_order_inversion::LockOrderInversion,
    &rules::lock_upgrade::LockUpgrade,
    &rules::unordered_row_locks::UnorderedRowLocks,
    &rules::declared_order_violation::DeclaredOrderViolation,
    &rules::deadlock_observed::DeadlockObserved,
    &rules::deadlock_in_progress::DeadlockInProgress,
    &rules::root_blocker::RootBlocker,
    &rules::idle_in_transaction_blocker::IdleInTransactionBlocker,
    &rules::access_exclusive_queue::AccessExclusiveQueue,
    &rules::sqlite_deferred_upgrade::SqliteDeferredUpgrade,
    &rules::sqlite_lock_across_await::SqliteLockAcrossAwait,
    &rules::sqlite_no_busy_timeout::SqliteNoBusyTimeout,
    &rules::unparseable_statement::UnparseableStatement,
    &rules::unmodelled_statement::UnmodelledStatement,
    &rules::dynamic_relation::DynamicRelation,
    &rules::unused_suppression::UnusedSuppression,
];

/// Looks a rule up by code (`LG101`) or name (`lock-order-inversion`), case-insensitively.
pub fn find_rule(code_or_name: &str) -> Option<&'static dyn Rule> {
    REGISTRY.iter().copied().find(|r| {
        r.info().code.eq_ignore_ascii_case(code_or_name)
            || r.info().name.eq_ignore_ascii_case(code_or_name)
    })
}

/// Runs the rules whose codes are in `selected` and returns their findings, sorted by location,
/// code and fingerprint, duplicates (same code and fingerprint) removed. Findings an inline
/// suppression covers are dropped, and unused suppressions become LG904 findings.
pub fn check(analysis: &Analysis<'_>, selected: &[&str]) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in REGISTRY {
        if selected.contains(&rule.info().code) {
            rule.check(analysis, &mut out);
        }
    }
    rules::unused_suppression::apply(&mut out, analysis.suppressions, selected);
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|f| seen.insert((f.code, f.fingerprint)));
    out
}

/// The rules documentation in Markdown (docs/rules.md is this text; a test keeps them equal).
pub fn rules_markdown() -> String {
    let mut md = String::from(
        "# Rules\n\n<!-- generated by `lockgraph rules --markdown`; do not edit by hand -->\n\n",
    );
    md.push_str(&rules_table_markdown(""));
    for r in REGISTRY {
        let i = r.info();
        md.push_str(&format!(
            "\n## {}\n\n`{}` · default severity: {} · engines: {}\n\n",
            i.code,
            i.name,
            i.severity,
            engines(i)
        ));
        md.push_str(&rule_doc_markdown(i));
    }
    md
}

/// The rules as a Markdown table (README and docs/rules.md); links are prefixed with `link_base`.
pub fn rules_table_markdown(link_base: &str) -> String {
    let mut md =
        String::from("| code | name | severity | engines | summary |\n|---|---|---|---|---|\n");
    for r in REGISTRY {
        let i = r.info();
        md.push_str(&format!(
            "| [{}]({link_base}#{}) | `{}` | {} | {} | {} |\n",
            i.code,
            i.code.to_lowercase(),
            i.name,
            i.severity,
            engines(i),
            i.summary
        ));
    }
    md
}

/// `PostgreSQL, MySQL/InnoDB`.
fn engines(info: &RuleInfo) -> String {
    let names: Vec<&str> = info.engines.iter().map(|e| e.title()).collect();
    names.join(", ")
}

/// One rule's documentation with headings demoted to sit under the rule's own heading.
pub fn rule_doc_markdown(info: &RuleInfo) -> String {
    let mut out = String::new();
    for line in info.doc.lines() {
        let line = line.strip_prefix(' ').unwrap_or(line);
        if let Some(h) = line.strip_prefix("## ") {
            out.push_str("### ");
            out.push_str(h);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}
