//! The HTML report on real findings: self-contained (no external reference), every input text
//! escaped (a hostile relation name from real SQL), literals never shown, the graph drawn with
//! its cycle highlighted, runtime sections present when given, and the picture capped on a
//! 1,000-relation graph. Loading in a real browser is tested end to end in
//! `crates/lockgraph_cli/tests/html_report.rs`.

use lockgraph_core::{
    DeadlockEdge, DeadlockParticipant, Fingerprint, Location, LockWait, ObservedDeadlock,
    RelationName, Schema, Statement, WaitOutcome,
};
use lockgraph_report::{
    GraphEdge, GraphNode, GraphView, HTML_MAX_NODES, HtmlInput, Report, SignatureChange, Sources,
    TimeWindow, WindowComparison, render_html,
};
use lockgraph_rules::{Analysis, CheckOptions, REGISTRY, check};
use lockgraph_sql::{SqlFileOptions, build_transactions};
use std::sync::Arc;

const HOSTILE: &str = "<script>alert(1)</script>";

/// Real findings and graph of a lock-order inversion between `accounts` and a relation whose
/// name is markup, with a literal in every statement.
fn analyse() -> (Vec<lockgraph_core::Finding>, GraphView) {
    let a = format!(
        "BEGIN;\nUPDATE accounts SET balance = 1 WHERE id = 'secret-literal';\nUPDATE \"{HOSTILE}\" SET total = 2 WHERE id = 1;\nCOMMIT;\n"
    );
    let b = format!(
        "BEGIN;\nUPDATE \"{HOSTILE}\" SET total = 3 WHERE id = 1;\nUPDATE accounts SET balance = 4 WHERE id = 'secret-literal';\nCOMMIT;\n"
    );
    let schema = Schema::default();
    let opts = SqlFileOptions::default();
    let (mut txns, mut diags) = build_transactions("app/a.sql", &a, &schema, &opts);
    let (t2, d2) = build_transactions("app/b.sql", &b, &schema, &opts);
    txns.extend(t2);
    diags.extend(d2);
    let analysis = Analysis::new(&txns, &diags, &schema, &[], CheckOptions::default());
    let codes: Vec<&str> = REGISTRY.iter().map(|r| r.info().code).collect();
    let findings = check(&analysis, &codes);
    assert_eq!(findings[0].code, "LG101", "{findings:#?}");
    let graph = GraphView::build(&analysis.graph, &txns, &findings);
    (findings, graph)
}

fn statement(line: u32, text: &str, redacted: &str) -> Arc<Statement> {
    Arc::new(Statement {
        location: Location::new("postgresql.log", line),
        text: text.into(),
        redacted: redacted.into(),
        fingerprint: Fingerprint(u64::from(line)),
    })
}

fn deadlock() -> ObservedDeadlock {
    let rel = RelationName::new(HOSTILE);
    let participant = |pid: u32, victim: bool| DeadlockParticipant {
        pid,
        current: None,
        statements: vec![statement(
            pid,
            "UPDATE accounts SET balance = 0 WHERE owner = 'secret-literal'",
            "UPDATE accounts SET balance = ? WHERE owner = ?",
        )],
        locks: vec![],
        victim,
    };
    ObservedDeadlock {
        signature: Fingerprint(0xfeed),
        count: 3,
        first_seen: Some("2026-11-24 03:16:49.590 UTC".into()),
        last_seen: Some("2026-11-24 04:00:00.000 UTC".into()),
        location: Location::new("postgresql.log", 42),
        edges: vec![
            DeadlockEdge {
                waiter: 101,
                mode: "ShareLock".into(),
                target: "transaction 7".into(),
                relation: Some(rel.clone()),
                blocker: 102,
            },
            DeadlockEdge {
                waiter: 102,
                mode: "ShareLock".into(),
                target: "transaction 8".into(),
                relation: Some(RelationName::new("accounts")),
                blocker: 101,
            },
        ],
        participants: vec![participant(101, true), participant(102, false)],
        relations: vec![RelationName::new("accounts"), rel],
        engine: lockgraph_core::Engine::Postgres,
    }
}

fn wait(at: &str, waiter: u32, holder: u32, ms: f64, outcome: WaitOutcome) -> LockWait {
    LockWait {
        location: Location::new("postgresql.log", 7),
        at: Some(at.into()),
        waiter,
        mode: "ShareLock".into(),
        target: "transaction 9".into(),
        relation: Some(RelationName::new(HOSTILE)),
        holders: vec![holder],
        queue: vec![],
        waited_ms: ms,
        outcome,
        statement: Some(statement(
            9,
            "UPDATE x SET y = 'secret-literal'",
            "UPDATE x SET y = ?",
        )),
    }
}

/// Every reference the page makes is local: no scheme, no protocol-relative URL, no `src`, and
/// only fragment `href`s and `url(#…)`s.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http:", "https:", "src=", "@import", "//", "<link", "<script", "<iframe",
    ] {
        assert!(!lower.contains(bad), "found `{bad}` in the page");
    }
    for (i, _) in lower.match_indices("url(") {
        assert!(lower[i..].starts_with("url(#"), "non-local url( at {i}");
    }
    for (i, _) in lower.match_indices("href=") {
        assert!(lower[i..].starts_with("href=\"#"), "non-local href at {i}");
    }
}

#[test]
fn a_report_with_everything_is_self_contained_and_escaped() {
    let (findings, graph) = analyse();
    let sources = Sources::default();
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &sources,
        transactions: 2,
        files: 2,
    };
    let deadlocks = [deadlock()];
    let waits = [
        wait(
            "2026-11-24 03:17:00.000 UTC",
            201,
            200,
            1500.0,
            WaitOutcome::Acquired,
        ),
        wait(
            "2026-11-24 03:18:00.000 UTC",
            202,
            201,
            1000.0,
            WaitOutcome::Deadlock,
        ),
    ];
    let blockers = [(200u32, 2usize)];
    let windows = WindowComparison {
        earlier: TimeWindow {
            from: "2026-11-17".into(),
            to: "2026-11-24".into(),
        },
        later: TimeWindow {
            from: "2026-11-24".into(),
            to: "2026-12-01".into(),
        },
        new: vec![SignatureChange {
            signature: "000000000000feed".into(),
            relations: vec!["accounts".into(), HOSTILE.into()],
            count: 3,
            last_seen: Some("2026-11-24 04:00:00".into()),
        }],
        resolved: vec![],
    };
    let mut input = HtmlInput::new(format!("report {HOSTILE}"), &report);
    input.deadlocks = &deadlocks;
    input.lock_waits = &waits;
    input.lock_waits_total = 5;
    input.root_blockers = &blockers;
    input.windows = Some(&windows);
    let html = render_html(&input);

    assert_self_contained(&html);
    assert!(!html.contains(HOSTILE), "unescaped markup from the input");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !html.contains("secret-literal"),
        "a literal reached the page"
    );
    assert!(html.contains("UPDATE accounts SET balance = ? WHERE owner = ?"));

    // The graph: both relations as cycle nodes, both directions as cycle edges.
    let svg = &html[html.find("<svg id=\"lock-graph\"").expect("graph svg")..];
    let svg = &svg[..svg.find("</svg>").expect("end of svg")];
    assert!(svg.contains("<g class=\"node cycle\" data-id=\"accounts\">"));
    assert!(svg.contains("data-id=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert_eq!(svg.matches("<g class=\"edge cycle\"").count(), 2, "{svg}");

    // Every section, with its facts.
    for id in [
        "summary",
        "graph",
        "findings",
        "deadlocks",
        "timeline",
        "blockers",
        "windows",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "no {id} section"
        );
    }
    assert!(html.contains("Suggested order: <span class=\"order mono\">"));
    assert!(html.contains("app/a.sql:3"), "evidence file:line per edge");
    assert!(html.contains("000000000000feed"));
    assert!(html.contains("3 occurrences; first seen 2026-11-24 03:16:49.590 UTC"));
    assert!(html.contains("(victim: got the deadlock error)"));
    assert!(html.contains("<svg id=\"timeline-strip\""));
    assert_eq!(html.matches("<g class=\"deadlock-mark\">").count(), 2);
    assert_eq!(html.matches("<circle ").count(), 2);
    assert!(html.contains("5 lock waits in all; the 2 longest are kept"));
    // Root blocker 200: two sessions behind it, one wait caused directly.
    assert!(html.contains("<tr><td>200</td><td>2</td><td>1</td><td>1500</td>"));
    assert!(html.contains("New (only in the later window): 1"));
    assert!(html.contains("Resolved (only in the earlier window): 0"));

    // Deterministic.
    assert_eq!(html, render_html(&input));
}

#[test]
fn a_report_without_runtime_evidence_has_no_runtime_sections() {
    let (findings, graph) = analyse();
    let sources = Sources::default();
    let report = Report {
        findings: &findings,
        graph: &graph,
        sources: &sources,
        transactions: 2,
        files: 2,
    };
    let html = render_html(&HtmlInput::new("lockgraph check", &report));
    assert_self_contained(&html);
    for id in ["deadlocks", "timeline", "blockers", "windows"] {
        assert!(!html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
}

#[test]
fn a_huge_graph_is_capped_and_says_so() {
    // 1,000 relations in a long chain with a few back edges, one 3-cycle at the far end.
    let n = 1000;
    let name = |i: usize| format!("t{i:04}");
    let mut nodes: Vec<GraphNode> = (0..n)
        .map(|i| GraphNode {
            id: name(i),
            kind: "relation",
            in_cycle: i >= 997,
        })
        .collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut edges: Vec<GraphEdge> = (0..n - 1)
        .map(|i| GraphEdge {
            from: name(i),
            to: name(i + 1),
            transactions: 1 + i % 5,
            in_cycle: i >= 997,
            ..GraphEdge::default()
        })
        .collect();
    edges.push(GraphEdge {
        from: name(999),
        to: name(997),
        transactions: 1,
        in_cycle: true,
        ..GraphEdge::default()
    });
    for i in (0..n).step_by(50) {
        edges.push(GraphEdge {
            from: name((i + 37) % n),
            to: name(i),
            transactions: 9,
            ..GraphEdge::default()
        });
    }
    edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    let graph = GraphView { nodes, edges };
    let sources = Sources::default();
    let report = Report {
        findings: &[],
        graph: &graph,
        sources: &sources,
        transactions: 0,
        files: 0,
    };
    let start = std::time::Instant::now();
    let html = render_html(&HtmlInput::new("big", &report));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    let svg = &html[html.find("<svg id=\"lock-graph\"").expect("graph svg")..];
    let svg = &svg[..svg.find("</svg>").expect("end")];
    assert_eq!(svg.matches("<g class=\"node").count(), HTML_MAX_NODES);
    assert!(html.contains(&format!("Showing {HTML_MAX_NODES} of 1000 relations")));
    // The cycle members are always drawn.
    for i in 997..1000 {
        assert!(svg.contains(&format!("<g class=\"node cycle\" data-id=\"{}\">", name(i))));
    }
    assert_eq!(svg.matches("<g class=\"edge cycle\"").count(), 3);
}
