//! Property tests: the cycle search agrees with a brute-force search on small random inputs, and
//! the suggested order, once applied, leaves no cycle.

use lockgraph_core::{
    AdvisoryMode, LockMode, LockTarget, NodeKey, RowLockMode, TableLockMode, Transaction,
};
use lockgraph_graph::synth::{advisory, relation, rows, transaction};
use lockgraph_graph::{Cycle, CycleOptions, LockGraph};
use proptest::prelude::*;

const NODES: [&str; 4] = ["a", "b", "c", "d"];

fn lock() -> impl Strategy<Value = (LockTarget, LockMode)> {
    let node = 0..NODES.len();
    prop_oneof![
        4 => (node.clone(), 0..8usize).prop_map(|(n, m)| (relation(NODES[n]), LockMode::Table(TableLockMode::ALL[m]))),
        4 => (node, 0..4usize).prop_map(|(n, m)| (rows(NODES[n]), LockMode::Row(RowLockMode::ALL[m]))),
        1 => any::<bool>().prop_map(|x| {
            let mode = if x { AdvisoryMode::Exclusive } else { AdvisoryMode::Shared };
            (advisory("1"), LockMode::Advisory(mode))
        }),
    ]
}

fn group() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![3 => Just(None), 1 => Just(Some("g1")), 1 => Just(Some("g2"))]
}

fn txn() -> impl Strategy<Value = Transaction> {
    (prop::collection::vec(lock(), 1..=4), group())
        .prop_map(|(locks, group)| transaction("t", group, &locks))
}

/// A mode that often conflicts: row modes, or the stronger table modes.
fn strong_mode(row: bool) -> impl Strategy<Value = LockMode> {
    use RowLockMode::*;
    let rows = [
        NoKeyUpdate,
        NoKeyUpdate,
        NoKeyUpdate,
        Update,
        Update,
        Update,
        Share,
        KeyShare,
    ];
    let table = [
        TableLockMode::RowExclusive,
        TableLockMode::Share,
        TableLockMode::ShareRowExclusive,
        TableLockMode::AccessExclusive,
    ];
    (0..rows.len(), 0..table.len()).prop_map(move |(r, t)| {
        if row {
            LockMode::Row(rows[r])
        } else {
            LockMode::Table(table[t])
        }
    })
}

/// Transactions along a ring of 3 or 4 nodes (`i → i + 1`), in random modes and groups, plus
/// a few random ones: the inputs where longer cycles and the all-pairs group rule matter.
fn ring() -> impl Strategy<Value = Vec<Transaction>> {
    let hop = (any::<bool>(), group())
        .prop_flat_map(|(row, group)| (strong_mode(row), strong_mode(row), Just(row), Just(group)));
    (
        3..=4usize,
        prop::collection::vec(hop, 4),
        prop::collection::vec(txn(), 0..=1),
    )
        .prop_map(|(k, hops, extra)| {
            let mut txns: Vec<Transaction> = (0..k)
                .map(|i| {
                    let (h, a, row, group) = hops[i];
                    let target = |n: &str| if row { rows(n) } else { relation(n) };
                    transaction(
                        "ring",
                        group,
                        &[(target(NODES[i]), h), (target(NODES[(i + 1) % k]), a)],
                    )
                })
                .collect();
            txns.extend(extra);
            txns
        })
}

fn inputs() -> impl Strategy<Value = Vec<Transaction>> {
    prop_oneof![1 => prop::collection::vec(txn(), 1..=5), 2 => ring()]
}

/// Independent validity check, from the definition only.
fn valid(txns: &[Transaction], c: &Cycle) -> bool {
    let k = c.edges.len();
    k >= 2
        && c.edges.iter().enumerate().all(|(i, e)| {
            let t = &txns[e.witness.txn as usize];
            let (h, a) = (
                &t.locks[e.witness.held as usize],
                &t.locks[e.witness.acquired as usize],
            );
            let next = &c.edges[(i + 1) % k];
            let next_held = &txns[next.witness.txn as usize].locks[next.witness.held as usize];
            e.witness.held < e.witness.acquired
                && !t.is_redundant(e.witness.held as usize)
                && !t.is_redundant(e.witness.acquired as usize)
                && h.target.node() == e.from
                && a.target.node() == e.to
                && e.from != e.to
                && e.to == next.from
                && a.mode.conflicts_with(next_held.mode)
        })
        && (0..k).all(|i| {
            (i + 1..k).all(|j| {
                let (a, b) = (
                    c.edges[i].witness.txn as usize,
                    c.edges[j].witness.txn as usize,
                );
                txns[a].may_run_concurrently_with(&txns[b])
            })
        })
}

/// Whether some closed walk of at most `max_len` witnessed edges is a valid deadlock: tries every
/// sequence of (transaction, held lock, acquired lock).
fn brute_force_exists(txns: &[Transaction], max_len: usize) -> bool {
    let mut witnesses = Vec::new();
    for (t, txn) in txns.iter().enumerate() {
        for i in 0..txn.locks.len() {
            for j in i + 1..txn.locks.len() {
                let (h, a) = (&txn.locks[i], &txn.locks[j]);
                // A lock the transaction already holds (covered by an earlier one) never waits.
                if txn.is_redundant(i) || txn.is_redundant(j) {
                    continue;
                }
                if h.target.node() != a.target.node() {
                    witnesses.push((t, h.target.node(), h.mode, a.target.node(), a.mode));
                }
            }
        }
    }
    type W = (usize, NodeKey, LockMode, NodeKey, LockMode);
    fn extend(txns: &[Transaction], all: &[W], path: &mut Vec<usize>, max_len: usize) -> bool {
        let last = &all[*path.last().expect("non-empty")];
        let first = &all[path[0]];
        if path.len() >= 2 && last.3 == first.1 && last.4.conflicts_with(first.2) {
            return true;
        }
        if path.len() == max_len {
            return false;
        }
        for (k, w) in all.iter().enumerate() {
            let fits = w.1 == last.3
                && last.4.conflicts_with(w.2)
                && path
                    .iter()
                    .all(|&p| txns[all[p].0].may_run_concurrently_with(&txns[w.0]));
            if fits {
                path.push(k);
                if extend(txns, all, path, max_len) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    (0..witnesses.len()).any(|k| extend(txns, &witnesses, &mut vec![k], max_len))
}

fn exhaustive() -> CycleOptions {
    CycleOptions {
        max_per_component: 64,
        max_total: 1_000,
        max_len: 32,
        work_budget: u64::MAX,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Exists a valid cycle (of up to 6 edges, by brute force) ⇔ the search finds one, and
    /// everything it finds is valid.
    #[test]
    fn cycles_agree_with_brute_force(txns in inputs()) {
        let g = LockGraph::build(&txns);
        let search = g.search_cycles(&txns, &exhaustive());
        prop_assert!(!search.exhausted);
        for c in &search.cycles {
            prop_assert!(valid(&txns, c), "invalid cycle {c:#?}");
            prop_assert!(c.is_valid(&txns));
        }
        let exists = brute_force_exists(&txns, 6);
        if exists {
            prop_assert!(!search.cycles.is_empty(), "brute force found a deadlock the search missed");
        }
        // Every valid walk the search reports is a deadlock, so "found ⇒ exists" holds by
        // validity; the brute force is bounded, so check only walks it could have seen.
        if search.cycles.iter().any(|c| c.len() <= 6) {
            prop_assert!(exists, "search found a short cycle the brute force did not");
        }
        // Canonical and deduplicated.
        for c in &search.cycles {
            let first = c.nodes().next().expect("non-empty");
            prop_assert!(c.nodes().all(|n| n >= first));
        }
        let mut fps: Vec<_> = search.cycles.iter().map(Cycle::fingerprint).collect();
        fps.sort_unstable();
        fps.dedup();
        prop_assert_eq!(fps.len(), search.cycles.len());
        // Deterministic.
        prop_assert_eq!(&g.cycles(&txns, &exhaustive()), &search.cycles);
    }

    /// Sorting every transaction's locks by the suggested order leaves no cycle at all.
    #[test]
    fn suggested_order_removes_every_cycle(
        txns in prop::collection::vec(
            (prop::collection::vec((0..9usize, any::<bool>()), 1..=6), 1..=3usize),
            1..=12,
        )
    ) {
        const NKU: LockMode = LockMode::Row(RowLockMode::NoKeyUpdate);
        const RE: LockMode = LockMode::Table(TableLockMode::RowExclusive);
        let names: Vec<String> = (0..9).map(|i| format!("r{i}")).collect();
        let txns: Vec<Transaction> = txns
            .into_iter()
            .flat_map(|(locks, copies)| {
                let locks: Vec<_> = locks
                    .iter()
                    .map(|&(n, row)| if row { (rows(&names[n]), NKU) } else { (relation(&names[n]), RE) })
                    .collect();
                (0..copies).map(move |_| transaction("t", None, &locks))
            })
            .collect();
        let g = LockGraph::build(&txns);
        let nodes: Vec<NodeKey> = g.nodes().cloned().collect();
        let s = g.suggest_order(&nodes);
        prop_assert!(s.exact);
        let mut order = s.order.clone();
        order.sort();
        prop_assert_eq!(&order, &nodes);
        let pos = |k: &NodeKey| s.order.iter().position(|o| o == k).expect("ordered");
        let mut cost = 0;
        for (a, b) in &s.broken {
            prop_assert!(pos(a) > pos(b));
            cost += g.edge(a, b).expect("broken edges exist").transactions;
        }
        prop_assert_eq!(cost, s.cost);
        // Exact: no permutation does better (brute force over up to 9! orders is too slow for
        // every case; check against all orders when small).
        if nodes.len() <= 6 {
            prop_assert_eq!(s.cost, brute_force_order_cost(&g, &nodes));
        }

        let reordered: Vec<Transaction> = txns
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.locks.sort_by_key(|l| pos(&l.target.node()));
                t
            })
            .collect();
        let g2 = LockGraph::build(&reordered);
        prop_assert!(g2.sccs().is_empty());
        prop_assert!(g2.cycles(&reordered, &exhaustive()).is_empty());
    }
}

fn brute_force_order_cost(g: &LockGraph, nodes: &[NodeKey]) -> u64 {
    fn permute(k: usize, p: &mut Vec<usize>, cost: &dyn Fn(&[usize]) -> u64, best: &mut u64) {
        if k == p.len() {
            *best = (*best).min(cost(p));
            return;
        }
        for i in k..p.len() {
            p.swap(k, i);
            permute(k + 1, p, cost, best);
            p.swap(k, i);
        }
    }
    let cost = |p: &[usize]| -> u64 {
        g.edges()
            .filter(|e| {
                let pf = p.iter().position(|&i| &nodes[i] == e.from);
                let pt = p.iter().position(|&i| &nodes[i] == e.to);
                pf > pt
            })
            .map(|e| e.transactions)
            .sum()
    };
    let mut best = u64::MAX;
    permute(0, &mut (0..nodes.len()).collect(), &cost, &mut best);
    best
}
