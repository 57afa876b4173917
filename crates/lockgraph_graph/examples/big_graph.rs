//! End-to-end benchmark: generate a large workload, build the lock-order graph, find cycles and
//! suggest an order for every node. Generation is timed apart from build + analyse.
//!
//! ```text
//! cargo run --release -p lockgraph_graph --example big_graph -- [relations] [transactions] [seed]
//! ```
//! Defaults: 10,000 relations, 1,000,000 transactions, seed 42.

use lockgraph_graph::synth::{Workload, generate};
use lockgraph_graph::{CycleOptions, LockGraph};
use std::time::Instant;

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let w = Workload {
        relations: arg(1, 10_000) as usize,
        transactions: arg(2, 1_000_000) as usize,
        seed: arg(3, 42),
        ..Workload::default()
    };
    println!(
        "workload: {} relations, {} transactions, {} templates, {:.1}% random, {:.1}% inverted templates, seed {}",
        w.relations,
        w.transactions,
        w.templates,
        w.random_rate * 100.0,
        w.inversion_rate * 100.0,
        w.seed
    );

    let t = Instant::now();
    let txns = generate(&w);
    let generation = t.elapsed();
    let locks: usize = txns.iter().map(|t| t.locks.len()).sum();
    println!(
        "generate:        {:>8.1} ms  ({locks} locks)",
        generation.as_secs_f64() * 1e3
    );

    let t0 = Instant::now();
    let graph = LockGraph::build(&txns);
    let build = t0.elapsed();
    let t = Instant::now();
    let search = graph.search_cycles(&txns, &CycleOptions::default());
    let cycles = t.elapsed();
    let t = Instant::now();
    let nodes: Vec<_> = graph.nodes().cloned().collect();
    let order = graph.suggest_order(&nodes);
    let suggest = t.elapsed();
    let total = t0.elapsed();

    let biggest = graph.sccs().iter().map(Vec::len).max().unwrap_or(0);
    println!(
        "build:           {:>8.1} ms  ({} shapes, {} nodes, {} edges, {} non-trivial SCCs, largest {})",
        build.as_secs_f64() * 1e3,
        graph.shape_count(),
        graph.node_count(),
        graph.edge_count(),
        graph.sccs().len(),
        biggest
    );
    let lengths: Vec<usize> = search.cycles.iter().map(|c| c.len()).collect();
    println!(
        "cycles:          {:>8.1} ms  ({} cycles, lengths {}..={}, work {}, exhausted {})",
        cycles.as_secs_f64() * 1e3,
        search.cycles.len(),
        lengths.iter().min().unwrap_or(&0),
        lengths.iter().max().unwrap_or(&0),
        search.work,
        search.exhausted
    );
    println!(
        "suggest_order:   {:>8.1} ms  ({} nodes, {} broken edges, cost {} transactions, exact {})",
        suggest.as_secs_f64() * 1e3,
        order.order.len(),
        order.broken.len(),
        order.cost,
        order.exact
    );
    println!("build+analyse:   {:>8.1} ms", total.as_secs_f64() * 1e3);
    if let Some(mib) = peak_rss_mib() {
        println!("peak RSS:        {mib:>8.0} MiB (includes the generated transactions)");
    }
}
