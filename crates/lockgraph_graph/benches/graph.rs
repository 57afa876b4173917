//! Benchmarks of the lock-order graph: build, cycle search and order suggestion on generated
//! workloads, plus the adversarial dense graph.
//!
//! `cargo bench -p lockgraph_graph` (the end-to-end 1,000,000-transaction run is the
//! `big_graph` example; see docs/performance.md).

use divan::{Bencher, black_box};
use lockgraph_core::{LockMode, RowLockMode, Transaction};
use lockgraph_graph::synth::{Workload, generate, rows, transaction};
use lockgraph_graph::{CycleOptions, LockGraph};

fn main() {
    divan::main();
}

fn workload(transactions: usize) -> Vec<Transaction> {
    generate(&Workload {
        transactions,
        ..Workload::default()
    })
}

#[divan::bench(args = [10_000, 100_000], sample_count = 10)]
fn build(bencher: Bencher, transactions: usize) {
    let txns = workload(transactions);
    bencher.bench(|| LockGraph::build(black_box(&txns)));
}

#[divan::bench(args = [10_000, 100_000], sample_count = 10)]
fn cycles(bencher: Bencher, transactions: usize) {
    let txns = workload(transactions);
    let g = LockGraph::build(&txns);
    bencher.bench(|| g.cycles(black_box(&txns), &CycleOptions::default()));
}

#[divan::bench(args = [10_000, 100_000], sample_count = 10)]
fn suggest_order_all_nodes(bencher: Bencher, transactions: usize) {
    let txns = workload(transactions);
    let g = LockGraph::build(&txns);
    let nodes: Vec<_> = g.nodes().cloned().collect();
    bencher.bench(|| g.suggest_order(black_box(&nodes)));
}

/// Every ordered pair of `n` relations an edge, conflicting row modes.
#[divan::bench(args = [100, 200], sample_count = 10)]
fn dense_cycles(bencher: Bencher, n: usize) {
    const NKU: LockMode = LockMode::Row(RowLockMode::NoKeyUpdate);
    let mut txns = Vec::new();
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let (a, b) = (format!("r{i:03}"), format!("r{j:03}"));
                txns.push(transaction(
                    "pair",
                    None,
                    &[(rows(&a), NKU), (rows(&b), NKU)],
                ));
            }
        }
    }
    let g = LockGraph::build(&txns);
    bencher.bench(|| g.cycles(black_box(&txns), &CycleOptions::default()));
}
