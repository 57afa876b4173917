use crate::rules::root_blocker::{MIN_WAIT_S, blocker_finding, longest_wait};
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Engine, Finding, Suggestion};

declare_rule! {
    /// ## What it detects
    /// A live session that is *idle in transaction* — the application opened a transaction,
    /// ran statements, and is now doing something else without committing — while other
    /// sessions have waited at least a second for the locks it holds.
    ///
    /// ## Why it matters
    /// The locks are held for as long as the application keeps the transaction open: a slow
    /// HTTP call, a crashed worker holding its connection, a forgotten `BEGIN` in a console.
    /// The server cannot know; everything behind it waits.
    ///
    /// ## Example
    /// ```text
    /// pid 3107 (app via worker) idle in transaction for 4 min 2 s, blocks 9 sessions
    /// ```
    ///
    /// ## How to fix
    /// Find the code path that leaves the transaction open (the session's last statement is
    /// shown). Set `idle_in_transaction_session_timeout` for application roles so such
    /// sessions are ended by the server. In an emergency, `SELECT pg_terminate_backend(<pid>)`.
    pub struct IdleInTransactionBlocker {
        code: "LG404",
        name: "idle-in-transaction-blocker",
        severity: Error,
        engines: [Postgres, Mysql],
        summary: "A session idle in an open transaction blocks others with the locks it holds",
    }
}

impl Rule for IdleInTransactionBlocker {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        let Some(g) = &a.waits else { return };
        let s = g.snapshot;
        for tree in g.forest() {
            let idle = s.backend(tree.pid).is_some_and(|b| b.idle_in_transaction());
            if !idle || longest_wait(s, &tree) < MIN_WAIT_S {
                continue;
            }
            let mut f = blocker_finding(g, &tree, &Self::INFO, "is idle in transaction and blocks");
            let timeout = match s.engine {
                Engine::Mysql => {
                    "on MariaDB set idle_transaction_timeout for the application's user (MySQL \
                     has only wait_timeout, which closes idle connections); in an emergency \
                     KILL the connection"
                }
                Engine::Postgres | Engine::Sqlite => {
                    "set idle_in_transaction_session_timeout for the application's role"
                }
            };
            f.suggestion = Some(Suggestion {
                order: Vec::new(),
                edits: vec![format!(
                    "commit or roll back in the code path that ran the statement shown for pid \
                     {}; {timeout}",
                    tree.pid
                )],
            });
            out.push(f);
        }
    }
}
