//! The lock-order graph: which relations (and advisory keys) transactions lock while holding
//! others, which of those orders can deadlock, and which global order would avoid it.
//!
//! ```text
//! &[Transaction] ──build──► LockGraph ──cycles──────► Vec<Cycle>          (deadlock candidates)
//!                           (petgraph)  └─suggest_order─► OrderSuggestion (lock in this order)
//! ```
//!
//! - [`LockGraph`] — built by [`LockGraph::build`] / [`build_graph`]. Nodes are
//!   [`NodeKey`](lockgraph_core::NodeKey)s (a relation with its table and row locks, or an advisory
//!   key), sorted. An edge `A → B` means some transaction held a lock on `A` while acquiring one
//!   on `B`; its weight [`LockEdge`] lists [`ShapeWitness`]es — one per transaction *shape* and
//!   (held, acquired) mode pair, pointing back into the transactions through an [`EdgeWitness`]
//!   — and how many transactions support it. Equal shapes (same (node, mode, statement
//!   fingerprint) sequence and group) are counted, not repeated, so a million transactions from a
//!   few thousand code paths cost a few thousand shapes.
//! - [`LockGraph::cycles`] — [`Cycle`]s whose [`CycleEdge`]s name, per edge, the witness that
//!   holds one node and waits for the next. A graph cycle is reported only when every acquired mode
//!   conflicts with the next held mode and the witnesses may run concurrently (groups); search is
//!   polynomial and bounded by [`CycleOptions`] (see [`cycle`] for the algorithm).
//! - [`LockGraph::suggest_order`] — an [`OrderSuggestion`]: a minimum-weight feedback arc set,
//!   exact for components up to [`EXACT_ORDER_LIMIT`] nodes (see [`order`]).
//! - [`waits`] — a different graph over the same model: the wait-for graph of one live
//!   [`LockSnapshot`](lockgraph_core::LockSnapshot) ([`WaitGraph`]): hard and soft waits, root
//!   blockers and their trees, cycles in progress, queues behind `ACCESS EXCLUSIVE`.
//! - [`synth`] — builders for tests and examples, and the benchmark's workload generator.
//!
//! ```
//! use lockgraph_core::{LockMode, RowLockMode, TableLockMode};
//! use lockgraph_graph::synth::{relation, rows, transaction};
//! use lockgraph_graph::{CycleOptions, LockGraph};
//!
//! let update = |t: &str| {
//!     [
//!         (relation(t), LockMode::Table(TableLockMode::RowExclusive)),
//!         (rows(t), LockMode::Row(RowLockMode::NoKeyUpdate)),
//!     ]
//! };
//! let transfer = |name: &str, first: &str, second: &str| {
//!     let locks: Vec<_> = update(first).into_iter().chain(update(second)).collect();
//!     transaction(name, None, &locks)
//! };
//! let txns = vec![transfer("pay", "accounts", "ledger"), transfer("refund", "ledger", "accounts")];
//!
//! let graph = LockGraph::build(&txns);
//! assert_eq!((graph.node_count(), graph.edge_count()), (2, 2));
//!
//! // The table locks (ROW EXCLUSIVE) never wait for each other; the row locks do.
//! let cycles = graph.cycles(&txns, &CycleOptions::default());
//! assert_eq!(cycles.len(), 1);
//! let names: Vec<String> = cycles[0].nodes().map(|n| n.to_string()).collect();
//! assert_eq!(names, ["accounts", "ledger"]);
//! assert_eq!(cycles[0].edges[0].witness.txn, 0); // `pay` holds accounts, waits for ledger
//!
//! // One order for both: each edge has one transaction, so ties go to the smaller name.
//! let nodes: Vec<_> = graph.nodes().cloned().collect();
//! let order = graph.suggest_order(&nodes);
//! assert_eq!(order.order, nodes);
//! assert_eq!(order.broken.len(), 1); // `refund` has to change
//! assert!(order.exact);
//! ```
//!
//! Design notes:
//! - Witnesses are chosen per *lock*, not per node: two UPDATEs on one table do not conflict at
//!   the table level but do on rows, and those are separate lock acquisitions on the same node.
//! - Row locks on one relation are assumed to possibly overlap (key predicates are not compared
//!   here); rules that know better can filter cycles with the witnesses' [`KeyPredicate`]s.
//! - Determinism: nodes, edges, groups and witnesses are sorted or kept in input order; hash maps
//!   are only used for lookups, never iterated into results.
//! - No error type: every input this crate takes is an already-validated model value; the only
//!   limit (fewer than 2³² transactions) is an assertion.
//!
//! [`KeyPredicate`]: lockgraph_core::KeyPredicate
#![warn(missing_docs)]

/// Lock modes as small codes and their conflict matrix (internal).
mod code;
/// Deadlock cycles of the lock-order graph.
pub mod cycle;
/// The graph, its edges and witnesses, and how it is built.
pub mod graph;
/// Suggested lock orders (minimum feedback arc set).
pub mod order;
/// Synthetic transactions for tests, examples and benchmarks.
pub mod synth;
/// The wait-for graph of a live server (who waits for whom, root blockers, cycles).
pub mod waits;

pub use cycle::{Cycle, CycleEdge, CycleOptions, CycleSearch, EXACT_GROUPS};
pub use graph::{
    EdgeRef, EdgeSummary, EdgeWitness, GraphSummary, LockEdge, LockGraph, Shape, ShapeWitness,
    build_graph,
};
pub use order::{EXACT_ORDER_LIMIT, IMPROVEMENT_PASSES, OrderSuggestion, WINDOW};
pub use waits::{BlockingNode, ExclusiveQueue, WaitCycle, WaitEdge, WaitGraph, WaitKind};
