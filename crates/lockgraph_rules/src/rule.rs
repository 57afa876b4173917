//! The rule trait, rule metadata and the `declare_rule!` macro that ties a rule's doc comment to
//! its registry entry.

use crate::Analysis;
use lockgraph_core::{Finding, Severity};

/// Everything the registry knows about a rule; the user documentation is its doc comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable code, `LG101`. The hundreds digit is the family: 1xx cycles and orderings,
    /// 2xx single-statement hazards, 3xx transaction shape, 4xx runtime evidence, 5xx SQLite's
    /// database-level locks, 9xx tool/meta.
    pub code: &'static str,
    /// Stable kebab-case name, `lock-order-inversion`.
    pub name: &'static str,
    /// The rule's type name, `LockOrderInversion`.
    pub type_name: &'static str,
    /// The source file that declares it, `…/rules/lock_order_inversion.rs`.
    pub file: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One-line summary for tables.
    pub summary: &'static str,
    /// The engines whose transactions, reports or servers the rule reads.
    pub engines: &'static [lockgraph_core::Engine],
    /// Markdown documentation (What it detects / Why it matters / Example / How to fix).
    pub doc: &'static str,
}

impl RuleInfo {
    /// Link to the rule's documentation page.
    pub fn docs_url(&self) -> String {
        format!(
            "https://github.com/lockgraph/lockgraph/blob/main/docs/rules.md#{}",
            self.code.to_lowercase()
        )
    }
}

/// A check over the whole analysis (all transactions, the graph, the diagnostics).
pub trait Rule: Sync {
    /// The rule's registry entry.
    fn info(&self) -> &'static RuleInfo;
    /// Appends this rule's findings (severity = the rule's default; the caller applies overrides).
    fn check(&self, analysis: &Analysis<'_>, out: &mut Vec<Finding>);
}

/// Declares a rule type whose `///` doc comment becomes its documentation.
///
/// ```text
/// declare_rule! {
///     /// ## What it detects
///     /// …
///     pub struct LockOrderInversion {
///         code: "LG101", name: "lock-order-inversion", severity: Error,
///         engines: [Postgres, Mysql],
///         summary: "Transactions lock the same relations in opposite orders",
///     }
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $ty:ident {
            code: $code:literal,
            name: $name:literal,
            severity: $sev:ident,
            engines: [$($engine:ident),+ $(,)?],
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Default, Clone, Copy)]
        pub struct $ty;

        impl $ty {
            /// This rule's registry entry.
            pub const INFO: $crate::RuleInfo = $crate::RuleInfo {
                code: $code,
                name: $name,
                type_name: stringify!($ty),
                file: file!(),
                severity: lockgraph_core::Severity::$sev,
                summary: $summary,
                engines: &[$(lockgraph_core::Engine::$engine),+],
                doc: concat!($($doc, "\n"),*),
            };
        }
    };
}
