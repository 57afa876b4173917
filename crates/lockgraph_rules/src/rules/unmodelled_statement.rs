use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{DiagnosticKind, Finding, Fingerprint, Label};

declare_rule! {
    /// ## What it detects
    /// A statement lockgraph parsed but whose locks it does not model (an uncommon DDL form, a
    /// function call whose body is unknown).
    ///
    /// ## Why it matters
    /// Its locks are missing from the lock-order graph; a cycle through it would go unreported.
    ///
    /// ## Example
    /// ```sql
    /// ALTER SYSTEM SET work_mem = '64MB';
    /// ```
    ///
    /// ## How to fix
    /// Nothing to fix in your code. Check the statement's locks with `lockgraph trace` against a
    /// scratch database, and suppress the finding for that line if they do not matter.
    pub struct UnmodelledStatement {
        code: "LG902",
        name: "unmodelled-statement",
        severity: Info,
        engines: [Postgres, Mysql],
        summary: "lockgraph does not model this statement's locks",
    }
}

impl Rule for UnmodelledStatement {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        diagnostics_to_findings(a, DiagnosticKind::UnmodelledStatement, &Self::INFO, out);
    }
}

/// One finding per diagnostic of `kind`.
pub(crate) fn diagnostics_to_findings(
    a: &Analysis<'_>,
    kind: DiagnosticKind,
    info: &'static RuleInfo,
    out: &mut Vec<Finding>,
) {
    for d in a.diagnostics.iter().filter(|d| d.kind == kind) {
        let stmt = d.statement.clone().unwrap_or_default();
        out.push(Finding {
            code: info.code,
            name: info.name,
            severity: info.severity,
            message: match kind {
                DiagnosticKind::UnparseableStatement => {
                    format!(
                        "the SQL parser rejected this statement ({}); its locks may be incomplete",
                        d.message
                    )
                }
                _ => d.message.clone(),
            },
            relations: Vec::new(),
            labels: vec![Label {
                location: d.location.clone(),
                message: d.message.clone(),
                primary: true,
                statement: d.statement.clone(),
            }],
            fingerprint: Fingerprint::of([
                info.code.as_bytes(),
                stmt.as_bytes(),
                d.location.path.as_bytes(),
            ]),
            suggestion: None,
            repro: None,
            notes: Vec::new(),
        });
    }
}
