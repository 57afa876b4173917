use crate::live::{duration, fingerprint, session_label, who};
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Finding, Suggestion};

declare_rule! {
    /// ## What it detects
    /// A live session waiting for an `ACCESS EXCLUSIVE` lock on a table (most `ALTER TABLE`,
    /// `DROP`, `TRUNCATE`, `LOCK TABLE`) while other sessions queue behind its request.
    ///
    /// ## Why it matters
    /// Lock requests are served in order: once the DDL waits (behind a long transaction that
    /// merely read the table), every later `SELECT`, `INSERT` and `UPDATE` of the table waits
    /// behind the DDL. A migration that would take milliseconds takes the table offline.
    ///
    /// ## Example
    /// ```text
    /// pid 812 (migrate) waits for AccessExclusiveLock on relation orders, held by pid 640
    /// pid 901 waits for AccessShareLock on relation orders, queued behind the request of pid 812
    /// ```
    ///
    /// ## How to fix
    /// Run DDL with a short `lock_timeout` (`SET lock_timeout = '2s'`) and retry, so it gives up
    /// instead of building a queue; find out why the blocker's transaction is open so long.
    pub struct AccessExclusiveQueue {
        code: "LG405",
        name: "access-exclusive-queue",
        severity: Error,
        engines: [Postgres],
        summary: "Sessions queue behind a waiting ACCESS EXCLUSIVE request (DDL stalls the table)",
    }
}

impl Rule for AccessExclusiveQueue {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let Some(g) = &a.waits else { return };
        let s = g.snapshot;
        for q in g.access_exclusive_queues() {
            let request = &s.locks[q.request];
            let table = request
                .relation_name
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_else(|| request.describe());
            let r = q.requester;
            let mut labels = vec![session_label(
                s,
                r,
                format!(
                    "({}) waits for AccessExclusiveLock on {}{}",
                    s.backend(r).map(who).unwrap_or_default(),
                    request.describe(),
                    if q.waits_for.is_empty() {
                        String::new()
                    } else {
                        format!(
                            ", held by pid {}",
                            q.waits_for
                                .iter()
                                .map(u32::to_string)
                                .collect::<Vec<_>>()
                                .join(", pid ")
                        )
                    }
                ),
                true,
            )];
            for &h in &q.waits_for {
                let b = s.backend(h);
                labels.push(session_label(
                    s,
                    h,
                    format!(
                        "({}) holds a conflicting lock, {}",
                        b.map(who).unwrap_or_default(),
                        b.map(crate::live::doing).unwrap_or_default()
                    ),
                    false,
                ));
            }
            for &w in &q.queued {
                let mode = s.awaited_by(w).map(|l| l.mode.clone()).unwrap_or_default();
                labels.push(session_label(
                    s,
                    w,
                    format!("waits for {mode} on {table}, queued behind the request of pid {r}"),
                    false,
                ));
            }
            let waited = s.backend(r).and_then(|b| b.query_age_s).unwrap_or(0.0);
            out.push(Finding {
                code: Self::INFO.code,
                name: Self::INFO.name,
                severity: Self::INFO.severity,
                message: format!(
                    "{} behind pid {r}'s ACCESS EXCLUSIVE request on `{table}` (waiting {})",
                    if q.queued.len() == 1 {
                        "1 session queues".to_string()
                    } else {
                        format!("{} sessions queue", q.queued.len())
                    },
                    duration(waited)
                ),
                relations: vec![table.clone()],
                labels,
                fingerprint: fingerprint(Self::INFO.code, s, &[r]),
                suggestion: Some(Suggestion {
                    order: Vec::new(),
                    edits: vec![format!(
                        "run the DDL of pid {r} with SET lock_timeout = '2s' and retry, so it \
                         gives up instead of stalling every query of {table}"
                    )],
                }),
                repro: None,
                notes: Vec::new(),
            });
        }
    }
}
