//! Stress run: a large uniformly random graph with conflicting row locks everywhere, where 2-cycles
//! are rare and the shortest cycles are long, so the BFS phase of the cycle search and the order
//! heuristic do all the work.
//!
//! ```text
//! cargo run --release -p lockgraph_graph --example random_graph -- [relations] [transactions]
//! ```
//! Defaults: 20,000 relations, 60,000 two-lock transactions.

use lockgraph_core::{LockMode, RowLockMode};
use lockgraph_graph::synth::{rows, transaction};
use lockgraph_graph::{CycleOptions, LockGraph};
use std::time::Instant;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (n, m) = (arg(1, 20_000), arg(2, 60_000));
    const NKU: LockMode = LockMode::Row(RowLockMode::NoKeyUpdate);
    let names: Vec<String> = (0..n).map(|i| format!("r{i:06}")).collect();
    let mut x = 12345u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    let txns: Vec<_> = (0..m)
        .map(|_| {
            let (a, b) = (next() % n, next() % n);
            transaction("t", None, &[(rows(&names[a]), NKU), (rows(&names[b]), NKU)])
        })
        .collect();

    let t = Instant::now();
    let g = LockGraph::build(&txns);
    let largest = g.sccs().iter().map(Vec::len).max().unwrap_or(0);
    println!(
        "build:         {:>8.1} ms  ({} nodes, {} edges, largest SCC {largest})",
        t.elapsed().as_secs_f64() * 1e3,
        g.node_count(),
        g.edge_count()
    );
    let t = Instant::now();
    let s = g.search_cycles(&txns, &CycleOptions::default());
    let lengths: Vec<usize> = s.cycles.iter().map(|c| c.len()).collect();
    println!(
        "cycles:        {:>8.1} ms  (lengths {lengths:?}, work {}, exhausted {})",
        t.elapsed().as_secs_f64() * 1e3,
        s.work,
        s.exhausted
    );
    let t = Instant::now();
    let nodes: Vec<_> = g.nodes().cloned().collect();
    let o = g.suggest_order(&nodes);
    println!(
        "suggest_order: {:>8.1} ms  (cost {}, of {} edges)",
        t.elapsed().as_secs_f64() * 1e3,
        o.cost,
        g.edge_count()
    );
}
