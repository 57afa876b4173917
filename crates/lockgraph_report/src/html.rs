use crate::Report;
use crate::layout::{Spacing, layout};
use lockgraph_core::{LockWait, ObservedDeadlock, Severity, WaitOutcome};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// At most this many nodes are drawn in the graph picture: cycle members first, then the most
/// connected. The sections below the picture and `--format dot` keep everything.
pub const HTML_MAX_NODES: usize = 120;

/// At most this many deadlock marks are listed under the timeline (the latest).
const MAX_MARKS_LISTED: usize = 200;

/// At most this many lock waits are listed or drawn on the timeline (the longest are kept).
const MAX_WAITS_DRAWN: usize = 2000;

/// Two time windows and the deadlock signatures that differ between them (filled from the
/// history store).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowComparison {
    /// The earlier window.
    pub earlier: TimeWindow,
    /// The later window.
    pub later: TimeWindow,
    /// Signatures seen in the later window and not in the earlier one.
    pub new: Vec<SignatureChange>,
    /// Signatures seen in the earlier window and not in the later one.
    pub resolved: Vec<SignatureChange>,
}

/// A time window, bounds as printed (`2026-11-24 00:00:00`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeWindow {
    /// Start, inclusive.
    pub from: String,
    /// End, exclusive.
    pub to: String,
}

/// One deadlock signature in a window comparison.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignatureChange {
    /// The signature, hex.
    pub signature: String,
    /// Relations of the cycle, in cycle order.
    pub relations: Vec<String>,
    /// Occurrences in the window where it was seen.
    pub count: u64,
    /// Last occurrence, as printed.
    pub last_seen: Option<String>,
}

/// Everything the HTML report shows: the [`Report`] (findings and lock-order graph) plus the
/// runtime evidence of logs or the history store. Build it with [`HtmlInput::new`] and set the
/// fields a source has.
pub struct HtmlInput<'a> {
    /// Page title and heading.
    pub title: String,
    /// Findings and the lock-order graph.
    pub report: &'a Report<'a>,
    /// Deadlock signatures the server reported.
    pub deadlocks: &'a [ObservedDeadlock],
    /// Every deadlock report as `(index in deadlocks, timestamp)` (the history store has them
    /// all): the timeline then draws one mark per report instead of each signature's first and
    /// last.
    pub deadlock_times: &'a [(usize, String)],
    /// Lock waits (possibly only the longest ones kept).
    pub lock_waits: &'a [LockWait],
    /// How many lock waits there were in all (at least `lock_waits.len()`).
    pub lock_waits_total: u64,
    /// Root blockers: `(pid, how many sessions waited behind it)`, worst first
    /// (`lockgraph_logs::root_blockers`).
    pub root_blockers: &'a [(u32, usize)],
    /// New and resolved signatures between two windows.
    pub windows: Option<&'a WindowComparison>,
}

impl<'a> HtmlInput<'a> {
    /// An input with the report only; no runtime evidence.
    pub fn new(title: impl Into<String>, report: &'a Report<'a>) -> Self {
        HtmlInput {
            title: title.into(),
            report,
            deadlocks: &[],
            deadlock_times: &[],
            lock_waits: &[],
            lock_waits_total: 0,
            root_blockers: &[],
            windows: None,
        }
    }
}

/// Escapes text for HTML and SVG content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1200px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
h3{font-size:15px;margin:16px 0 6px}
code,pre,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:6px 8px;border-radius:4px;white-space:pre-wrap;word-break:break-word;margin:4px 0}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}
.sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;color:#fff}
.sev-error{background:#cf222e}.sev-warning{background:#bf8700}.sev-info{background:#0969da}
.finding,.deadlock{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:10px 0}
.order{font-weight:600;color:#1a7f37}.note{color:#57606a}
.graph{overflow:auto;border:1px solid #d0d7de;border-radius:6px;max-height:900px}
svg text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.node rect{fill:#f6f8fa;stroke:#57606a;stroke-width:1}
.node.cycle rect{fill:#ffebe9;stroke:#cf222e;stroke-width:2.5}
.node.advisory rect{stroke-dasharray:4 2}
.edge path{fill:none;stroke:#8c959f;stroke-width:1.3}
.edge.cycle path{stroke:#cf222e;stroke-width:2.5}
.edge text{fill:#57606a;font-size:10.5px}.edge.cycle text{fill:#cf222e;font-weight:600}
.victim{color:#cf222e;font-weight:600}
.new{color:#cf222e}.resolved{color:#1a7f37}
"#;

/// Renders a self-contained HTML page: inline CSS and SVG, no script, no external reference
/// (a Content-Security-Policy forbids any), every input text escaped.
pub fn render_html(input: &HtmlInput<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(&input.title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>\n<main>");
    let _ = writeln!(out, "<h1>{}</h1>", esc(&input.title));
    summary(&mut out, input);
    graph_section(&mut out, input.report);
    findings_section(&mut out, input.report);
    if !input.deadlocks.is_empty() {
        deadlocks_section(&mut out, input.deadlocks);
    }
    if !input.deadlocks.is_empty() || !input.lock_waits.is_empty() {
        timeline_section(&mut out, input);
    }
    if !input.lock_waits.is_empty() {
        blockers_section(&mut out, input);
    }
    if let Some(w) = input.windows {
        windows_section(&mut out, w);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn summary(out: &mut String, input: &HtmlInput<'_>) {
    let r = input.report;
    let count = |s: Severity| r.findings.iter().filter(|f| f.severity == s).count();
    let cycle_edges = r.graph.edges.iter().filter(|e| e.in_cycle).count();
    let occurrences: u64 = input.deadlocks.iter().map(|d| d.count).sum();
    let mut cards: Vec<(String, String)> = vec![
        ("findings".into(), r.findings.len().to_string()),
        ("errors".into(), count(Severity::Error).to_string()),
        ("warnings".into(), count(Severity::Warning).to_string()),
        ("transactions".into(), r.transactions.to_string()),
        ("files".into(), r.files.to_string()),
        ("relations".into(), r.graph.nodes.len().to_string()),
        ("lock orders".into(), r.graph.edges.len().to_string()),
        ("on a cycle".into(), cycle_edges.to_string()),
    ];
    if !input.deadlocks.is_empty() {
        cards.push((
            "deadlock signatures".into(),
            input.deadlocks.len().to_string(),
        ));
        cards.push(("deadlocks".into(), occurrences.to_string()));
    }
    if input.lock_waits_total > 0 || !input.lock_waits.is_empty() {
        let total = input.lock_waits_total.max(input.lock_waits.len() as u64);
        cards.push(("lock waits".into(), total.to_string()));
    }
    out.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for (k, v) in cards {
        let _ = write!(
            out,
            "<div class=\"card\"><b>{}</b>{}</div>",
            esc(&v),
            esc(&k)
        );
    }
    out.push_str("</div></section>\n");
}

/// Nodes to draw: all when few, else cycle members, then by total edge weight, then by id.
fn drawn_nodes(report: &Report<'_>) -> Vec<usize> {
    let g = report.graph;
    if g.nodes.len() <= HTML_MAX_NODES {
        return (0..g.nodes.len()).collect();
    }
    let mut weight: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &g.edges {
        *weight.entry(&e.from).or_default() += e.transactions;
        *weight.entry(&e.to).or_default() += e.transactions;
    }
    let mut idx: Vec<usize> = (0..g.nodes.len()).collect();
    idx.sort_by(|&a, &b| {
        let (na, nb) = (&g.nodes[a], &g.nodes[b]);
        nb.in_cycle
            .cmp(&na.in_cycle)
            .then(weight.get(nb.id.as_str()).cmp(&weight.get(na.id.as_str())))
            .then(na.id.cmp(&nb.id))
    });
    idx.truncate(HTML_MAX_NODES);
    idx.sort_unstable();
    idx
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn graph_section(out: &mut String, report: &Report<'_>) {
    let g = report.graph;
    out.push_str("<section id=\"graph\"><h2>Lock-order graph</h2>");
    if g.nodes.is_empty() {
        out.push_str("<p class=\"note\">No lock orders: no transaction held one lock while taking another.</p></section>\n");
        return;
    }
    out.push_str("<p class=\"note\">An arrow <code>a → b</code>: some transaction held a lock on <code>a</code> while taking one on <code>b</code>, labelled with how many transactions do so. Red: on a reported cycle.</p>");
    let drawn = drawn_nodes(report);
    if drawn.len() < g.nodes.len() {
        let _ = write!(
            out,
            "<p class=\"note\">Showing {} of {} relations (cycle members first, then the most connected); <code>--format dot</code> has the whole graph.</p>",
            drawn.len(),
            g.nodes.len()
        );
    }
    let slot: BTreeMap<&str, usize> = drawn
        .iter()
        .enumerate()
        .map(|(i, &n)| (g.nodes[n].id.as_str(), i))
        .collect();
    let labels: Vec<String> = drawn
        .iter()
        .map(|&n| truncate(&g.nodes[n].id, 40))
        .collect();
    let widths: Vec<f64> = labels
        .iter()
        .map(|l| l.chars().count() as f64 * 7.3 + 20.0)
        .collect();
    let edges: Vec<(usize, &crate::GraphEdge)> = g
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| slot.contains_key(e.from.as_str()) && slot.contains_key(e.to.as_str()))
        .collect();
    let pairs: Vec<(usize, usize)> = edges
        .iter()
        .map(|(_, e)| (slot[e.from.as_str()], slot[e.to.as_str()]))
        .collect();
    let lay = layout(&widths, &pairs, Spacing::default());
    let _ = write!(
        out,
        "<div class=\"graph\"><svg id=\"lock-graph\" role=\"img\" aria-label=\"lock-order graph\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">",
        w = lay.width,
        h = lay.height
    );
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#8c959f\"/></marker>");
    out.push_str("<marker id=\"arrow-cycle\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" fill=\"#cf222e\"/></marker></defs>");
    // Edges first, so that boxes are drawn over them.
    for ((_, e), (route, &(a, _))) in edges.iter().zip(lay.edges.iter().zip(&pairs)) {
        let class = if e.in_cycle { "edge cycle" } else { "edge" };
        let marker = if e.in_cycle { "arrow-cycle" } else { "arrow" };
        let mut tip = format!(
            "{} → {}: {} transaction{}",
            e.from,
            e.to,
            e.transactions,
            if e.transactions == 1 { "" } else { "s" }
        );
        for m in &e.modes {
            let _ = write!(tip, "\n{m}");
        }
        for l in &e.locations {
            let _ = write!(tip, "\n{l}");
        }
        let (d, mid) = if route.is_empty() {
            // A self-loop: a small arc above the box.
            let p = lay.nodes[a];
            let (x, y) = (p.x + p.width / 2.0, p.y);
            (
                format!(
                    "M{:.1},{:.1}C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                    x - 8.0,
                    y,
                    x - 20.0,
                    y - 26.0,
                    x + 20.0,
                    y - 26.0,
                    x + 8.0,
                    y
                ),
                (x, y - 22.0),
            )
        } else {
            let mut d = format!("M{:.1},{:.1}", route[0].0, route[0].1);
            for w in route.windows(2) {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                let cx = (x0 + x1) / 2.0;
                let _ = write!(d, "C{cx:.1},{y0:.1} {cx:.1},{y1:.1} {x1:.1},{y1:.1}");
            }
            let k = route.len() / 2;
            let (p, q) = (route[k - 1], route[k]);
            (d, ((p.0 + q.0) / 2.0, (p.1 + q.1) / 2.0 - 4.0))
        };
        let _ = write!(
            out,
            "<g class=\"{class}\" data-from=\"{}\" data-to=\"{}\"><title>{}</title><path d=\"{d}\" marker-end=\"url(#{marker})\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
            esc(&e.from),
            esc(&e.to),
            esc(&tip),
            mid.0,
            mid.1,
            e.transactions
        );
    }
    for (i, &n) in drawn.iter().enumerate() {
        let node = &g.nodes[n];
        let p = lay.nodes[i];
        let mut class = String::from("node");
        if node.in_cycle {
            class.push_str(" cycle");
        }
        if node.kind == "advisory" {
            class.push_str(" advisory");
        }
        let _ = write!(
            out,
            "<g class=\"{class}\" data-id=\"{}\"><title>{}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"5\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"central\">{}</text></g>",
            esc(&node.id),
            esc(&node.id),
            p.x,
            p.y,
            p.width,
            p.height,
            p.x + p.width / 2.0,
            p.y + p.height / 2.0,
            esc(&labels[i])
        );
    }
    out.push_str("</svg></div></section>\n");
}

fn findings_section(out: &mut String, report: &Report<'_>) {
    let _ = write!(
        out,
        "<section id=\"findings\"><h2>Findings ({})</h2>",
        report.findings.len()
    );
    if report.findings.is_empty() {
        out.push_str("<p>No findings.</p>");
    }
    for f in report.findings {
        let _ = write!(
            out,
            "<div class=\"finding\"><span class=\"sev sev-{sev}\">{sev}</span> <b class=\"mono\">{}</b> <span class=\"mono\">{}</span><p>{}</p>",
            esc(f.code),
            esc(f.name),
            esc(&f.message).replace('\n', "<br>"),
            sev = f.severity.as_str()
        );
        if !f.relations.is_empty() {
            let _ = write!(
                out,
                "<p>Relations: <code>{}</code></p>",
                esc(&f.relations.join(" → "))
            );
        }
        if !f.labels.is_empty() {
            out.push_str(
                "<table><tr><th>where</th><th>what</th><th>statement (literals redacted)</th></tr>",
            );
            for l in &f.labels {
                let _ = write!(
                    out,
                    "<tr><td class=\"mono\">{}{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&l.location.to_string()),
                    if l.primary { " ◀" } else { "" },
                    esc(&l.message),
                    l.statement
                        .as_deref()
                        .map(|s| format!("<code>{}</code>", esc(s)))
                        .unwrap_or_default()
                );
            }
            out.push_str("</table>");
        }
        if let Some(s) = &f.suggestion {
            if !s.order.is_empty() {
                let _ = write!(
                    out,
                    "<p>Suggested order: <span class=\"order mono\">{}</span></p>",
                    esc(&s.order.join(" → "))
                );
            }
            if !s.edits.is_empty() {
                out.push_str("<ul>");
                for e in &s.edits {
                    let _ = write!(out, "<li>{}</li>", esc(e));
                }
                out.push_str("</ul>");
            }
        }
        for n in &f.notes {
            let _ = write!(out, "<p class=\"note\">note: {}</p>", esc(n));
        }
        if let Some(r) = &f.repro {
            let _ = write!(
                out,
                "<p class=\"note\">A {}-session reproduction ({} steps) is written by <code>lockgraph check --emit-repro DIR</code>.</p>",
                r.sessions,
                r.steps.len()
            );
        }
        let _ = write!(
            out,
            "<p class=\"note mono\">fingerprint {}</p></div>",
            f.fingerprint.to_hex()
        );
    }
    out.push_str("</section>\n");
}

fn deadlocks_section(out: &mut String, deadlocks: &[ObservedDeadlock]) {
    let _ = write!(
        out,
        "<section id=\"deadlocks\"><h2>Deadlock signatures ({})</h2>",
        deadlocks.len()
    );
    for d in deadlocks {
        let _ = write!(
            out,
            "<div class=\"deadlock\"><h3 class=\"mono\">{} — {}</h3><p>{} occurrence{}; first seen {}, last seen {}; first report at <code>{}</code></p>",
            d.signature.to_hex(),
            esc(&cycle_text(d)),
            d.count,
            if d.count == 1 { "" } else { "s" },
            esc(d.first_seen.as_deref().unwrap_or("?")),
            esc(d.last_seen.as_deref().unwrap_or("?")),
            esc(&d.location.to_string())
        );
        out.push_str(
            "<table><tr><th>process</th><th>waits for</th><th>on</th><th>blocked by</th></tr>",
        );
        for e in &d.edges {
            let on = match &e.relation {
                Some(r) => format!("{} ({})", e.target, r),
                None => e.target.clone(),
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                e.waiter,
                esc(&e.mode),
                esc(&on),
                e.blocker
            );
        }
        out.push_str("</table>");
        for p in &d.participants {
            let _ = write!(
                out,
                "<p>Process {}{}:</p>",
                p.pid,
                if p.victim {
                    " <span class=\"victim\">(victim: got the deadlock error)</span>"
                } else {
                    ""
                }
            );
            if p.statements.is_empty() {
                if let Some(c) = &p.current {
                    let _ = write!(out, "<pre>{}</pre>", esc(&c.redacted));
                } else {
                    out.push_str("<p class=\"note\">no statement logged</p>");
                }
            } else {
                out.push_str("<pre>");
                for s in &p.statements {
                    let _ = writeln!(out, "{}", esc(&s.redacted));
                }
                out.push_str("</pre>");
            }
        }
        out.push_str("</div>");
    }
    out.push_str("</section>\n");
}

/// The relations of a deadlock's cycle, else the lock targets the server printed.
fn cycle_text(d: &ObservedDeadlock) -> String {
    if d.relations.is_empty() {
        let targets: BTreeSet<&str> = d.edges.iter().map(|e| e.target.as_str()).collect();
        targets.into_iter().collect::<Vec<_>>().join(", ")
    } else {
        let rels: Vec<String> = d.relations.iter().map(ToString::to_string).collect();
        rels.join(" → ")
    }
}

/// Seconds since 1970-01-01 of a log timestamp `YYYY-MM-DD[ T]HH:MM:SS[.fff]` (a zone after it is
/// ignored: one log has one zone).
pub(crate) fn parse_timestamp(s: &str) -> Option<f64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut frac = 0.0;
    if b.get(19) == Some(&b'.') {
        let digits: String = s[20..].chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            frac = format!("0.{digits}").parse().unwrap_or(0.0);
        }
    }
    // Days from civil (proleptic Gregorian).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec) as f64 + frac)
}

fn timeline_section(out: &mut String, input: &HtmlInput<'_>) {
    out.push_str("<section id=\"timeline\"><h2>Timeline</h2>");
    // (time, label) of deadlocks: first and last occurrence of each signature.
    let mut marks: Vec<(f64, Option<f64>, String)> = Vec::new();
    for (i, at) in input.deadlock_times {
        if let (Some(d), Some(t)) = (input.deadlocks.get(*i), parse_timestamp(at)) {
            marks.push((
                t,
                None,
                format!(
                    "deadlock {} at {at}: {}",
                    d.signature.to_hex(),
                    cycle_text(d)
                ),
            ));
        }
    }
    for d in input
        .deadlocks
        .iter()
        .filter(|_| input.deadlock_times.is_empty())
    {
        let first = d.first_seen.as_deref().and_then(parse_timestamp);
        let last = d.last_seen.as_deref().and_then(parse_timestamp);
        if let Some(t) = first.or(last) {
            marks.push((
                t,
                last.filter(|&l| l > t),
                format!(
                    "deadlock {} ×{}: {}",
                    d.signature.to_hex(),
                    d.count,
                    cycle_text(d)
                ),
            ));
        }
    }
    let mut waits: Vec<(&LockWait, f64)> = input
        .lock_waits
        .iter()
        .filter_map(|w| Some((w, w.at.as_deref().and_then(parse_timestamp)?)))
        .collect();
    if waits.len() > MAX_WAITS_DRAWN {
        waits.sort_by(|a, b| b.0.waited_ms.total_cmp(&a.0.waited_ms));
        waits.truncate(MAX_WAITS_DRAWN);
    }
    let times: Vec<f64> = marks
        .iter()
        .flat_map(|m| [Some(m.0), m.1])
        .flatten()
        .chain(waits.iter().map(|w| w.1))
        .collect();
    if times.is_empty() {
        out.push_str(
            "<p class=\"note\">The input has no timestamps to place events on.</p></section>\n",
        );
        return;
    }
    let t0 = times.iter().copied().fold(f64::INFINITY, f64::min);
    let t1 = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (t1 - t0).max(1.0);
    let (w, left, right) = (1100.0, 110.0, 20.0);
    let x = |t: f64| left + (t - t0) / span * (w - left - right);
    let _ = write!(
        out,
        "<p class=\"note\">From {} to {} ({}). Deadlocks: {}; lock waits: one dot per wait, its size by how long it waited, red when it ended in a deadlock, orange in a timeout.</p>",
        esc(&first_text(input, t0)),
        esc(&first_text(input, t1)),
        human_span(t1 - t0),
        if input.deadlock_times.is_empty() {
            "first and last occurrence of each signature"
        } else {
            "one mark per report"
        }
    );
    let _ = write!(
        out,
        "<svg id=\"timeline-strip\" width=\"{w}\" height=\"120\" viewBox=\"0 0 {w} 120\"><line x1=\"{left}\" y1=\"96\" x2=\"{}\" y2=\"96\" stroke=\"#8c959f\"/><text x=\"4\" y=\"34\">deadlocks</text><text x=\"4\" y=\"74\">lock waits</text>",
        w - right
    );
    for (i, frac) in [0.0, 0.25, 0.5, 0.75, 1.0].iter().enumerate() {
        let t = t0 + frac * (t1 - t0);
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" y1=\"92\" x2=\"{0:.1}\" y2=\"100\" stroke=\"#8c959f\"/><text x=\"{0:.1}\" y=\"114\" text-anchor=\"{anchor}\" font-size=\"10\">+{1}</text>",
            x(t),
            human_span(t - t0)
        );
    }
    for (t, last, label) in &marks {
        if let Some(l) = last {
            let _ = write!(
                out,
                "<line x1=\"{:.1}\" y1=\"30\" x2=\"{:.1}\" y2=\"30\" stroke=\"#cf222e\" stroke-width=\"3\"/>",
                x(*t),
                x(*l)
            );
        }
        for p in [Some(*t), *last].into_iter().flatten() {
            let _ = write!(
                out,
                "<g class=\"deadlock-mark\"><title>{title}</title><path d=\"M{x0:.1},22L{x1:.1},30L{x0:.1},38L{x2:.1},30z\" fill=\"#cf222e\"/></g>",
                title = esc(label),
                x0 = x(p),
                x1 = x(p) + 8.0,
                x2 = x(p) - 8.0,
            );
        }
    }
    for (wt, t) in &waits {
        let r = (wt.waited_ms.max(1.0)).log10().clamp(0.0, 5.0) + 2.0;
        let fill = match wt.outcome {
            WaitOutcome::Deadlock => "#cf222e",
            WaitOutcome::Timeout | WaitOutcome::StatementTimeout => "#bf8700",
            _ => "#0969da",
        };
        let on = wt
            .relation
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| wt.target.clone());
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"70\" r=\"{r:.1}\" fill=\"{fill}\" fill-opacity=\"0.6\"><title>{}</title></circle>",
            x(*t),
            esc(&format!(
                "{}: process {} waited {:.0} ms for {} on {} ({:?})",
                wt.at.as_deref().unwrap_or(""),
                wt.waiter,
                wt.waited_ms,
                wt.mode,
                on,
                wt.outcome
            ))
        );
    }
    out.push_str("</svg>");
    if !marks.is_empty() {
        out.push_str("<ul>");
        if marks.len() > MAX_MARKS_LISTED {
            let _ = write!(
                out,
                "<li class=\"note\">{} reports; the last {MAX_MARKS_LISTED} are listed</li>",
                marks.len()
            );
        }
        if !input.deadlock_times.is_empty() {
            marks.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let skip = marks.len().saturating_sub(MAX_MARKS_LISTED);
        for (_, _, label) in &marks[skip..] {
            let _ = write!(out, "<li>{}</li>", esc(label));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>\n");
}

/// The input's timestamp text for the earliest/latest time `t` (as printed, so the zone stays).
fn first_text(input: &HtmlInput<'_>, t: f64) -> String {
    input
        .deadlocks
        .iter()
        .flat_map(|d| [d.first_seen.as_deref(), d.last_seen.as_deref()])
        .chain(input.lock_waits.iter().map(|w| w.at.as_deref()))
        .flatten()
        .find(|s| parse_timestamp(s) == Some(t))
        .unwrap_or("?")
        .to_string()
}

fn human_span(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 120.0 {
        format!("{secs:.1} s")
    } else if secs < 7200.0 {
        format!("{:.1} min", secs / 60.0)
    } else if secs < 172_800.0 {
        format!("{:.1} h", secs / 3600.0)
    } else {
        format!("{:.1} d", secs / 86_400.0)
    }
}

fn blockers_section(out: &mut String, input: &HtmlInput<'_>) {
    out.push_str("<section id=\"blockers\"><h2>Top blockers</h2>");
    let total = input.lock_waits_total.max(input.lock_waits.len() as u64);
    if total > input.lock_waits.len() as u64 {
        let _ = write!(
            out,
            "<p class=\"note\">{} lock waits in all; the {} longest are kept and counted here.</p>",
            total,
            input.lock_waits.len()
        );
    }
    if !input.root_blockers.is_empty() {
        out.push_str("<h3>Root blockers</h3><p class=\"note\">Sessions that held a lock others waited for while waiting for nothing themselves.</p><table><tr><th>process</th><th>sessions waiting behind it</th><th>waits it caused directly</th><th>total waited (ms)</th><th>on</th></tr>");
        for (pid, behind) in input.root_blockers.iter().take(10) {
            let direct: Vec<&LockWait> = input
                .lock_waits
                .iter()
                .filter(|w| w.holders.contains(pid))
                .collect();
            let ms: f64 = direct.iter().map(|w| w.waited_ms).sum();
            let on: BTreeSet<String> = direct
                .iter()
                .map(|w| {
                    w.relation
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| w.target.clone())
                })
                .collect();
            let _ = write!(
                out,
                "<tr><td>{pid}</td><td>{behind}</td><td>{}</td><td>{ms:.0}</td><td class=\"mono\">{}</td></tr>",
                direct.len(),
                esc(&on.into_iter().collect::<Vec<_>>().join(", "))
            );
        }
        out.push_str("</table>");
    }
    // Most-waited-on relations.
    let mut by_rel: BTreeMap<String, (usize, f64, f64, usize)> = BTreeMap::new();
    for w in input.lock_waits {
        let key = w
            .relation
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| w.target.clone());
        let e = by_rel.entry(key).or_default();
        e.0 += 1;
        e.1 += w.waited_ms;
        e.2 = e.2.max(w.waited_ms);
        e.3 += usize::from(w.outcome == WaitOutcome::Deadlock);
    }
    let mut rows: Vec<(String, (usize, f64, f64, usize))> = by_rel.into_iter().collect();
    rows.sort_by(|a, b| b.1.1.total_cmp(&a.1.1).then(a.0.cmp(&b.0)));
    out.push_str("<h3>Most waited-on</h3><table><tr><th>relation or lock</th><th>waits</th><th>total waited (ms)</th><th>longest (ms)</th><th>ended in a deadlock</th></tr>");
    for (rel, (n, total, max, dl)) in rows.into_iter().take(10) {
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{}</td><td>{n}</td><td>{total:.0}</td><td>{max:.0}</td><td>{dl}</td></tr>",
            esc(&rel)
        );
    }
    out.push_str("</table></section>\n");
}

fn windows_section(out: &mut String, w: &WindowComparison) {
    let _ = write!(
        out,
        "<section id=\"windows\"><h2>New and resolved deadlock signatures</h2><p>Earlier window {} – {}; later window {} – {}.</p>",
        esc(&w.earlier.from),
        esc(&w.earlier.to),
        esc(&w.later.from),
        esc(&w.later.to)
    );
    for (title, class, list) in [
        ("New (only in the later window)", "new", &w.new),
        (
            "Resolved (only in the earlier window)",
            "resolved",
            &w.resolved,
        ),
    ] {
        let _ = write!(out, "<h3 class=\"{class}\">{title}: {}</h3>", list.len());
        if list.is_empty() {
            continue;
        }
        out.push_str("<table><tr><th>signature</th><th>relations</th><th>occurrences</th><th>last seen</th></tr>");
        for s in list {
            let _ = write!(
                out,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.signature),
                esc(&s.relations.join(" → ")),
                s.count,
                esc(s.last_seen.as_deref().unwrap_or("?"))
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(
            parse_timestamp("2026-11-24 03:16:49.590 UTC"),
            Some(1_795_490_209.59)
        );
        assert_eq!(parse_timestamp("2000-03-01T00:00:00"), Some(951_868_800.0));
        assert_eq!(parse_timestamp("not a time at all!!"), None);
        assert_eq!(parse_timestamp("2026-13-24 03:16:49"), None);
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
