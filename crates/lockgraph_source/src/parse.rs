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
    // One step budget for the file, shared by its parse and the repair's re-parses.
    let mut budget = (PARSE_STEPS_BASE + file.text.len().saturating_mul(OPS_PER_BYTE)) / 100;
    let Some(mut tree) = parse_bounded(parser, &file.text, &mut budget) else {
        return skipped(
            file,
            lang,
            format!(
                "{}:1: the {name} parser gave up (its error recovery on this text exceeded {OPS_PER_BYTE} steps per byte); file skipped",
                file.name
            ),
        );
    };
    let mut text = std::borrow::Cow::Borrowed(file.text.as_str());
    let mut warning = None;
    if tree.root_node().has_error() {
        let (line, what) = first_error(tree.root_node());
        match repair(parser, &file.text, tree, &mut budget) {
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

/// Parser steps allowed per byte of a file, plus [`PARSE_STEPS_BASE`], before its parsing (the
/// first parse and the re-parses of a repair together) is given up. tree-sitter's error recovery can take exponential time on text far from its grammar
/// (found by fuzzing: 134 s for 1.3 KB of mangled Kotlin); ordinary files, broken or not,
/// take 1–3 steps per byte (measured on the samples, the test data and the fuzz corpora).
/// Counted in steps, not seconds, so the outcome does not depend on the machine's load.
const OPS_PER_BYTE: usize = 20;
const PARSE_STEPS_BASE: usize = 20_000;

/// Bytes handed to the lexer at a time, so that how much it reads can be counted.
const CHUNK: usize = 256;
/// Bytes the lexer may read per byte of input, plus [`LEXED_BYTES_BASE`]: an external scanner
/// can rescan the rest of the file for every token on broken input (tree-sitter-kotlin-ng,
/// found by fuzzing: quadratic, 0.2 s for 1.7 KB), and the step budget is not checked inside
/// a scan. A normal parse reads each byte about once.
const LEXED_PER_BYTE: usize = 16;
const LEXED_BYTES_BASE: usize = 64 << 10;

/// Parses `text` within what is left of `budget` (progress callbacks, one per ~100 steps),
/// which it uses up, and within a bound on the bytes the lexer reads; `None` when either ran
/// out.
fn parse_bounded(parser: &mut Parser, text: &str, budget: &mut usize) -> Option<tree_sitter::Tree> {
    let lexed_limit = LEXED_BYTES_BASE + text.len().saturating_mul(LEXED_PER_BYTE);
    let lexed = std::cell::Cell::new(0usize);
    let out_of_text = std::cell::Cell::new(false);
    let mut give_up = |_: &tree_sitter::ParseState| {
        *budget = budget.saturating_sub(1);
        *budget == 0 || out_of_text.get()
    };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut give_up);
    let tree = parser.parse_with_options(
        &mut |at, _| {
            let bytes = text.as_bytes();
            let at = at.min(bytes.len());
            // Chunks end on a character boundary: tree-sitter's lexer, finding a character
            // cut at a chunk's end, asks for the rest, and crashes if it then gets nothing
            // (found by fuzzing: a null read in ts_decode_utf8).
            let mut end = bytes.len().min(at + CHUNK);
            while !text.is_char_boundary(end) {
                end += 1;
            }
            lexed.set(lexed.get() + (end - at));
            if lexed.get() > lexed_limit {
                // Seen as the end of the input: the parse winds up, and is discarded.
                out_of_text.set(true);
                return &bytes[bytes.len()..];
            }
            &bytes[at..end]
        },
        None,
        Some(options),
    );
    if tree.is_none() || out_of_text.get() {
        // A cancelled parse leaves state for resuming it; the next file starts afresh.
        parser.reset();
        return None;
    }
    tree
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
fn repair(
    parser: &mut Parser,
    text: &str,
    mut tree: tree_sitter::Tree,
    budget: &mut usize,
) -> Option<Repaired> {
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
        tree = parse_bounded(parser, std::str::from_utf8(&bytes).ok()?, budget)?;
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
