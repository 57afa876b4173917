//! Input problems a front-end met: reported as 9xx findings by the rules, never as crashes.

use crate::transaction::Location;
use serde::{Deserialize, Serialize};

/// What went wrong with a piece of input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The SQL parser rejected the statement (a tolerant fallback may still have found tables).
    UnparseableStatement,
    /// The statement parsed but lockgraph does not model its locks.
    UnmodelledStatement,
    /// The relation a statement touches is only known at run time (dynamic SQL).
    DynamicRelation,
    /// The file could not be read or decoded.
    UnreadableInput,
}

/// One input problem, with where it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Where.
    pub location: Location,
    /// What kind.
    pub kind: DiagnosticKind,
    /// A sentence naming the problem (the parser's message, the unmodelled command).
    pub message: String,
    /// The statement, redacted, when there is one.
    pub statement: Option<String>,
}
