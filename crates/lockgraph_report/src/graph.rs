use serde::Serialize;

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
pub struct GraphSummary {
    /// Nodes sorted by id.
    pub nodes: Vec<GraphNode>,
    /// Edges sorted by (from, to).
    pub edges: Vec<GraphEdge>,
}
