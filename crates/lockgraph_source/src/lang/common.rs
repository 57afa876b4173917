//! Small pieces every lowering uses: node text and lines, the module's top-level function, and
//! a depth guard for recursive descent over deeply nested trees.

use crate::ir::{FuncIr, ModuleIr};
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
