use crate::Report;

/// Renders the lock-order graph in Graphviz DOT; edges on a reported cycle are red and bold.
pub fn render_dot(report: &Report<'_>) -> String {
    let g = report.graph;
    let mut out = String::from(
        "digraph lockgraph {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for n in &g.nodes {
        let style = if n.in_cycle {
            ", color=red, penwidth=2"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {} [label={}{style}];\n",
            quote(&n.id),
            quote(&n.id)
        ));
    }
    for e in &g.edges {
        let label = format!(
            "{} txn{}",
            e.transactions,
            if e.transactions == 1 { "" } else { "s" }
        );
        let style = if e.in_cycle {
            ", color=red, penwidth=2"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {} -> {} [label={}{style}];\n",
            quote(&e.from),
            quote(&e.to),
            quote(&label)
        ));
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
