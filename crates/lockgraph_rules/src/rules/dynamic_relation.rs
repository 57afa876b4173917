use crate::rules::unmodelled_statement::diagnostics_to_findings;
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{DiagnosticKind, Finding};

declare_rule! {
    /// ## What it detects
    /// SQL built in application code whose table name is only known at run time — an f-string,
    /// `%`/`.format()` or concatenation hole where a table name goes (`FROM`, `JOIN`, `UPDATE`,
    /// `INTO`, `TABLE`).
    ///
    /// ## Why it matters
    /// lockgraph cannot tell which table the statement locks, so its locks are missing from the
    /// lock-order graph: a cycle through it would go unreported.
    ///
    /// ## Example
    /// ```python
    /// def bump(cur, table, id):
    ///     cur.execute(f"UPDATE {table} SET n = n + 1 WHERE id = %s", (id,))
    /// ```
    ///
    /// ## How to fix
    /// Prefer one statement per table, so the table is written in the SQL. When the dynamic name
    /// is deliberate, suppress the finding on that line with
    /// `# lockgraph: ignore[LG903] <why>`.
    pub struct DynamicRelation {
        code: "LG903",
        name: "dynamic-relation",
        severity: Warning,
        engines: [Postgres, Mysql, Sqlite],
        summary: "The table a statement locks is only known at run time",
    }
}

impl Rule for DynamicRelation {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        diagnostics_to_findings(a, DiagnosticKind::DynamicRelation, &Self::INFO, out);
    }
}
