use crate::evidence::{describe_lock, label_at, locks_fingerprint, place_to_edit, txn_name};
use crate::rules::lock_upgrade::same_target;
use crate::{Analysis, Rule, RuleInfo, declare_rule, repro};
use lockgraph_core::{Finding, LockAcquisition, LockTarget, Suggestion, Transaction};

declare_rule! {
    /// ## What it detects
    /// A transaction that locks several rows of one table with separate statements (or one
    /// statement repeated in a loop) whose keys are not in a fixed order — `UPDATE accounts …
    /// WHERE id = 1` then `… WHERE id = 2` — and a locking `SELECT … FOR UPDATE` that locks a set
    /// of rows without `ORDER BY`.
    ///
    /// ## Why it matters
    /// Another run of the same code with the keys the other way round (a transfer from 2 to 1)
    /// locks row 2 first and then waits for row 1 — while the first run holds row 1 and waits for
    /// row 2. PostgreSQL aborts one with `deadlock detected`. It is the most common deadlock in
    /// payment and inventory code, and the lock-order graph cannot see it because both locks are
    /// on the same table.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// UPDATE accounts SET balance = balance - 10 WHERE id = 1;
    /// UPDATE accounts SET balance = balance + 10 WHERE id = 2;
    /// COMMIT;
    /// ```
    ///
    /// ## How to fix
    /// Lock every row the transaction will touch first, in key order, with one statement:
    /// `SELECT 1 FROM accounts WHERE id IN (1, 2) ORDER BY id FOR UPDATE;` — or sort the keys in
    /// the application before issuing the statements.
    pub struct UnorderedRowLocks {
        code: "LG103",
        name: "unordered-row-locks",
        severity: Warning,
        engines: [Postgres, Mysql],
        summary: "Several rows of one table are locked in an order that is not fixed",
    }
}

impl Rule for UnorderedRowLocks {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        for (t, txn) in a.self_concurrent() {
            let mut reported_relations = Vec::new();
            for j in 0..txn.locks.len() {
                let lj = &txn.locks[j];
                let LockTarget::Rows { relation, .. } = &lj.target else {
                    continue;
                };
                if reported_relations.contains(relation) || ordered_before(txn, j) {
                    continue;
                }
                if let Some(i) = unordered_pair(&txn.locks, j) {
                    reported_relations.push(relation.clone());
                    out.push(pair_finding(a, t, i, j));
                } else if lj.repeated && lj.mode.self_conflicting() && !in_key_order(lj) {
                    reported_relations.push(relation.clone());
                    out.push(single_finding(a, t, j, "runs in a loop"));
                } else if unordered_set_select(lj) {
                    reported_relations.push(relation.clone());
                    out.push(single_finding(
                        a,
                        t,
                        j,
                        "locks a set of rows without ORDER BY",
                    ));
                }
            }
        }
    }
}

/// An earlier lock makes the order fixed: an ordered multi-row lock on the same relation that
/// covers lock `j`, or a self-conflicting table lock on it (only one run gets that far at a time).
fn ordered_before(txn: &Transaction, j: usize) -> bool {
    let lj = &txn.locks[j];
    txn.locks[..j].iter().any(|k| {
        k.target.relation() == lj.target.relation()
            && match &k.target {
                LockTarget::Rows { key: Some(key), .. } => key.ordered && k.mode.covers(lj.mode),
                LockTarget::Relation { .. } => k.mode.self_conflicting(),
                _ => false,
            }
    })
}

/// An earlier row lock on the same relation, for other rows, whose mode conflicts with `j`'s.
/// Keys the front-end knows are taken in a fixed order (`ORDER BY`, a loop over sorted keys).
fn in_key_order(lock: &LockAcquisition) -> bool {
    lock.target.key().is_some_and(|k| k.ordered)
}

fn unordered_pair(locks: &[LockAcquisition], j: usize) -> Option<usize> {
    let lj = &locks[j];
    let kj = lj.target.key()?;
    (0..j).find(|&i| {
        let li = &locks[i];
        let Some(ki) = li.target.key() else {
            return false;
        };
        li.target.relation() == lj.target.relation()
            && !same_target(&li.target, &lj.target)
            && !(ki.ordered && kj.ordered)
            && ki.single_row
            && kj.single_row
            && lj.mode.conflicts_with(li.mode)
            && li.mode.conflicts_with(lj.mode)
    })
}

/// `SELECT … FOR UPDATE` (or NO KEY UPDATE) of a set of rows without ORDER BY.
fn unordered_set_select(lock: &LockAcquisition) -> bool {
    let is_select = {
        let head: String = lock
            .statement
            .redacted
            .trim_start()
            .chars()
            .take(6)
            .collect();
        head.eq_ignore_ascii_case("select")
    };
    is_select
        && lock.implicit.is_none()
        && lock.mode.self_conflicting()
        && matches!(lock.target.key(), Some(k) if !k.single_row && !k.ordered)
}

fn suggestion(txn: &Transaction, lock: &LockAcquisition) -> Suggestion {
    let rel = lock.target.node().to_string();
    let cols = lock
        .target
        .key()
        .map(|k| {
            k.columns
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| "id".into());
    Suggestion {
        order: Vec::new(),
        edits: vec![format!(
            "in `{}`: lock the rows first, in key order: `SELECT 1 FROM {rel} WHERE ({cols}) IN (…) ORDER BY {cols} FOR UPDATE` before {}",
            txn.name,
            place_to_edit(lock)
        )],
    }
}

fn pair_finding(a: &Analysis<'_>, t: usize, i: usize, j: usize) -> Finding {
    let show = a.options.show_literals;
    let txn = &a.transactions[t];
    let (li, lj) = (&txn.locks[i], &txn.locks[j]);
    let rel = lj.target.node().to_string();
    Finding {
        code: UnorderedRowLocks::INFO.code,
        name: UnorderedRowLocks::INFO.name,
        severity: UnorderedRowLocks::INFO.severity,
        message: format!(
            "`{}` locks rows of `{rel}` one statement at a time in no fixed key order: a concurrent run with the keys reversed deadlocks",
            txn_name(txn)
        ),
        relations: vec![rel],
        labels: vec![
            label_at(
                li,
                format!("takes {} …", describe_lock(li, show)),
                false,
                show,
            ),
            label_at(
                lj,
                format!(
                    "… then {}: another run may hold this row and wait for the first",
                    describe_lock(lj, show)
                ),
                true,
                show,
            ),
        ],
        fingerprint: locks_fingerprint(UnorderedRowLocks::INFO.code, [li, lj]),
        suggestion: Some(suggestion(txn, li)),
        repro: repro::for_unordered_pair(a, t, i, j),
        notes: Vec::new(),
    }
}

fn single_finding(a: &Analysis<'_>, t: usize, j: usize, why: &str) -> Finding {
    let show = a.options.show_literals;
    let txn = &a.transactions[t];
    let lj = &txn.locks[j];
    let rel = lj.target.node().to_string();
    Finding {
        code: UnorderedRowLocks::INFO.code,
        name: UnorderedRowLocks::INFO.name,
        severity: UnorderedRowLocks::INFO.severity,
        message: format!("`{}` {why} on `{rel}`: concurrent runs may lock the rows in different orders", txn_name(txn)),
        relations: vec![rel],
        labels: vec![label_at(lj, format!("takes {} on several rows, order not fixed", lj.mode), true, show)],
        fingerprint: locks_fingerprint(UnorderedRowLocks::INFO.code, [lj]),
        suggestion: Some(suggestion(txn, lj)),
        repro: None,
        notes: vec![
            "whether this deadlocks depends on the plan's row order, so no reproduction script is emitted".into(),
        ],
    }
}
