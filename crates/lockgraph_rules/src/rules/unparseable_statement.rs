use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{DiagnosticKind, Finding};

declare_rule! {
    /// ## What it detects
    /// A statement the SQL parser rejected. lockgraph still pulls the table names it can find
    /// from the tokens, but the locks it infers for this statement may be incomplete.
    ///
    /// ## Why it matters
    /// A lock that is not inferred cannot close a cycle in the lock-order graph, so a deadlock
    /// through this statement could go unreported.
    ///
    /// ## Example
    /// ```sql
    /// UPDATE accounts SET balance = WHERE id = 1;
    /// ```
    ///
    /// ## How to fix
    /// Fix the syntax, or, for valid PostgreSQL the parser does not know yet, report it to
    /// lockgraph and suppress the finding for that line.
    pub struct UnparseableStatement {
        code: "LG901",
        name: "unparseable-statement",
        severity: Warning,
        engines: [Postgres, Mysql],
        summary: "The SQL parser rejected a statement; its locks may be incomplete",
    }
}

impl Rule for UnparseableStatement {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        crate::rules::unmodelled_statement::diagnostics_to_findings(
            a,
            DiagnosticKind::UnparseableStatement,
            &Self::INFO,
            out,
        );
    }
}
