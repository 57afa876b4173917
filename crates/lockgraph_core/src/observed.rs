//! Runtime evidence: deadlocks and lock waits the server reported (logs, live inspection).
//!
//! Front-ends that read what really happened (`lockgraph_logs`, later `lockgraph_pg` live mode)
//! produce these; the 4xx rules turn them into findings.

use crate::target::RelationName;
use crate::transaction::{Fingerprint, Location, LockAcquisition, Statement};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One edge of a reported deadlock: `Process {waiter} waits for {mode} on {target}; blocked by
/// process {blocker}.`
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeadlockEdge {
    /// The waiting backend's pid.
    pub waiter: u32,
    /// The mode as the server printed it (`ShareLock`, `AccessExclusiveLock`).
    pub mode: String,
    /// The lock target as the server printed it (`transaction 729`, `relation 16400 of database
    /// 16384`, `tuple (0,3) of relation 16400 of database 16384`, `advisory lock [16384,0,42,1]`).
    pub target: String,
    /// The relation the target belongs to, when it could be resolved (from the OID, CONTEXT, or
    /// the statements of the holder).
    pub relation: Option<RelationName>,
    /// The blocking backend's pid.
    pub blocker: u32,
}

/// One process of a reported deadlock, joined with its transaction's earlier statements.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeadlockParticipant {
    /// Backend pid.
    pub pid: u32,
    /// The statement it was running (`Process N: …` in the report), as the log shows it.
    pub current: Option<Arc<Statement>>,
    /// Its transaction's statements from the log, in order, ending with the current one when
    /// statement logging was on.
    pub statements: Vec<Arc<Statement>>,
    /// The locks those statements take, inferred, in order.
    pub locks: Vec<LockAcquisition>,
    /// Whether this process got the `deadlock detected` error (the victim).
    pub victim: bool,
}

/// A deadlock the server reported, grouped with every other occurrence of the same signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedDeadlock {
    /// Normalized statements + relations + modes of the cycle: equal for repeats of one deadlock.
    pub signature: Fingerprint,
    /// How many times it was reported.
    pub count: u64,
    /// Timestamp of the first occurrence as the log prints it, when the log has timestamps.
    pub first_seen: Option<String>,
    /// Timestamp of the last occurrence.
    pub last_seen: Option<String>,
    /// Where the first report is (`postgresql.log:1042`).
    pub location: Location,
    /// The cycle, in the order the server printed it (the last edge closes it).
    pub edges: Vec<DeadlockEdge>,
    /// The processes of the first occurrence.
    pub participants: Vec<DeadlockParticipant>,
    /// Relations involved, in cycle order, deduplicated.
    pub relations: Vec<RelationName>,
    /// The server that reported it (PostgreSQL logs, InnoDB's status or error log).
    #[serde(default)]
    pub engine: crate::Engine,
}

/// A lock wait the server reported (`log_lock_waits`): who waited for what, behind whom.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockWait {
    /// Where (`still waiting` line).
    pub location: Location,
    /// Timestamp as printed, when present.
    pub at: Option<String>,
    /// The waiting pid.
    pub waiter: u32,
    /// Mode as printed (`ShareLock`).
    pub mode: String,
    /// Target as printed.
    pub target: String,
    /// Relation, when resolved.
    pub relation: Option<RelationName>,
    /// Pids holding the lock (`Process holding the lock: …` / `Processes holding the lock: …`).
    pub holders: Vec<u32>,
    /// The wait queue as printed.
    pub queue: Vec<u32>,
    /// Longest wait seen for this episode, in milliseconds (`after … ms`).
    pub waited_ms: f64,
    /// How it ended: acquired, deadlock, timeout (55P03), or unknown (log ended).
    pub outcome: WaitOutcome,
    /// The statement the waiter was running, when known.
    pub statement: Option<Arc<Statement>>,
}

/// How a lock wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitOutcome {
    /// `acquired … after … ms`.
    Acquired,
    /// `detected deadlock while waiting`.
    Deadlock,
    /// `canceling statement due to lock timeout` or a NOWAIT failure (55P03).
    Timeout,
    /// `canceling statement due to statement timeout` (57014).
    StatementTimeout,
    /// The log ended first.
    Unknown,
}
