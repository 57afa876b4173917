use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Finding, Fingerprint, Label, Suppression};

declare_rule! {
    /// ## What it detects
    /// A `lockgraph: ignore[…]` comment that silences nothing: no finding of the rules it names
    /// points at the line it applies to (its own line, or the next line with code when the
    /// comment stands alone).
    ///
    /// ## Why it matters
    /// Stale suppressions hide the next real problem on that line, and readers take them as
    /// documentation of a hazard that is no longer there.
    ///
    /// ## Example
    /// ```python
    /// async def update_a_then_b(conn):
    ///     async with conn.transaction():
    ///         # lockgraph: ignore[LG101] fixed in #412, order is now a then b everywhere
    ///         await conn.execute("UPDATE a SET n = n + 1 WHERE id = $1", 1)
    /// ```
    ///
    /// ## How to fix
    /// Delete the comment. A suppression naming rules that were not run (`--select`/`--ignore`)
    /// is not reported.
    pub struct UnusedSuppression {
        code: "LG904",
        name: "unused-suppression",
        severity: Warning,
        engines: [Postgres, Mysql, Sqlite],
        summary: "A suppression comment silences no finding",
    }
}

impl Rule for UnusedSuppression {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    /// Its findings come from the suppression pass at the end of [`check`](crate::check), which
    /// sees every other rule's findings; on its own it has nothing to look at.
    fn check(&self, _: &Analysis<'_>, _: &mut Vec<Finding>) {}
}

/// Drops the findings a suppression covers (any of a finding's labels on the suppression's
/// target line, and the rule named or none named); with LG904 `selected`, reports each
/// suppression that silenced nothing although every rule it names ran.
pub(crate) fn apply(findings: &mut Vec<Finding>, suppressions: &[Suppression], selected: &[&str]) {
    if suppressions.is_empty() {
        return;
    }
    let mut used = vec![false; suppressions.len()];
    findings.retain(|f| {
        let hit = suppressions.iter().position(|s| {
            s.covers(f.code, f.name) && f.labels.iter().any(|l| l.location == s.target)
        });
        if let Some(i) = hit {
            used[i] = true;
        }
        hit.is_none()
    });
    if !selected.contains(&UnusedSuppression::INFO.code) {
        return;
    }
    for (s, used) in suppressions.iter().zip(used) {
        let all_ran = s
            .codes
            .iter()
            .all(|c| crate::find_rule(c).is_some_and(|r| selected.contains(&r.info().code)));
        if used || !all_ran {
            continue;
        }
        let named = if s.codes.is_empty() {
            "any rule".to_string()
        } else {
            s.codes.join(", ")
        };
        let message = format!(
            "this suppression of {named} silences nothing on line {}",
            s.target.line
        );
        findings.push(Finding {
            code: UnusedSuppression::INFO.code,
            name: UnusedSuppression::INFO.name,
            severity: UnusedSuppression::INFO.severity,
            message: message.clone(),
            relations: Vec::new(),
            labels: vec![Label {
                location: s.comment.clone(),
                message: "unused suppression".into(),
                primary: true,
                statement: None,
            }],
            fingerprint: Fingerprint::of([
                UnusedSuppression::INFO.code.as_bytes(),
                s.comment.path.as_bytes(),
                named.as_bytes(),
            ]),
            suggestion: None,
            repro: None,
            notes: s
                .reason
                .iter()
                .map(|r| format!("reason given: {r}"))
                .collect(),
        });
    }
}
