//! Per-file step: parse with tree-sitter (the grammar of the file's [`Lang`]), reject files with
//! syntax errors, lower to the IR. Files are independent here, so this step can run on many
//! threads.

use crate::SourceFile;
use crate::ir::ModuleIr;
use crate::lang::Lang;
use crate::suppress::find_suppressions;
use lockgraph_core::Suppression;
use std::sync::Arc;
use tree_sitter::{Node, Parser};

/// One source file after the per-file step: its database operations, classes, imports and
/// models, ready to be linked with the other files by [`crate::extract_parsed`].
#[derive(Clone, Debug)]
pub struct ParsedFile {
    pub(crate) name: Arc<str>,
    pub(crate) lang: Lang,
    pub(crate) module: String,
    /// `None` when the file was skipped.
    pub(crate) ir: Option<ModuleIr>,
    pub(crate) suppressions: Vec<Suppression>,
    pub(crate) warning: Option<String>,
}

impl ParsedFile {
    /// The file's display path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether the file was skipped (syntax error); the reason is in the extraction warnings.
    pub fn is_skipped(&self) -> bool {
        self.ir.is_none()
    }
}

/// Dotted module path of a display path: `app/orders/service.py` → `app.orders.service`,
/// `pkg/__init__.py` → `pkg`.
pub(crate) fn module_path(name: &str) -> String {
    let stem = name.strip_suffix(".py").unwrap_or(name);
    let mut parts: Vec<&str> = stem
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.last() == Some(&"__init__") && parts.len() > 1 {
        parts.pop();
    }
    parts.join(".")
}

/// One parser per language, made when first needed.
#[derive(Default)]
struct Parsers(Vec<(Lang, Parser)>);

impl Parsers {
    fn get(&mut self, lang: Lang) -> Option<&mut Parser> {
        let i = match self.0.iter().position(|(l, _)| *l == lang) {
            Some(i) => i,
            None => {
                let mut parser = Parser::new();
                parser.set_language(&lang.grammar()).ok()?;
                self.0.push((lang, parser));
                self.0.len() - 1
            }
        };
        self.0.get_mut(i).map(|(_, p)| p)
    }
}

/// Parses and lowers one file.
pub fn parse_file(file: &SourceFile) -> ParsedFile {
    parse_with(&mut Parsers::default(), file)
}

/// Parses and lowers files (in parallel, parsers kept per worker thread); the result is in the
/// order of `files`.
pub fn parse_files(files: &[SourceFile]) -> Vec<ParsedFile> {
    use rayon::prelude::*;
    files
        .par_iter()
        .map_init(Parsers::default, parse_with)
        .collect()
}

fn skipped(file: &SourceFile, lang: Lang, warning: String) -> ParsedFile {
    ParsedFile {
        name: file.name.as_str().into(),
        lang,
        module: lang.module_path(&file.name),
        ir: None,
        suppressions: Vec::new(),
        warning: Some(warning),
    }
}

fn parse_with(parsers: &mut Parsers, file: &SourceFile) -> ParsedFile {
    let lang = Lang::of(std::path::Path::new(&file.name)).unwrap_or(Lang::Python);
    let name = lang.name();
    let Some(parser) = parsers.get(lang) else {
        return skipped(
            file,
            lang,
            format!(
                "{}:1: the {name} grammar could not be loaded; file skipped",
                file.name
            ),
        );
    };
    let Some(mut tree) = parser.parse(&file.text, None) else {
        return skipped(
            file,
            lang,
            format!("{}:1: the {name} parser gave up; file skipped", file.name),
        );
    };
    let mut text = std::borrow::Cow::Borrowed(file.text.as_str());
    let mut warning = None;
    if tree.root_node().has_error() {
        let (line, what) = first_error(tree.root_node());
        match repair(parser, &file.text, tree) {
            Some(Repaired {
                text: repaired,
                tree: fixed,
                blanked,
            }) => {
                warning = Some(format!(
                    "{}:{line}: {name} syntax error ({what}); {} skipped, the rest of the file analysed",
                    file.name,
                    line_ranges(&blanked)
                ));
                text = std::borrow::Cow::Owned(repaired);
                tree = fixed;
            }
            None => {
                return skipped(
                    file,
                    lang,
                    format!(
                        "{}:{line}: {name} syntax error ({what}); file skipped",
                        file.name
                    ),
                );
            }
        }
    }
    let root = tree.root_node();
    let module = lang.module_path(&file.name);
    let ir = lang.lower(&text, &file.name, &module, root);
    ParsedFile {
        name: file.name.as_str().into(),
        lang,
        module,
        suppressions: find_suppressions(&file.name, &text, lang, root),
        ir: Some(ir),
        warning,
    }
}

/// Rounds of blanking broken code before a file with syntax errors is given up.
const REPAIR_ROUNDS: usize = 3;

/// Node kinds of function and method definitions in the grammars read: the unit blanked first
/// when it holds a syntax error.
const DEFINITIONS: [&str; 8] = [
    "function_definition",
    "function_declaration",
    "method_declaration",
    "constructor_declaration",
    "method_definition",
    "function_item",
    "method",
    "singleton_method",
];

/// A file made analysable by [`repair`]: its text with broken code blanked, the text's tree,
/// and the blanked line ranges.
struct Repaired {
    text: String,
    tree: tree_sitter::Tree,
    blanked: Vec<(u32, u32)>,
}

/// Makes a file with syntax errors analysable: blanks (spaces, newlines kept, so every line and
/// offset stays) the function or method around each error — from the second round on, the
/// whole top-level item — and parses again, until no error is left. Returns the repaired file,
/// its tree and the blanked line ranges; `None` when errors remain.
fn repair(parser: &mut Parser, text: &str, mut tree: tree_sitter::Tree) -> Option<Repaired> {
    let mut bytes = text.as_bytes().to_vec();
    let mut blanked = Vec::new();
    for round in 0..REPAIR_ROUNDS {
        let root = tree.root_node();
        if !root.has_error() {
            let text = String::from_utf8(bytes).ok()?;
            return Some(Repaired {
                text,
                tree,
                blanked,
            });
        }
        let spans = broken_spans(root, round > 0);
        if spans.is_empty() {
            return None;
        }
        for (n, start, end) in spans {
            for b in &mut bytes[start..end] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
            blanked.push((
                line(n),
                u32::try_from(n.end_position().row).unwrap_or(u32::MAX - 1) + 1,
            ));
        }
        tree = parser.parse(&bytes, None)?;
    }
    if tree.root_node().has_error() {
        return None;
    }
    Some(Repaired {
        text: String::from_utf8(bytes).ok()?,
        tree,
        blanked,
    })
}

/// The nodes to blank: for each ERROR or MISSING node, its enclosing definition (or, with
/// `top_level` or when there is none, its top-level item).
fn broken_spans(root: Node<'_>, top_level: bool) -> Vec<(Node<'_>, usize, usize)> {
    let mut out: Vec<(Node<'_>, usize, usize)> = Vec::new();
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let mut unit = n;
            let mut definition = None;
            let mut cur = n;
            while let Some(p) = cur.parent() {
                if p.id() == root.id() {
                    unit = cur;
                    break;
                }
                if definition.is_none() && DEFINITIONS.contains(&p.kind()) {
                    definition = Some(p);
                }
                cur = p;
            }
            let unit = if top_level {
                unit
            } else {
                definition.unwrap_or(unit)
            };
            out.push((unit, unit.start_byte(), unit.end_byte()));
            continue;
        }
        let mut c = n.walk();
        for child in n.children(&mut c) {
            if child.has_error() || child.is_missing() {
                stack.push(child);
            }
        }
    }
    out.sort_by_key(|s| (s.1, std::cmp::Reverse(s.2)));
    // Drop spans inside an earlier one.
    let mut merged: Vec<(Node<'_>, usize, usize)> = Vec::new();
    for s in out {
        match merged.last() {
            Some(last) if s.1 < last.2 => {}
            _ => merged.push(s),
        }
    }
    merged
}

/// `line 12`, `lines 10–14`, `lines 3–4 and 20–31`.
fn line_ranges(ranges: &[(u32, u32)]) -> String {
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let parts: Vec<String> = sorted
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    let plural = sorted.len() > 1 || sorted.first().is_some_and(|&(a, b)| a != b);
    let lines = if plural { "lines" } else { "line" };
    match &parts[..] {
        [] => "nothing".into(),
        [one] => format!("{lines} {one}"),
        [init @ .., last] => format!("{lines} {} and {last}", init.join(", ")),
    }
}

/// Line and description of the first ERROR or MISSING node (iterative: trees can be deep).
fn first_error(root: Node<'_>) -> (u32, String) {
    let mut cursor = root.walk();
    loop {
        let n = cursor.node();
        if n.is_missing() {
            return (line(n), format!("missing `{}`", n.kind()));
        }
        if n.is_error() {
            return (line(n), "unexpected input".into());
        }
        // Descend into the first child that holds the error, else move on.
        let mut found = false;
        if cursor.goto_first_child() {
            loop {
                let c = cursor.node();
                if c.has_error() || c.is_missing() {
                    found = true;
                    break;
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        if !found {
            return (line(cursor.node()), "unexpected input".into());
        }
    }
}

fn line(n: Node<'_>) -> u32 {
    u32::try_from(n.start_position().row).unwrap_or(u32::MAX - 1) + 1
}
