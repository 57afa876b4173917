use crate::evidence::{
    describe_lock, label_at, locks_fingerprint, statement_index, txn_name, written_at,
};
use crate::{Analysis, Rule, RuleInfo, declare_rule, repro};
use lockgraph_core::{Finding, NodeKey, Suggestion};
use lockgraph_graph::{Cycle, CycleOptions};

declare_rule! {
    /// ## What it detects
    /// Two or more transactions — or two running instances of one — that lock the same relations
    /// in opposite orders, with lock modes that conflict: a cycle in the lock-order graph.
    ///
    /// ## Why it matters
    /// Under load both transactions get half-way: each holds its first lock and waits for the
    /// other's. PostgreSQL detects the cycle after `deadlock_timeout` and aborts one of them with
    /// `ERROR: deadlock detected` (SQLSTATE 40P01). The bug only shows under concurrency, so it
    /// passes every test and fails in production.
    ///
    /// ## Example
    /// ```sql
    /// -- transfer.sql
    /// BEGIN;
    /// UPDATE accounts SET balance = balance - 10 WHERE id = 1;
    /// UPDATE ledger SET total = total + 10 WHERE id = 1;
    /// COMMIT;
    /// -- refund.sql
    /// BEGIN;
    /// UPDATE ledger SET total = total - 10 WHERE id = 1;
    /// UPDATE accounts SET balance = balance + 10 WHERE id = 1;
    /// COMMIT;
    /// ```
    ///
    /// ## How to fix
    /// Pick one global order for the relations involved and take locks in that order in every
    /// transaction (lockgraph suggests the order that moves the fewest statements). When the
    /// statements cannot move, take the later lock first explicitly (`SELECT … FOR UPDATE` or
    /// `LOCK TABLE`) at the start of the transaction.
    pub struct LockOrderInversion {
        code: "LG101",
        name: "lock-order-inversion",
        severity: Error,
        engines: [Postgres, Mysql],
        summary: "Transactions lock the same relations in opposite orders (a deadlock cycle)",
    }
}

impl Rule for LockOrderInversion {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let opts = CycleOptions {
            max_per_component: a.options.max_cycles_per_component,
            max_total: a.options.max_cycles,
            ..CycleOptions::default()
        };
        // The graph returns cycles that differ only in lock modes as separate cycles; users
        // need one finding per set of nodes and transactions, so keep the first (shortest) one.
        let mut seen = std::collections::BTreeSet::new();
        for cycle in a.graph.cycles(a.transactions, &opts) {
            let nodes: Vec<NodeKey> = cycle.nodes().cloned().collect();
            let mut txns: Vec<u32> = cycle.edges.iter().map(|e| e.witness.txn).collect();
            txns.sort_unstable();
            if seen.insert((nodes, txns)) {
                out.push(finding_for_cycle(a, &cycle));
            }
        }
    }
}

fn finding_for_cycle(a: &Analysis<'_>, cycle: &Cycle) -> Finding {
    let show = a.options.show_literals;
    let nodes: Vec<NodeKey> = cycle.edges.iter().map(|e| e.from.clone()).collect();
    let relations: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();

    let mut labels = Vec::new();
    let mut locks = Vec::new();
    let mut names = Vec::new();
    for (i, edge) in cycle.edges.iter().enumerate() {
        let txn = &a.transactions[edge.witness.txn as usize];
        let held = &txn.locks[edge.witness.held as usize];
        let acquired = &txn.locks[edge.witness.acquired as usize];
        let next = &cycle.edges[(i + 1) % cycle.edges.len()];
        let next_txn = &a.transactions[next.witness.txn as usize];
        let blocker = &next_txn.locks[next.witness.held as usize];
        let who = if std::ptr::eq(txn, next_txn) {
            format!("another run of `{}`", txn_name(next_txn))
        } else {
            format!("`{}`", txn_name(next_txn))
        };
        labels.push(label_at(
            held,
            format!("`{}` takes {} …", txn_name(txn), describe_lock(held, show)),
            false,
            show,
        ));
        labels.push(label_at(
            acquired,
            format!(
                "… then waits for {}, which {who} holds as {}",
                describe_lock(acquired, show),
                blocker.mode
            ),
            i == 0,
            show,
        ));
        locks.push(held);
        locks.push(acquired);
        names.push(format!("`{}`", txn_name(txn)));
    }
    names.dedup();
    let message = if names.len() == 1 {
        format!(
            "two concurrent runs of {} can deadlock: it locks {} in an order that closes a cycle",
            names[0],
            relations.join(" and ")
        )
    } else {
        format!(
            "{} lock {} in opposite orders and can deadlock",
            join_and(&names),
            join_and(
                &relations
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
            )
        )
    };

    let notes = other_witnesses(a, cycle);
    let suggestion = suggestion_for_cycle(a, cycle);
    let repro = repro::for_cycle(a, cycle);
    Finding {
        code: LockOrderInversion::INFO.code,
        name: LockOrderInversion::INFO.name,
        severity: LockOrderInversion::INFO.severity,
        message,
        relations,
        labels,
        fingerprint: locks_fingerprint(LockOrderInversion::INFO.code, locks),
        suggestion: Some(suggestion),
        repro,
        notes,
    }
}

fn suggestion_for_cycle(a: &Analysis<'_>, cycle: &Cycle) -> Suggestion {
    let nodes: Vec<NodeKey> = cycle.edges.iter().map(|e| e.from.clone()).collect();
    let order = a.graph.suggest_order(&nodes);
    let pos = |n: &NodeKey| {
        order
            .order
            .iter()
            .position(|o| o == n)
            .unwrap_or(usize::MAX)
    };
    let mut edits = Vec::new();
    for edge in &cycle.edges {
        if pos(&edge.from) < pos(&edge.to) {
            continue;
        }
        let txn = &a.transactions[edge.witness.txn as usize];
        let held = &txn.locks[edge.witness.held as usize];
        let acquired = &txn.locks[edge.witness.acquired as usize];
        let (hi, ai) = (statement_index(txn, held), statement_index(txn, acquired));
        // Application code: move the calls in the transaction's own function.
        let (held_at, acquired_at) = (written_at(held), written_at(acquired));
        let edit = if hi == ai || held_at == acquired_at {
            format!(
                "in `{}`: take the lock on {} before line {} (e.g. `SELECT … FROM {} … FOR UPDATE` or `LOCK TABLE`)",
                txn.name, edge.to, held_at.line, edge.to
            )
        } else {
            format!(
                "in `{}`: lock {} before {}: move line {} above line {} ({})",
                txn.name, edge.to, edge.from, acquired_at.line, held_at.line, acquired_at.path
            )
        };
        if !edits.contains(&edit) {
            edits.push(edit);
        }
    }
    Suggestion {
        order: order.order.iter().map(|n| n.to_string()).collect(),
        edits,
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Notes naming the other transactions that take an edge of the cycle the same way (with modes
/// that close the same cycle): fixing only the reported one would leave them.
fn other_witnesses(a: &Analysis<'_>, cycle: &Cycle) -> Vec<String> {
    let k = cycle.edges.len();
    let mut notes = Vec::new();
    for (i, edge) in cycle.edges.iter().enumerate() {
        let (prev, next) = (&cycle.edges[(i + k - 1) % k], &cycle.edges[(i + 1) % k]);
        let Some(e) = a.graph.edge(&edge.from, &edge.to) else {
            continue;
        };
        let mut others: Vec<&str> = e
            .witnesses
            .iter()
            .filter(|w| {
                w.witness.txn != edge.witness.txn
                    && w.acquired_mode.conflicts_with(next.held)
                    && prev.acquired.conflicts_with(w.held_mode)
            })
            .map(|w| &*a.transactions[w.witness.txn as usize].name)
            .collect();
        others.sort_unstable();
        others.dedup();
        if others.is_empty() {
            continue;
        }
        let shown: Vec<String> = others.iter().take(5).map(|n| format!("`{n}`")).collect();
        let more = others.len().saturating_sub(5);
        notes.push(format!(
            "{} → {} is also locked in this order by {}{}",
            edge.from,
            edge.to,
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    notes
}
