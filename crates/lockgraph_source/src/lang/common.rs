//! Small pieces every lowering uses: node text and lines, the module's top-level function, a
//! depth guard for recursive descent over deeply nested trees, what a function knows about key
//! order ([`Ordered`]), and appending call, site and function records to the [`ModuleIr`].

use crate::ir::{CallIr, CallTarget, FuncIr, ModuleIr, SiteBody, SiteIr};
use crate::sqltext::{Arg, Args};
use rustc_hash::FxHashSet;
use tree_sitter::Node;

/// Syntax nesting deeper than this is not lowered (recursion would risk the stack).
pub(crate) const MAX_DEPTH: usize = 150;

/// The source text of a node (empty when the range is not valid UTF-8 boundaries).
pub(crate) fn text<'s>(src: &'s str, n: Node<'_>) -> &'s str {
    src.get(n.byte_range()).unwrap_or("")
}

/// 1-based line of a node's start.
pub(crate) fn line(n: Node<'_>) -> u32 {
    u32::try_from(n.start_position().row).unwrap_or(u32::MAX - 1) + 1
}

/// The last dotted part of a module name (`app.orders.service` → `service`), used in display
/// names (`service.transfer`).
pub(crate) fn short_module(module: &str) -> &str {
    module.rsplit('.').next().unwrap_or(module)
}

/// A new IR whose function 0 is the module's top-level code (no operations yet).
pub(crate) fn module_ir(module: &str) -> ModuleIr {
    let mut ir = ModuleIr::default();
    ir.funcs.push(FuncIr {
        name: "<module>".into(),
        class: None,
        parent: None,
        display: short_module(module).to_string(),
        line: 1,
        body: Vec::new(),
        autobegin: false,
        is_module: true,
    });
    ir
}

/// Path segments of a display path without its extension, `.` and empty parts dropped.
pub(crate) fn path_segments(name: &str) -> Vec<&str> {
    let stem = match name.rfind('.') {
        Some(dot) if !name[dot..].contains('/') => &name[..dot],
        _ => name,
    };
    stem.split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
        .collect()
}

/// What the current function knows about key order (every lowering but Java's, which keeps
/// it with its variables).
#[derive(Clone, Debug, Default)]
pub(crate) struct Ordered {
    /// Names holding one value of a sorted sequence: a loop variable over sorted keys, or a
    /// name of a sorted pair (`first, second = sorted([a, b])`).
    pub vals: FxHashSet<String>,
    /// Names holding a sorted sequence (`ids = sorted(…)`, `ids.sort()`).
    pub seqs: FxHashSet<String>,
    /// Loops over sorted keys the lowering is in.
    pub loops: usize,
}

impl Ordered {
    /// Whether the expression `e` is (an attribute, field or element of) an ordered value: its
    /// leading identifier — letters, digits, `_` and the language's `sigils` (`$` in
    /// JavaScript, `@` in Ruby) — names one.
    pub(crate) fn mentions(&self, e: &str, sigils: &[char]) -> bool {
        let head = e
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || sigils.contains(&c)))
            .next()
            .unwrap_or("");
        self.vals.contains(head)
    }

    /// Whether a site's row locks come in key order: it is inside a loop over sorted keys, or
    /// (see [`site_mentions`]) it is keyed on an ordered value.
    pub(crate) fn site(&self, body: &SiteBody, args: Option<&Args>, sigils: &[char]) -> bool {
        self.loops > 0 || site_mentions(body, args, |e| self.mentions(e, sigils))
    }
}

/// Whether an ORM site's filter values, or any argument expression a site passes (positional,
/// sequence items, named values), is one `mentions` calls ordered.
pub(crate) fn site_mentions(
    body: &SiteBody,
    args: Option<&Args>,
    mentions: impl Fn(&str) -> bool,
) -> bool {
    let filters = match body {
        SiteBody::Orm(o) => o
            .filters
            .iter()
            .filter_map(|f| f.value.as_deref())
            .any(&mentions),
        SiteBody::Raw(_) => false,
    };
    filters
        || args.is_some_and(|a| {
            a.positional
                .iter()
                .chain(&a.seq)
                .flatten()
                .chain(a.named.iter().flatten().map(|(_, a)| a))
                .any(|a| matches!(a, Arg::Expr(e) if mentions(e)))
        })
}

/// Appends a site to the IR; returns its index.
pub(crate) fn push_site(ir: &mut ModuleIr, site: SiteIr) -> u32 {
    let id = u32::try_from(ir.sites.len()).unwrap_or(u32::MAX);
    ir.sites.push(site);
    id
}

/// Appends a call of `target` from function `func` at `line` to the IR; returns its index.
pub(crate) fn push_call(ir: &mut ModuleIr, func: u32, target: CallTarget, line: u32) -> u32 {
    let id = u32::try_from(ir.calls.len()).unwrap_or(u32::MAX);
    ir.calls.push(CallIr { func, target, line });
    id
}

/// The display name of a new function `name`: under its enclosing function `parent` (a nested
/// function, unless it is a method, `in_class`), else under its class, else under the module
/// (`service.transfer`).
pub(crate) fn func_display(
    ir: &ModuleIr,
    module: &str,
    parent: Option<u32>,
    class: Option<u32>,
    in_class: bool,
    name: &str,
) -> String {
    match (parent, class) {
        (Some(p), _) if !in_class => format!(
            "{}.{name}",
            ir.funcs.get(p as usize).map_or("", |f| f.display.as_str())
        ),
        (_, Some(c)) => format!(
            "{}.{name}",
            ir.classes.get(c as usize).map_or("", |c| c.name.as_str())
        ),
        _ => format!("{}.{name}", short_module(module)),
    }
}
