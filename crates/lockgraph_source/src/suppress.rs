//! Suppression comments: `# lockgraph: ignore[LG101, LG103] reason text` (`//` in the
//! languages whose line comments start so), found by [`Suppression::scan`] (shared by every
//! front-end); only real comments count, as the parse tree tells.

use crate::lang::Lang;
use lockgraph_core::Suppression;
use tree_sitter::Node;

/// Finds the suppression comments of one file (the marker inside a string does not count).
pub(crate) fn find_suppressions(
    path: &str,
    src: &str,
    lang: Lang,
    root: Node<'_>,
) -> Vec<Suppression> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(src.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    Suppression::scan(path, src, lang.comment_marker(), |line, col| {
        line_starts
            .get(line as usize - 1)
            .map(|start| start + col)
            .and_then(|at| root.descendant_for_byte_range(at, at + 1))
            // `comment`, `line_comment` (Java, Rust), `block_comment`… Rust's `line_comment`
            // has the `//` as a child token of its own: the comment is then its parent.
            .is_some_and(|n| {
                n.kind().ends_with("comment")
                    || n.parent().is_some_and(|p| p.kind().ends_with("comment"))
            })
    })
}
