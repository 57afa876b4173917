//! lockgraph's renderers: one module per output format, each a pure function from a [`Report`]
//! to a `String`.
//!
//! A [`Report`] bundles what every format may need: the sorted [`Finding`]s, the lock-order graph
//! summary ([`GraphView`], built once from the graph and the transactions), the input
//! [`Sources`] (file texts for rustc-style snippets) and a few counts. Formats:
//! [`render_text`] (annotate-snippets, one group per finding with a label per edge across files),
//! [`render_json`] (the documented contract in `docs/json.md`, `schema_version` 1),
//! [`render_dot`] and [`render_mermaid`] (the graph with cycle edges highlighted), and the CI
//! formats documented in `docs/formats.md`: [`render_sarif`] (SARIF 2.1.0 for code scanning, with
//! `partialFingerprints` and a `codeFlows` thread flow per transaction of a cycle),
//! [`render_github`] (GitHub Actions workflow-command annotations), [`render_gitlab`] (GitLab
//! Code Quality) and [`render_junit`] (JUnit XML, a testsuite per rule). [`render_html`] takes an
//! [`HtmlInput`] (the report plus deadlock signatures, lock waits, root blockers and an optional
//! [`WindowComparison`]) and writes one self-contained page: the graph as an SVG laid out by a
//! layered layout (`layout.rs`), findings, signatures, a timeline and the top blockers
//! (`docs/report.md`).
//!
//! ```
//! use lockgraph_report::{render_json, Report, Sources, GraphView};
//! let report = Report { findings: &[], graph: &GraphView::default(), sources: &Sources::default(),
//!                       transactions: 0, files: 0 };
//! let json: serde_json::Value = serde_json::from_str(&render_json(&report)).unwrap();
//! assert_eq!(json["schema_version"], 1);
//! ```
#![warn(missing_docs)]

/// DOT (Graphviz) output.
mod dot;
/// GitHub Actions workflow commands (annotations).
mod github;
/// GitLab Code Quality JSON.
mod gitlab;
/// The graph summary all graph formats share.
mod graph;
/// The self-contained HTML report.
mod html;
/// JSON output.
mod json;
/// JUnit XML.
mod junit;
/// Layered layout of the graph picture (HTML).
mod layout;
/// Mermaid output.
mod mermaid;
/// SARIF 2.1.0.
mod sarif;
/// rustc-style text output.
mod text;
/// A live server's wait-for graph: tree text, DOT, Mermaid, JSON.
mod waits;

pub use dot::render_dot;
pub use github::render_github;
pub use gitlab::render_gitlab;
pub use graph::{GraphEdge, GraphNode, GraphView};
pub use html::{
    HTML_MAX_NODES, HtmlInput, SignatureChange, TimeWindow, WindowComparison, render_html,
};
pub use json::{JSON_SCHEMA_VERSION, render_json, write_json};
pub use junit::render_junit;
pub use mermaid::render_mermaid;
pub use sarif::{SARIF_FINGERPRINT_KEY, SARIF_SCHEMA_URI, render_sarif};
pub use text::{TextOptions, render_text};
pub use waits::{render_waits_dot, render_waits_mermaid, render_waits_text, waits_json};

use lockgraph_core::Finding;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Input file texts by source id, for snippets.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: BTreeMap<Arc<str>, Arc<str>>,
}

impl Sources {
    /// Remembers the text of `path`.
    pub fn insert(&mut self, path: impl Into<Arc<str>>, text: impl Into<Arc<str>>) {
        self.files.insert(path.into(), text.into());
    }

    /// The same files, each text passed through `f(path, text)` (e.g. to redact it).
    pub fn map(&self, f: impl Fn(&str, &str) -> String) -> Sources {
        Sources {
            files: self
                .files
                .iter()
                .map(|(p, t)| (p.clone(), Arc::from(f(p, t))))
                .collect(),
        }
    }

    /// The text of `path`, if it was read.
    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(|t| &**t)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was read.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Everything a renderer may need.
pub struct Report<'a> {
    /// Findings, already sorted.
    pub findings: &'a [Finding],
    /// The lock-order graph, summarized.
    pub graph: &'a GraphView,
    /// File texts for snippets.
    pub sources: &'a Sources,
    /// Number of transactions analysed.
    pub transactions: usize,
    /// Number of input files.
    pub files: usize,
}
