use crate::evidence::{describe_lock, label_at, locks_fingerprint, txn_name, written_at};
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{
    Finding, LockAcquisition, LockMode, RelationName, RowLockMode, Suggestion, TableLockMode,
    Transaction,
};
use std::sync::Arc;

declare_rule! {
    /// ## What it detects
    /// A transaction that locks a relation *after* a relation that the project's declared lock
    /// order puts later — `order = ["accounts", "ledger", "orders"]` in `lockgraph.toml`, and a
    /// transaction that updates `orders` and then `accounts`. Only relations named in `order`
    /// count, and only locks that a row write can conflict with: row locks (`UPDATE`, `DELETE`,
    /// `SELECT … FOR UPDATE/SHARE`, foreign-key checks) and table locks of `SHARE` mode or
    /// stronger (`LOCK TABLE`, `CREATE INDEX`, most DDL). Plain reads (`ACCESS SHARE`) and the
    /// `ROW EXCLUSIVE` table lock that every `INSERT`/`UPDATE`/`DELETE` takes do not count: writers
    /// share them, so they never make a concurrent writer wait. Locks taken by one statement are
    /// never compared with each other (their order is PostgreSQL's, not the code's). The rule
    /// reports nothing unless an order is declared.
    ///
    /// ## Why it matters
    /// A lock-order cycle needs two transactions that take the same locks in opposite orders;
    /// lockgraph finds the cycles among the transactions it can see (LG101). A declared order
    /// catches the first half of a cycle before its other half exists: the transaction that
    /// breaks the team's convention is reported on its own, today, instead of when another
    /// transaction — in a service lockgraph does not check, or a migration written next month —
    /// closes the cycle and production starts logging `deadlock detected`.
    ///
    /// ## Example
    /// ```toml
    /// # lockgraph.toml
    /// order = ["accounts", "ledger", "orders"]
    /// ```
    /// ```sql
    /// BEGIN;
    /// UPDATE orders SET status = 'paid' WHERE id = 7;
    /// UPDATE accounts SET balance = balance - 10 WHERE id = 1;
    /// COMMIT;
    /// ```
    ///
    /// ## How to fix
    /// Reorder the statements so that the transaction locks relations in the declared order
    /// (move the `accounts` update above the `orders` update). When a statement cannot move, lock
    /// the earlier relation first explicitly: `SELECT … FROM accounts WHERE … FOR UPDATE` at the
    /// start of the transaction. If the declared order itself is wrong, change `order` in
    /// `lockgraph.toml`.
    pub struct DeclaredOrderViolation {
        code: "LG104",
        name: "declared-order-violation",
        severity: Error,
        engines: [Postgres, Mysql],
        summary: "A transaction locks relations against the declared lock order",
    }
}

impl Rule for DeclaredOrderViolation {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let order = declared_order(&a.options.declared_order);
        if order.len() < 2 {
            return;
        }
        for txn in a.transactions {
            let pairs = violations(txn, &order);
            if !pairs.is_empty() {
                out.push(finding(a, txn, &order, &pairs));
            }
        }
    }
}

/// The declared order, normalized like relation names in locks (`public.Accounts` → `accounts`);
/// a relation listed twice keeps its first place.
fn declared_order(raw: &[String]) -> Vec<RelationName> {
    let mut order: Vec<RelationName> = Vec::new();
    for r in raw {
        let name = RelationName::parse(r);
        if !order.contains(&name) {
            order.push(name);
        }
    }
    order
}

/// Whether a lock takes part in the declared order: it conflicts with a lock a row write takes
/// (the `ROW EXCLUSIVE` table lock, or `FOR UPDATE` on a row), so a concurrent writer can wait for
/// it or make it wait.
fn counts(lock: &LockAcquisition) -> bool {
    lock.mode
        .conflicts_with(LockMode::Table(TableLockMode::RowExclusive))
        || lock.mode.conflicts_with(LockMode::Row(RowLockMode::Update))
}

/// `(earlier lock, later lock)` index pairs where the later lock's relation comes first in the
/// declared order: one pair per relation taken too late, with the earliest lock it comes after.
fn violations(txn: &Transaction, order: &[RelationName]) -> Vec<(usize, usize)> {
    let pos = |lock: &LockAcquisition| {
        lock.target
            .relation()
            .and_then(|r| order.iter().position(|o| o == r))
    };
    let counted: Vec<(usize, usize)> = txn
        .locks
        .iter()
        .enumerate()
        .filter(|(j, l)| counts(l) && !txn.is_redundant(*j))
        .filter_map(|(j, l)| pos(l).map(|p| (j, p)))
        .collect();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut late: Vec<usize> = Vec::new();
    for (k, &(j, pj)) in counted.iter().enumerate() {
        if late.contains(&pj) {
            continue;
        }
        let lj = &txn.locks[j];
        let earlier = counted[..k]
            .iter()
            .find(|&&(i, pi)| pi > pj && !Arc::ptr_eq(&txn.locks[i].statement, &lj.statement));
        if let Some(&(i, _)) = earlier {
            late.push(pj);
            pairs.push((i, j));
        }
    }
    pairs
}

fn relation_of(lock: &LockAcquisition) -> String {
    lock.target.node().to_string()
}

fn finding(
    a: &Analysis<'_>,
    txn: &Transaction,
    order: &[RelationName],
    pairs: &[(usize, usize)],
) -> Finding {
    let show = a.options.show_literals;
    let mut labels = Vec::new();
    let mut labelled: Vec<usize> = Vec::new();
    let mut locks = Vec::new();
    let mut phrases = Vec::new();
    let mut edits = Vec::new();
    for (n, &(i, j)) in pairs.iter().enumerate() {
        let (li, lj) = (&txn.locks[i], &txn.locks[j]);
        let (early, late) = (relation_of(li), relation_of(lj));
        if !labelled.contains(&i) {
            labelled.push(i);
            labels.push(label_at(
                li,
                format!("`{}` takes {} …", txn_name(txn), describe_lock(li, show)),
                false,
                show,
            ));
        }
        labels.push(label_at(
            lj,
            format!(
                "… then {}, but the declared order puts {late} before {early}",
                describe_lock(lj, show)
            ),
            n == 0,
            show,
        ));
        locks.push(li);
        locks.push(lj);
        phrases.push(format!("`{late}` after `{early}`"));
        let (held_at, acquired_at) = (written_at(li), written_at(lj));
        let edit = if held_at == acquired_at {
            format!(
                "in `{}`: take the lock on {late} before line {} (e.g. `SELECT … FROM {late} … FOR UPDATE`)",
                txn.name, held_at.line
            )
        } else {
            format!(
                "in `{}`: lock {late} before {early}: move line {} above line {} ({})",
                txn.name, acquired_at.line, held_at.line, acquired_at.path
            )
        };
        if !edits.contains(&edit) {
            edits.push(edit);
        }
    }
    // The declared order, narrowed to the relations this transaction locks.
    let locked: Vec<String> = order
        .iter()
        .filter(|o| txn.locks.iter().any(|l| l.target.relation() == Some(*o)))
        .map(|o| o.to_string())
        .collect();
    let mut relations: Vec<String> = Vec::new();
    for l in &locks {
        let r = relation_of(l);
        if !relations.contains(&r) {
            relations.push(r);
        }
    }
    relations.sort_by_key(|r| locked.iter().position(|o| o == r));
    Finding {
        code: DeclaredOrderViolation::INFO.code,
        name: DeclaredOrderViolation::INFO.name,
        severity: DeclaredOrderViolation::INFO.severity,
        message: format!(
            "`{}` locks {}, against the declared lock order {}",
            txn_name(txn),
            join_and(&phrases),
            locked.join(" → ")
        ),
        relations,
        labels,
        fingerprint: locks_fingerprint(DeclaredOrderViolation::INFO.code, locks),
        suggestion: Some(Suggestion {
            order: locked,
            edits,
        }),
        repro: None,
        notes: Vec::new(),
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Analysis, CheckOptions, check};
    use lockgraph_core::Schema;
    use lockgraph_sql::{SqlFileOptions, build_transactions};

    fn lg104(sql: &str, order: &[&str]) -> Vec<lockgraph_core::Finding> {
        let schema = Schema::default();
        let (txns, diags) = build_transactions("t.sql", sql, &schema, &SqlFileOptions::default());
        let options = CheckOptions {
            declared_order: order.iter().map(|s| s.to_string()).collect(),
            ..CheckOptions::default()
        };
        let analysis = Analysis::new(&txns, &diags, &schema, &[], options);
        check(&analysis, &["LG104"])
    }

    const ORDERS_THEN_ACCOUNTS: &str = "BEGIN;\nUPDATE orders SET s = 1 WHERE id = 7;\n\
        UPDATE accounts SET b = 0 WHERE id = 1;\nCOMMIT;\n";

    #[test]
    fn later_relation_first_is_reported() {
        let f = lg104(ORDERS_THEN_ACCOUNTS, &["accounts", "ledger", "orders"]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].relations, ["accounts", "orders"]);
        assert!(
            f[0].message.contains("`accounts` after `orders`"),
            "{}",
            f[0].message
        );
        let s = f[0].suggestion.as_ref().unwrap();
        assert_eq!(s.order, ["accounts", "orders"]);
        assert_eq!(
            s.edits,
            ["in `t.sql:1`: lock accounts before orders: move line 3 above line 2 (t.sql)"]
        );
    }

    #[test]
    fn declared_order_is_followed_or_absent() {
        assert!(lg104(ORDERS_THEN_ACCOUNTS, &["orders", "accounts"]).is_empty());
        assert!(lg104(ORDERS_THEN_ACCOUNTS, &[]).is_empty());
        // Relations outside the order do not count.
        assert!(lg104(ORDERS_THEN_ACCOUNTS, &["accounts", "ledger"]).is_empty());
    }

    #[test]
    fn names_are_normalized_like_sql() {
        assert_eq!(
            lg104(ORDERS_THEN_ACCOUNTS, &["public.Accounts", "ORDERS"]).len(),
            1
        );
    }

    #[test]
    fn reads_and_inserts_do_not_count() {
        let sql = "BEGIN;\nSELECT * FROM orders WHERE id = 7;\nINSERT INTO orders (id) VALUES (8);\n\
                   UPDATE accounts SET b = 0 WHERE id = 1;\nCOMMIT;\n";
        assert!(lg104(sql, &["accounts", "orders"]).is_empty());
        let locked = "BEGIN;\nSELECT * FROM orders WHERE id = 7 FOR SHARE;\n\
                      UPDATE accounts SET b = 0 WHERE id = 1;\nCOMMIT;\n";
        assert_eq!(lg104(locked, &["accounts", "orders"]).len(), 1);
    }

    #[test]
    fn one_finding_per_transaction() {
        let sql = "BEGIN;\nUPDATE orders SET s = 1 WHERE id = 7;\nUPDATE ledger SET n = 1 WHERE id = 2;\n\
                   UPDATE accounts SET b = 0 WHERE id = 1;\nCOMMIT;\n";
        let f = lg104(sql, &["accounts", "ledger", "orders"]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].relations, ["accounts", "ledger", "orders"]);
        assert!(
            f[0].message
                .contains("`ledger` after `orders` and `accounts` after `orders`"),
            "{}",
            f[0].message
        );
    }
}
