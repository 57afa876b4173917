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
    let Some(tree) = parser.parse(&file.text, None) else {
        return skipped(
            file,
            lang,
            format!("{}:1: the {name} parser gave up; file skipped", file.name),
        );
    };
    let root = tree.root_node();
    if root.has_error() {
        let (line, what) = first_error(root);
        return skipped(
            file,
            lang,
            format!(
                "{}:{line}: {name} syntax error ({what}); file skipped",
                file.name
            ),
        );
    }
    let module = lang.module_path(&file.name);
    let ir = lang.lower(&file.text, &file.name, &module, root);
    ParsedFile {
        name: file.name.as_str().into(),
        lang,
        module,
        suppressions: find_suppressions(&file.name, &file.text, lang, root),
        ir: Some(ir),
        warning: None,
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
