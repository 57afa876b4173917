use crate::Report;

/// Renders the lock-order graph as a Mermaid flowchart; cycle edges are drawn thick and red.
pub fn render_mermaid(report: &Report<'_>) -> String {
    let g = report.graph;
    let mut out = String::from("flowchart LR\n");
    let id = |name: &str| {
        g.nodes
            .iter()
            .position(|n| n.id == name)
            .map(|i| format!("n{i}"))
            .unwrap_or_default()
    };
    for (i, n) in g.nodes.iter().enumerate() {
        out.push_str(&format!("  n{i}[\"{}\"]\n", n.id.replace('"', "#quot;")));
    }
    let mut red = Vec::new();
    for (k, e) in g.edges.iter().enumerate() {
        let arrow = if e.in_cycle { "==>" } else { "-->" };
        out.push_str(&format!(
            "  {} {arrow}|{}| {}\n",
            id(&e.from),
            e.transactions,
            id(&e.to)
        ));
        if e.in_cycle {
            red.push(k.to_string());
        }
    }
    if !red.is_empty() {
        out.push_str(&format!(
            "  linkStyle {} stroke:#d00,stroke-width:3px\n",
            red.join(",")
        ));
    }
    out
}
