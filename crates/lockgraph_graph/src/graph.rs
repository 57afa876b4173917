//! The lock-order graph: nodes, witnessed edges, transaction shapes, and how they are built.

use crate::code::{mode_code, mode_of};
use lockgraph_core::{LockAcquisition, LockMode, LockTarget, NodeKey, Transaction};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Marks "no group" in the internal group ids.
pub(crate) const NO_GROUP: u32 = u32::MAX;

/// One place where a transaction held a lock on an edge's source while acquiring a lock on its
/// target: indexes into the `&[Transaction]` slice the graph was built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EdgeWitness {
    /// Index of the transaction in the slice given to [`LockGraph::build`].
    pub txn: u32,
    /// Index into that transaction's `locks` of the lock already held (on the edge's source).
    pub held: u32,
    /// Index into that transaction's `locks` of the lock being acquired (on the edge's target).
    pub acquired: u32,
}

impl EdgeWitness {
    /// The held lock, when the indexes fit `txns`.
    pub fn held_lock<'t>(&self, txns: &'t [Transaction]) -> Option<&'t LockAcquisition> {
        txns.get(self.txn as usize)?.locks.get(self.held as usize)
    }

    /// The acquired lock, when the indexes fit `txns`.
    pub fn acquired_lock<'t>(&self, txns: &'t [Transaction]) -> Option<&'t LockAcquisition> {
        txns.get(self.txn as usize)?
            .locks
            .get(self.acquired as usize)
    }
}

/// A witness standing for every transaction of one shape with one (held, acquired) mode pair.
///
/// Transactions with identical sequences of (node, mode, statement fingerprint) and the same
/// group are one *shape*: the graph keeps one representative witness per shape and mode pair,
/// and counts the transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShapeWitness {
    /// The representative: the first transaction of the shape in input order.
    pub witness: EdgeWitness,
    /// Mode of the held lock.
    pub held_mode: LockMode,
    /// Mode of the acquired lock.
    pub acquired_mode: LockMode,
    /// Index of the shape (see [`LockGraph::shape`]).
    pub shape: u32,
    /// How many transactions have this shape.
    pub transactions: u32,
}

/// The weight of one edge of the petgraph graph: its witnesses and how many transactions support it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEdge {
    /// Transactions that support the edge (each counted once, whatever its mode pairs).
    pub transactions: u64,
    /// Distinct shapes that support the edge.
    pub shapes: u32,
    /// One witness per (shape, held mode, acquired mode), in shape order (first seen first).
    pub witnesses: Vec<ShapeWitness>,
}

/// A transaction shape: transactions that take the same locks in the same modes, from the same
/// statements, in the same order, in the same group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// The first transaction of this shape in input order.
    pub representative: u32,
    /// How many transactions have this shape.
    pub transactions: u32,
    /// The group of its transactions.
    pub group: Option<Arc<str>>,
}

/// A borrowed view of one edge.
#[derive(Clone, Copy, Debug)]
pub struct EdgeRef<'g> {
    /// The edge's index in [`LockGraph::graph`].
    pub index: EdgeIndex,
    /// Where the held lock is.
    pub from: &'g NodeKey,
    /// Where the acquired lock is.
    pub to: &'g NodeKey,
    /// Transactions that support the edge.
    pub transactions: u64,
    /// Distinct shapes that support the edge.
    pub shapes: u32,
    /// One witness per (shape, held mode, acquired mode).
    pub witnesses: &'g [ShapeWitness],
}

impl EdgeRef<'_> {
    /// The distinct (held, acquired) mode pairs of the edge, sorted.
    pub fn mode_pairs(&self) -> Vec<(LockMode, LockMode)> {
        let mut pairs: Vec<_> = self
            .witnesses
            .iter()
            .map(|w| (w.held_mode, w.acquired_mode))
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }

    /// An owned, serializable summary.
    pub fn summary(&self) -> EdgeSummary {
        EdgeSummary {
            from: self.from.clone(),
            to: self.to.clone(),
            transactions: self.transactions,
            shapes: self.shapes,
            modes: self.mode_pairs(),
        }
    }
}

/// A serializable summary of one edge, for renderers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeSummary {
    /// Where the held lock is.
    pub from: NodeKey,
    /// Where the acquired lock is.
    pub to: NodeKey,
    /// Transactions that support the edge.
    pub transactions: u64,
    /// Distinct shapes that support the edge.
    pub shapes: u32,
    /// Distinct (held, acquired) mode pairs, sorted.
    pub modes: Vec<(LockMode, LockMode)>,
}

/// A serializable summary of the whole graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphSummary {
    /// Transactions the graph was built from.
    pub transactions: usize,
    /// Distinct transaction shapes.
    pub shapes: usize,
    /// Nodes (relations and advisory keys).
    pub nodes: usize,
    /// Edges.
    pub edges: usize,
    /// Strongly connected components of two nodes or more, each sorted, smallest first.
    pub sccs: Vec<Vec<NodeKey>>,
}

/// Internal record of a shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShapeData {
    pub(crate) representative: u32,
    pub(crate) transactions: u32,
    /// Index into `groups`, or [`NO_GROUP`].
    pub(crate) group: u32,
}

/// The lock-order graph of a set of transactions.
///
/// Nodes are [`NodeKey`]s, sorted: `NodeIndex(i)` is the `i`-th smallest key. Edges are sorted by
/// (source, target). Nothing in it depends on hash order, so equal inputs give equal graphs.
#[derive(Clone, Debug)]
pub struct LockGraph {
    pub(crate) graph: DiGraph<NodeKey, LockEdge>,
    /// `out_start[v]..out_start[v + 1]` are the edge indexes leaving `v`, sorted by target.
    pub(crate) out_start: Vec<u32>,
    /// `in_edges[in_start[v]..in_start[v + 1]]` are the edge indexes entering `v`, sorted by source.
    pub(crate) in_start: Vec<u32>,
    pub(crate) in_edges: Vec<u32>,
    pub(crate) shapes: Vec<ShapeData>,
    /// Group names, sorted: a group id is an index here.
    pub(crate) groups: Vec<Arc<str>>,
    /// Non-trivial SCCs, each sorted, sorted by first node.
    pub(crate) sccs: Vec<Vec<NodeIndex>>,
    /// Index into `sccs` for nodes in a non-trivial SCC, else `u32::MAX`.
    pub(crate) scc_of: Vec<u32>,
    pub(crate) transactions: usize,
}

/// Builds the lock-order graph of `txns` (same as [`LockGraph::build`]).
pub fn build_graph(txns: &[Transaction]) -> LockGraph {
    LockGraph::build(txns)
}

impl LockGraph {
    /// Builds the lock-order graph of `txns`.
    ///
    /// Cost: one pass over every lock to find shapes (hashing, no allocation per transaction),
    /// then, per distinct shape with `n` locks, `O(n · d)` pairs where `d` is its number of
    /// distinct (node, mode) pairs. Witness indexes are `u32`: the slice and each transaction
    /// must hold fewer than 2³² entries.
    pub fn build(txns: &[Transaction]) -> LockGraph {
        assert!(
            u32::try_from(txns.len()).is_ok(),
            "lockgraph_graph indexes transactions with u32"
        );
        let collected = collect_shapes(txns);
        assemble(txns.len(), collected)
    }

    /// The petgraph graph: node weights are [`NodeKey`]s, edge weights [`LockEdge`]s.
    pub fn graph(&self) -> &DiGraph<NodeKey, LockEdge> {
        &self.graph
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Number of transactions the graph was built from.
    pub fn transaction_count(&self) -> usize {
        self.transactions
    }

    /// Number of distinct transaction shapes.
    pub fn shape_count(&self) -> usize {
        self.shapes.len()
    }

    /// A shape by index (as in [`ShapeWitness::shape`]).
    pub fn shape(&self, index: u32) -> Option<Shape> {
        let s = self.shapes.get(index as usize)?;
        Some(Shape {
            representative: s.representative,
            transactions: s.transactions,
            group: self.groups.get(s.group as usize).cloned(),
        })
    }

    /// All nodes, sorted.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &NodeKey> + '_ {
        self.graph.raw_nodes().iter().map(|n| &n.weight)
    }

    /// The key of a node.
    pub fn node(&self, index: NodeIndex) -> &NodeKey {
        &self.graph[index]
    }

    /// The index of a node, by binary search.
    pub fn node_index(&self, key: &NodeKey) -> Option<NodeIndex> {
        self.graph
            .raw_nodes()
            .binary_search_by(|n| n.weight.cmp(key))
            .ok()
            .map(NodeIndex::new)
    }

    /// All edges, sorted by (source, target).
    pub fn edges(&self) -> impl ExactSizeIterator<Item = EdgeRef<'_>> + '_ {
        (0..self.edge_count()).map(|e| self.edge_ref(e as u32))
    }

    /// The edge `from → to`, if some transaction witnessed it.
    pub fn edge(&self, from: &NodeKey, to: &NodeKey) -> Option<EdgeRef<'_>> {
        let (f, t) = (self.node_index(from)?, self.node_index(to)?);
        self.find_edge(f.index() as u32, t.index() as u32)
            .map(|e| self.edge_ref(e))
    }

    /// Edges leaving `node`, sorted by target.
    pub fn out_edges(&self, node: NodeIndex) -> impl Iterator<Item = EdgeRef<'_>> + '_ {
        self.out_range(node.index() as u32)
            .map(|e| self.edge_ref(e))
    }

    /// Edges entering `node`, sorted by source.
    pub fn in_edges(&self, node: NodeIndex) -> impl Iterator<Item = EdgeRef<'_>> + '_ {
        let v = node.index();
        let range = self.in_start[v] as usize..self.in_start[v + 1] as usize;
        self.in_edges[range].iter().map(|&e| self.edge_ref(e))
    }

    /// Strongly connected components of two nodes or more: each sorted, smallest first. Only
    /// these can hold a cycle.
    pub fn sccs(&self) -> &[Vec<NodeIndex>] {
        &self.sccs
    }

    /// The index into [`LockGraph::sccs`] of the component holding `key`, if it is non-trivial.
    pub fn scc_of(&self, key: &NodeKey) -> Option<usize> {
        let v = self.node_index(key)?.index();
        let s = self.scc_of[v];
        (s != u32::MAX).then_some(s as usize)
    }

    /// Counts and components, serializable.
    pub fn summary(&self) -> GraphSummary {
        GraphSummary {
            transactions: self.transactions,
            shapes: self.shapes.len(),
            nodes: self.node_count(),
            edges: self.edge_count(),
            sccs: self
                .sccs
                .iter()
                .map(|c| c.iter().map(|&n| self.graph[n].clone()).collect())
                .collect(),
        }
    }

    pub(crate) fn edge_ref(&self, e: u32) -> EdgeRef<'_> {
        let raw = &self.graph.raw_edges()[e as usize];
        EdgeRef {
            index: EdgeIndex::new(e as usize),
            from: &self.graph[raw.source()],
            to: &self.graph[raw.target()],
            transactions: raw.weight.transactions,
            shapes: raw.weight.shapes,
            witnesses: &raw.weight.witnesses,
        }
    }

    pub(crate) fn out_range(&self, v: u32) -> std::ops::Range<u32> {
        self.out_start[v as usize]..self.out_start[v as usize + 1]
    }

    pub(crate) fn edge_target(&self, e: u32) -> u32 {
        self.graph.raw_edges()[e as usize].target().index() as u32
    }

    pub(crate) fn edge_source(&self, e: u32) -> u32 {
        self.graph.raw_edges()[e as usize].source().index() as u32
    }

    pub(crate) fn edge_weight(&self, e: u32) -> &LockEdge {
        &self.graph.raw_edges()[e as usize].weight
    }

    /// The edge `from → to` by binary search among `from`'s out-edges.
    pub(crate) fn find_edge(&self, from: u32, to: u32) -> Option<u32> {
        let range = self.out_range(from);
        let edges = self.graph.raw_edges();
        let slice = &edges[range.start as usize..range.end as usize];
        slice
            .binary_search_by(|e| (e.target().index() as u32).cmp(&to))
            .ok()
            .map(|i| range.start + i as u32)
    }

    pub(crate) fn shape_group(&self, shape: u32) -> u32 {
        self.shapes[shape as usize].group
    }
}

/// One lock of a shape, as compared for shape identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Step {
    node: u32,
    mode: u8,
    fingerprint: u64,
    /// An earlier lock of the transaction on the same target covers this one
    /// ([`Transaction::is_redundant`]): it never waits, so it is no edge's end or start.
    redundant: bool,
}

/// Output of the first pass: interned nodes and groups (first-seen ids) and deduplicated shapes.
struct Collected {
    nodes: Vec<NodeKey>,
    groups: Vec<Arc<str>>,
    shapes: Vec<ShapeData>,
    steps: Vec<Step>,
    starts: Vec<u32>,
}

/// A borrowed node identity, so interning hashes a `&str` and clones nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum NodeRef<'a> {
    Relation(&'a str),
    Advisory(&'a str),
}

fn node_ref(target: &LockTarget) -> NodeRef<'_> {
    match target {
        LockTarget::Relation { relation } | LockTarget::Rows { relation, .. } => {
            NodeRef::Relation(relation.as_str())
        }
        LockTarget::Advisory { key } => NodeRef::Advisory(key),
    }
}

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

const NONE: u32 = u32::MAX;

/// First pass: one walk over every lock, interning nodes and finding shapes by hash + compare.
fn collect_shapes(txns: &[Transaction]) -> Collected {
    let mut node_ids: FxHashMap<NodeRef<'_>, u32> = FxHashMap::default();
    let mut nodes: Vec<NodeKey> = Vec::new();
    let mut group_ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut groups: Vec<Arc<str>> = Vec::new();
    let mut by_hash: FxHashMap<u64, u32> = FxHashMap::default();
    let mut next_same_hash: Vec<u32> = Vec::new();
    let mut shapes: Vec<ShapeData> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut starts: Vec<u32> = vec![0];
    let mut scratch: Vec<Step> = Vec::new();

    for (t, txn) in txns.iter().enumerate() {
        let group = match &txn.group {
            None => NO_GROUP,
            Some(g) => *group_ids.entry(g).or_insert_with(|| {
                groups.push(g.clone());
                groups.len() as u32 - 1
            }),
        };
        scratch.clear();
        let mut h = mix(0x9e37_79b9_7f4a_7c15, u64::from(group));
        for (j, lock) in txn.locks.iter().enumerate() {
            let redundant = txn.is_redundant(j);
            let r = node_ref(&lock.target);
            let node = *node_ids.entry(r).or_insert_with(|| {
                nodes.push(lock.target.node());
                nodes.len() as u32 - 1
            });
            let mode = mode_code(lock.mode);
            let fingerprint = lock.statement.fingerprint.0;
            h = mix(
                mix(
                    h,
                    u64::from(node) << 9 | u64::from(mode) << 1 | u64::from(redundant),
                ),
                fingerprint,
            );
            scratch.push(Step {
                node,
                mode,
                fingerprint,
                redundant,
            });
        }
        h = mix(h, scratch.len() as u64);

        let mut found = NONE;
        let mut last = NONE;
        if let Some(&first) = by_hash.get(&h) {
            let mut s = first;
            while s != NONE {
                let data = &shapes[s as usize];
                let seq = &steps[starts[s as usize] as usize..starts[s as usize + 1] as usize];
                if data.group == group && seq == scratch.as_slice() {
                    found = s;
                    break;
                }
                last = s;
                s = next_same_hash[s as usize];
            }
        }
        if found != NONE {
            shapes[found as usize].transactions += 1;
            continue;
        }
        let s = shapes.len() as u32;
        shapes.push(ShapeData {
            representative: t as u32,
            transactions: 1,
            group,
        });
        steps.extend_from_slice(&scratch);
        starts.push(steps.len() as u32);
        next_same_hash.push(NONE);
        if last == NONE {
            by_hash.insert(h, s);
        } else {
            next_same_hash[last as usize] = s;
        }
    }
    Collected {
        nodes,
        groups,
        shapes,
        steps,
        starts,
    }
}

/// A witness before edges get their final indexes.
#[derive(Clone, Copy)]
struct RawWitness {
    edge: u32,
    held: u32,
    acquired: u32,
    held_mode: u8,
    acquired_mode: u8,
    shape: u32,
}

/// Second pass over shapes, then sorting everything into its final, deterministic place.
fn assemble(transactions: usize, c: Collected) -> LockGraph {
    let Collected {
        nodes,
        groups,
        mut shapes,
        steps,
        starts,
    } = c;

    // Edges per shape: every pair i < j on different nodes, keeping for held locks only the
    // first occurrence of each (node, mode) — a later one adds no new (held, acquired) pair.
    let mut edge_ids: FxHashMap<u64, u32> = FxHashMap::default();
    let mut edge_ends: Vec<(u32, u32)> = Vec::new();
    let mut raw: Vec<RawWitness> = Vec::new();
    let mut firsts: Vec<(u32, u8, u32)> = Vec::new();
    let mut first_set: FxHashMap<(u32, u8), ()> = FxHashMap::default();
    for s in 0..shapes.len() {
        let seq = &steps[starts[s] as usize..starts[s + 1] as usize];
        let big = seq.len() > 32;
        firsts.clear();
        first_set.clear();
        let shape_start = raw.len();
        for (j, step) in seq.iter().enumerate() {
            if step.redundant {
                continue;
            }
            for &(node, mode, i) in &firsts {
                if node == step.node {
                    continue;
                }
                let key = u64::from(node) << 32 | u64::from(step.node);
                let edge = *edge_ids.entry(key).or_insert_with(|| {
                    edge_ends.push((node, step.node));
                    edge_ends.len() as u32 - 1
                });
                raw.push(RawWitness {
                    edge,
                    held: i,
                    acquired: j as u32,
                    held_mode: mode,
                    acquired_mode: step.mode,
                    shape: s as u32,
                });
            }
            let is_first = if big {
                first_set.insert((step.node, step.mode), ()).is_none()
            } else {
                !firsts
                    .iter()
                    .any(|&(n, m, _)| n == step.node && m == step.mode)
            };
            if is_first {
                firsts.push((step.node, step.mode, j as u32));
            }
        }
        // One witness per (edge, held mode, acquired mode) for this shape: the earliest.
        let mine = &mut raw[shape_start..];
        if mine.len() > 1 {
            mine.sort_unstable_by_key(|w| (w.edge, w.held_mode, w.acquired_mode, w.acquired));
            let mut keep = shape_start;
            for k in shape_start..raw.len() {
                let w = raw[k];
                if keep > shape_start {
                    let p = raw[keep - 1];
                    if (p.edge, p.held_mode, p.acquired_mode)
                        == (w.edge, w.held_mode, w.acquired_mode)
                    {
                        continue;
                    }
                }
                raw[keep] = w;
                keep += 1;
            }
            raw.truncate(keep);
        }
    }

    // Nodes sorted by key; groups sorted by name.
    let mut node_order: Vec<u32> = (0..nodes.len() as u32).collect();
    node_order.sort_unstable_by(|&a, &b| nodes[a as usize].cmp(&nodes[b as usize]));
    let mut node_rank = vec![0u32; nodes.len()];
    for (rank, &old) in node_order.iter().enumerate() {
        node_rank[old as usize] = rank as u32;
    }
    let mut group_order: Vec<u32> = (0..groups.len() as u32).collect();
    group_order.sort_unstable_by(|&a, &b| groups[a as usize].cmp(&groups[b as usize]));
    let mut group_rank = vec![0u32; groups.len()];
    for (rank, &old) in group_order.iter().enumerate() {
        group_rank[old as usize] = rank as u32;
    }
    for s in &mut shapes {
        if s.group != NO_GROUP {
            s.group = group_rank[s.group as usize];
        }
    }
    let groups: Vec<Arc<str>> = group_order
        .iter()
        .map(|&g| groups[g as usize].clone())
        .collect();

    // Edges sorted by (source rank, target rank).
    let ends: Vec<(u32, u32)> = edge_ends
        .iter()
        .map(|&(f, t)| (node_rank[f as usize], node_rank[t as usize]))
        .collect();
    let mut edge_order: Vec<u32> = (0..ends.len() as u32).collect();
    edge_order.sort_unstable_by_key(|&e| ends[e as usize]);
    let mut edge_rank = vec![0u32; ends.len()];
    for (rank, &old) in edge_order.iter().enumerate() {
        edge_rank[old as usize] = rank as u32;
    }

    // Counting sort of witnesses by final edge, stable (shape order kept within an edge).
    let mut counts = vec![0u32; ends.len() + 1];
    for w in &raw {
        counts[edge_rank[w.edge as usize] as usize + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    let mut fill = counts.clone();
    let mut slots: Vec<u32> = vec![0; raw.len()];
    for (k, w) in raw.iter().enumerate() {
        let e = edge_rank[w.edge as usize] as usize;
        slots[fill[e] as usize] = k as u32;
        fill[e] += 1;
    }

    let mut graph: DiGraph<NodeKey, LockEdge> = DiGraph::with_capacity(nodes.len(), ends.len());
    let mut nodes = nodes.into_iter().map(Some).collect::<Vec<_>>();
    for &old in &node_order {
        let key = nodes[old as usize].take().expect("each node is moved once");
        graph.add_node(key);
    }
    let mut out_start = vec![0u32; graph.node_count() + 1];
    for (rank, &old) in edge_order.iter().enumerate() {
        let (from, to) = ends[old as usize];
        out_start[from as usize + 1] += 1;
        let range = counts[rank] as usize..counts[rank + 1] as usize;
        let mut witnesses = Vec::with_capacity(range.len());
        let mut total = 0u64;
        let mut distinct = 0u32;
        let mut last_shape = NONE;
        for &k in &slots[range] {
            let w = raw[k as usize];
            let shape = shapes[w.shape as usize];
            if w.shape != last_shape {
                last_shape = w.shape;
                distinct += 1;
                total += u64::from(shape.transactions);
            }
            witnesses.push(ShapeWitness {
                witness: EdgeWitness {
                    txn: shape.representative,
                    held: w.held,
                    acquired: w.acquired,
                },
                held_mode: mode_of(w.held_mode),
                acquired_mode: mode_of(w.acquired_mode),
                shape: w.shape,
                transactions: shape.transactions,
            });
        }
        graph.add_edge(
            NodeIndex::new(from as usize),
            NodeIndex::new(to as usize),
            LockEdge {
                transactions: total,
                shapes: distinct,
                witnesses,
            },
        );
    }
    for v in 1..out_start.len() {
        out_start[v] += out_start[v - 1];
    }

    // In-edges: counting sort by target; edges are visited by source, so each bucket is sorted.
    let mut in_start = vec![0u32; graph.node_count() + 1];
    for e in graph.raw_edges() {
        in_start[e.target().index() + 1] += 1;
    }
    for v in 1..in_start.len() {
        in_start[v] += in_start[v - 1];
    }
    let mut in_fill = in_start.clone();
    let mut in_edges = vec![0u32; graph.edge_count()];
    for (i, e) in graph.raw_edges().iter().enumerate() {
        let t = e.target().index();
        in_edges[in_fill[t] as usize] = i as u32;
        in_fill[t] += 1;
    }

    // Kosaraju rather than petgraph's Tarjan: the latter recurses once per node on a path, and
    // long chains of relations would overflow a thread's stack.
    let mut sccs: Vec<Vec<NodeIndex>> = petgraph::algo::kosaraju_scc(&graph)
        .into_iter()
        .filter(|c| c.len() >= 2)
        .map(|mut c| {
            c.sort_unstable();
            c
        })
        .collect();
    sccs.sort_unstable_by_key(|c| c[0]);
    let mut scc_of = vec![u32::MAX; graph.node_count()];
    for (i, c) in sccs.iter().enumerate() {
        for n in c {
            scc_of[n.index()] = i as u32;
        }
    }

    LockGraph {
        graph,
        out_start,
        in_start,
        in_edges,
        shapes,
        groups,
        sccs,
        scc_of,
        transactions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{relation, rows, transaction};
    use lockgraph_core::{RowLockMode, TableLockMode};

    const RE: LockMode = LockMode::Table(TableLockMode::RowExclusive);
    const NKU: LockMode = LockMode::Row(RowLockMode::NoKeyUpdate);

    fn key(name: &str) -> NodeKey {
        relation(name).node()
    }

    #[test]
    fn every_ordered_pair_is_a_witness_and_shapes_are_deduplicated() {
        let t = |name| {
            transaction(
                name,
                None,
                &[
                    (relation("b"), RE),
                    (rows("b"), NKU),
                    (relation("a"), RE),
                    (rows("a"), NKU),
                ],
            )
        };
        let txns = vec![t("one"), t("two"), t("three")];
        let g = LockGraph::build(&txns);
        assert_eq!(g.node_count(), 2);
        assert_eq!(g.edge_count(), 1);
        assert_eq!(g.shape_count(), 1);
        assert_eq!(g.nodes().collect::<Vec<_>>(), vec![&key("a"), &key("b")]);
        let e = g.edge(&key("b"), &key("a")).expect("b → a");
        assert_eq!(e.transactions, 3);
        assert_eq!(e.shapes, 1);
        // 2 held locks × 2 acquired locks, all with distinct mode pairs.
        assert_eq!(e.witnesses.len(), 4);
        assert!(
            e.witnesses
                .iter()
                .all(|w| w.witness.txn == 0 && w.transactions == 3)
        );
        assert_eq!(
            e.mode_pairs(),
            vec![(RE, RE), (RE, NKU), (NKU, RE), (NKU, NKU)]
        );
        assert!(g.edge(&key("a"), &key("b")).is_none());
        assert!(g.sccs().is_empty());
    }

    #[test]
    fn repeated_held_modes_keep_the_first_lock_only() {
        // a, a, b: the second `a` lock adds nothing to a → b.
        let txns = vec![transaction(
            "t",
            None,
            &[
                (rows("a"), NKU),
                (rows("a"), NKU),
                (rows("b"), NKU),
                (rows("b"), NKU),
            ],
        )];
        let g = LockGraph::build(&txns);
        let e = g.edge(&key("a"), &key("b")).expect("a → b");
        assert_eq!(e.witnesses.len(), 1);
        assert_eq!(
            e.witnesses[0].witness,
            EdgeWitness {
                txn: 0,
                held: 0,
                acquired: 2
            }
        );
    }

    #[test]
    fn groups_and_statements_split_shapes() {
        let locks = [(rows("a"), NKU), (rows("b"), NKU)];
        let mut grouped = transaction("m", Some("migrations"), &locks);
        grouped.name = "other".into();
        let txns = vec![
            transaction("x", None, &locks),
            grouped,
            transaction("y", None, &[(rows("a"), NKU), (rows("b"), RE)]),
        ];
        let g = LockGraph::build(&txns);
        assert_eq!(g.shape_count(), 3);
        let e = g.edge(&key("a"), &key("b")).expect("a → b");
        assert_eq!((e.transactions, e.shapes), (3, 3));
        assert_eq!(
            g.shape(1).and_then(|s| s.group).as_deref(),
            Some("migrations")
        );
    }

    #[test]
    fn empty_and_lockless_inputs() {
        let g = LockGraph::build(&[]);
        assert_eq!((g.node_count(), g.edge_count(), g.shape_count()), (0, 0, 0));
        assert!(g.cycles(&[], &crate::CycleOptions::default()).is_empty());
        assert!(g.suggest_order(&[]).order.is_empty());
        // No locks, or locks on one node only: shapes but no edges.
        let txns = vec![
            transaction("none", None, &[]),
            transaction("one", None, &[(relation("a"), RE), (rows("a"), NKU)]),
        ];
        let g = LockGraph::build(&txns);
        assert_eq!((g.node_count(), g.edge_count(), g.shape_count()), (1, 0, 2));
        let order = g.suggest_order(&[key("z"), key("a"), key("a")]);
        assert_eq!(order.order, [key("a"), key("z")]);
        assert!(order.broken.is_empty() && order.exact);
    }

    #[test]
    fn sccs_and_summary_are_sorted() {
        let txns = vec![
            transaction("1", None, &[(rows("c"), NKU), (rows("b"), NKU)]),
            transaction("2", None, &[(rows("b"), NKU), (rows("c"), NKU)]),
            transaction("3", None, &[(rows("a"), NKU), (rows("b"), NKU)]),
        ];
        let g = LockGraph::build(&txns);
        let s = g.summary();
        assert_eq!(s.sccs, vec![vec![key("b"), key("c")]]);
        assert_eq!((s.nodes, s.edges, s.shapes, s.transactions), (3, 3, 3, 3));
        assert_eq!(g.scc_of(&key("c")), Some(0));
        assert_eq!(g.scc_of(&key("a")), None);
        let json = serde_json::to_string(&s).expect("serializes");
        assert!(json.contains("\"sccs\""));
        let edges: Vec<_> = g
            .edges()
            .map(|e| (e.from.to_string(), e.to.to_string()))
            .collect();
        assert_eq!(
            edges,
            [("a", "b"), ("b", "c"), ("c", "b")].map(|(a, b)| (a.into(), b.into()))
        );
        let b = g.node_index(&key("b")).expect("b");
        assert_eq!(
            g.in_edges(b)
                .map(|e| e.from.to_string())
                .collect::<Vec<_>>(),
            ["a", "c"]
        );
        assert_eq!(
            g.out_edges(b).map(|e| e.to.to_string()).collect::<Vec<_>>(),
            ["c"]
        );
    }
}
