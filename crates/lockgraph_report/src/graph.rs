use lockgraph_core::{Finding, NodeKey, Transaction};
use lockgraph_graph::LockGraph;
use serde::Serialize;
use std::collections::BTreeSet;

/// A node of the lock-order graph as reports show it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct GraphNode {
    /// Relation name, or `advisory(key)`.
    pub id: String,
    /// `relation` or `advisory`.
    pub kind: &'static str,
    /// Whether a reported cycle goes through it.
    pub in_cycle: bool,
}

/// An edge `from → to`: some transaction held `from` while locking `to`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct GraphEdge {
    /// Held node.
    pub from: String,
    /// Acquired node.
    pub to: String,
    /// How many transactions support it.
    pub transactions: usize,
    /// Distinct `held → acquired` mode pairs, e.g. `FOR NO KEY UPDATE → ROW EXCLUSIVE`.
    pub modes: Vec<String>,
    /// Where the acquiring statements are (`path:line`), deduplicated, at most 20.
    pub locations: Vec<String>,
    /// Whether a reported cycle uses it.
    pub in_cycle: bool,
}

/// The lock-order graph, summarized for output; sorted for deterministic output.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct GraphView {
    /// Nodes sorted by id.
    pub nodes: Vec<GraphNode>,
    /// Edges sorted by (from, to).
    pub edges: Vec<GraphEdge>,
}

impl GraphView {
    /// Summarizes `graph`; nodes and edges on the cycles of LG101 findings are marked.
    pub fn build(graph: &LockGraph, txns: &[Transaction], findings: &[Finding]) -> GraphView {
        let cycles: Vec<&Vec<String>> = findings
            .iter()
            .filter(|f| f.code == "LG101")
            .map(|f| &f.relations)
            .collect();
        let on_cycle = |from: &str, to: &str| {
            cycles.iter().any(|rels| {
                let k = rels.len();
                (0..k).any(|i| rels[i] == from && rels[(i + 1) % k] == to)
            })
        };
        let cycle_nodes: BTreeSet<&str> = cycles
            .iter()
            .flat_map(|r| r.iter().map(String::as_str))
            .collect();
        let mut nodes: Vec<GraphNode> = graph
            .nodes()
            .map(|n| {
                let id = n.to_string();
                GraphNode {
                    kind: match n {
                        NodeKey::Relation(_) => "relation",
                        NodeKey::Advisory(_) => "advisory",
                    },
                    in_cycle: cycle_nodes.contains(id.as_str()),
                    id,
                }
            })
            .collect();
        nodes.sort_by(|a, b| a.id.cmp(&b.id));
        let mut edges: Vec<GraphEdge> = graph
            .edges()
            .map(|e| {
                let (from, to) = (e.from.to_string(), e.to.to_string());
                let modes: BTreeSet<String> = e
                    .mode_pairs()
                    .iter()
                    .map(|(h, a)| format!("{h} → {a}"))
                    .collect();
                let locations: BTreeSet<String> = e
                    .witnesses
                    .iter()
                    .filter_map(|w| w.witness.acquired_lock(txns))
                    .map(|l| l.statement.location.to_string())
                    .collect();
                GraphEdge {
                    in_cycle: on_cycle(&from, &to),
                    from,
                    to,
                    transactions: e.transactions as usize,
                    modes: modes.into_iter().collect(),
                    locations: locations.into_iter().take(20).collect(),
                }
            })
            .collect();
        edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        GraphView { nodes, edges }
    }
}
