use crate::evidence::{describe_lock, label_at, locks_fingerprint, place_to_edit, txn_name};
use crate::{Analysis, Rule, RuleInfo, declare_rule, repro};
use lockgraph_core::{
    Finding, InnoDbSx, InnoDbTableMode, LockAcquisition, LockMode, LockTarget, RowLockMode,
    Suggestion,
};

declare_rule! {
    /// ## What it detects
    /// A transaction that takes a lock and later asks for a stronger, conflicting lock on the same
    /// target: `SELECT … FOR SHARE` then `UPDATE` of the same row, `FOR KEY SHARE` then `DELETE`,
    /// `LOCK TABLE … IN SHARE MODE` then `INSERT`, `UPDATE t` then `CREATE INDEX ON t`.
    ///
    /// ## Why it matters
    /// Two concurrent runs both get the weak lock (weak locks do not block each other), then both
    /// ask for the strong one, which conflicts with the weak lock the *other* run holds. Neither
    /// can proceed: PostgreSQL aborts one with `deadlock detected` (40P01). No second transaction
    /// shape is needed — the same code path deadlocks with itself.
    ///
    /// A plain `SELECT` followed by `UPDATE` is not reported: plain reads take no row lock in
    /// PostgreSQL, so they cannot deadlock this way.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// SELECT qty FROM inventory WHERE sku_id = 7 FOR SHARE;
    /// UPDATE inventory SET qty = qty - 1 WHERE sku_id = 7;
    /// COMMIT;
    /// ```
    ///
    /// ## How to fix
    /// Take the strong lock first: `SELECT … FOR UPDATE` (or `FOR NO KEY UPDATE` when no key
    /// column changes) instead of `FOR SHARE`, or `LOCK TABLE … IN <stronger> MODE` at the start.
    pub struct LockUpgrade {
        code: "LG102",
        name: "lock-upgrade",
        severity: Error,
        engines: [Postgres, Mysql],
        summary: "A transaction strengthens a lock it holds; two concurrent runs deadlock",
    }
}

impl Rule for LockUpgrade {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        for (t, txn) in a.self_concurrent() {
            let mut reported: Vec<(usize, usize)> = Vec::new();
            for j in 0..txn.locks.len() {
                let Some(i) = upgrade_source(&txn.locks, j) else {
                    continue;
                };
                // One finding per pair of statements.
                let key = (stmt_pos(txn, i), stmt_pos(txn, j));
                if reported.contains(&key) {
                    continue;
                }
                reported.push(key);
                out.push(finding(a, t, i, j));
            }
        }
    }
}

fn stmt_pos(txn: &lockgraph_core::Transaction, lock: usize) -> usize {
    crate::evidence::statement_index(txn, &txn.locks[lock])
}

/// Whether two acquisitions may be on the same lockable thing (same relation, same rows, same key).
pub(crate) fn same_target(a: &LockTarget, b: &LockTarget) -> bool {
    a.may_be_same(b)
}

/// For lock `j`, the earlier lock `i` it upgrades, if any: same target, `j` conflicts with `i`,
/// nothing taken before `j` already covers `j`, and nothing taken up to `i` serializes two runs.
fn upgrade_source(locks: &[LockAcquisition], j: usize) -> Option<usize> {
    let lj = &locks[j];
    if locks[..j]
        .iter()
        .any(|k| same_target(&k.target, &lj.target) && k.mode.covers(lj.mode))
    {
        return None;
    }
    let i = (0..j).find(|&i| {
        let li = &locks[i];
        same_target(&li.target, &lj.target) && lj.mode.conflicts_with(li.mode)
    })?;
    // A self-conflicting lock taken by then, on something both runs share, makes the second run
    // wait before it holds lock i: no deadlock.
    let serialized = locks[..=i].iter().any(|k| {
        k.mode.self_conflicting()
            && match &k.target {
                LockTarget::Relation { .. } | LockTarget::Advisory { .. } => true,
                LockTarget::Rows { .. } => same_target(&k.target, &locks[i].target),
            }
    });
    (!serialized).then_some(i)
}

fn finding(a: &Analysis<'_>, t: usize, i: usize, j: usize) -> Finding {
    let show = a.options.show_literals;
    let txn = &a.transactions[t];
    let (li, lj) = (&txn.locks[i], &txn.locks[j]);
    let target = li.target.node().to_string();
    let labels = vec![
        label_at(
            li,
            format!("takes {} …", describe_lock(li, show)),
            false,
            show,
        ),
        label_at(
            lj,
            format!(
                "… then asks for {}, which conflicts with the {} a concurrent run already holds",
                describe_lock(lj, show),
                li.mode
            ),
            true,
            show,
        ),
    ];
    let strong = match lj.mode {
        LockMode::Row(RowLockMode::NoKeyUpdate) => "FOR NO KEY UPDATE".to_string(),
        LockMode::Row(m) => m.sql_name().to_string(),
        LockMode::Table(m) => format!("LOCK TABLE {target} IN {} MODE", m.sql_name()),
        LockMode::Advisory(_) => "the exclusive advisory lock".to_string(),
        LockMode::InnoDbRecord(m) => match m.shared_or_exclusive {
            InnoDbSx::X => "SELECT … FOR UPDATE".to_string(),
            InnoDbSx::S => "SELECT … FOR SHARE".to_string(),
        },
        LockMode::InnoDbTable(InnoDbTableMode::X) => format!("LOCK TABLES {target} WRITE"),
        LockMode::InnoDbTable(InnoDbTableMode::S) => format!("LOCK TABLES {target} READ"),
        LockMode::InnoDbTable(m) => format!("the {m} table lock"),
    };
    let edit = match li.mode {
        LockMode::Row(_) | LockMode::InnoDbRecord(_) => format!(
            "in `{}`: take {strong} at {} instead of {} (take the strongest lock first)",
            txn.name,
            place_to_edit(li),
            li.mode
        ),
        _ => format!(
            "in `{}`: take `{strong}` at the start of the transaction, before {}",
            txn.name,
            place_to_edit(li)
        ),
    };
    Finding {
        code: LockUpgrade::INFO.code,
        name: LockUpgrade::INFO.name,
        severity: LockUpgrade::INFO.severity,
        message: format!(
            "`{}` upgrades its lock on `{target}` from {} to {}: two concurrent runs deadlock",
            txn_name(txn),
            li.mode,
            lj.mode
        ),
        relations: vec![target],
        labels,
        fingerprint: locks_fingerprint(LockUpgrade::INFO.code, [li, lj]),
        suggestion: Some(Suggestion {
            order: Vec::new(),
            edits: vec![edit],
        }),
        repro: repro::for_upgrade(a, t, i, j),
        notes: Vec::new(),
    }
}
