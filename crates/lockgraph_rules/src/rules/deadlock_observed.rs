use crate::evidence::shown_statement;
use crate::{Analysis, Rule, RuleInfo, declare_rule};
use lockgraph_core::{Engine, Finding, Label, NodeKey, ObservedDeadlock, Suggestion};

declare_rule! {
    /// ## What it detects
    /// A deadlock the server reported (PostgreSQL's `ERROR: deadlock detected`, SQLSTATE 40P01;
    /// InnoDB's `LATEST DETECTED DEADLOCK` or its error log with `innodb_print_all_deadlocks`),
    /// explained:
    /// the cycle of waits, and for every process the statements of its transaction that took the
    /// locks closing the cycle — joined from the log's statement logging. Repeats of the same
    /// deadlock (same statements, relations and modes) are grouped with a count and time span.
    ///
    /// ## Why it matters
    /// The server prints only process ids, object ids and each process's *current* statement;
    /// the statements that took the other half of the cycle are scattered earlier in the log.
    /// One aborted transaction per occurrence reaches your users as an error or a retry.
    ///
    /// ## Example
    /// ```text
    /// ERROR:  deadlock detected
    /// DETAIL:  Process 5477 waits for ShareLock on transaction 729; blocked by process 5478.
    ///          Process 5478 waits for ShareLock on transaction 728; blocked by process 5477.
    /// ```
    ///
    /// ## How to fix
    /// Make every transaction in the cycle take its locks in one global order (lockgraph
    /// suggests one from all transactions seen in the log), or take the strongest lock first.
    /// On PostgreSQL, enable `log_statement` (or `log_min_duration_statement = 0`) and a
    /// `log_line_prefix` with `%p` or `%c` so that lockgraph can show the whole transactions.
    /// InnoDB prints only each transaction's current statement; `innodb_print_all_deadlocks = ON`
    /// keeps every deadlock, not just the latest.
    pub struct DeadlockObserved {
        code: "LG401",
        name: "deadlock-observed",
        severity: Error,
        engines: [Postgres, Mysql],
        summary: "The server reported a deadlock; here is the cycle and the statements behind it",
    }
}

impl Rule for DeadlockObserved {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check(&self, a: &Analysis<'_>, out: &mut Vec<Finding>) {
        for d in a.deadlocks {
            out.push(finding(a, d));
        }
    }
}

/// How one engine's reports name things.
struct Words {
    /// What the server calls a participant (`process 5477`, `thread 12`).
    who: &'static str,
    /// The plural.
    whos: &'static str,
    /// What to turn on to see whole transactions, when only current statements are known.
    more: &'static str,
}

fn words(engine: Engine) -> Words {
    match engine {
        Engine::Mysql => Words {
            who: "thread",
            whos: "threads",
            more: "InnoDB reports only each transaction's current statement: the statements \
                   that took the held locks ran earlier in the same transactions; set \
                   innodb_print_all_deadlocks = ON to keep every deadlock, not just the latest",
        },
        Engine::Postgres | Engine::Sqlite => Words {
            who: "process",
            whos: "processes",
            more: "only the current statements are known: enable log_statement = 'all' (or \
                   log_min_duration_statement = 0) with %p or %c in log_line_prefix to see \
                   whole transactions",
        },
    }
}

fn finding(a: &Analysis<'_>, d: &ObservedDeadlock) -> Finding {
    let show = a.options.show_literals;
    let w = words(d.engine);
    let who = w.who;
    let relations: Vec<String> = d.relations.iter().map(|r| r.to_string()).collect();
    let pids: Vec<String> = d.edges.iter().map(|e| e.waiter.to_string()).collect();
    let victim = d.participants.iter().find(|p| p.victim).map(|p| p.pid);
    let mut labels = vec![Label {
        location: d.location.clone(),
        message: match victim {
            Some(v) => format!("deadlock detected; {who} {v} was aborted"),
            None => "deadlock detected".to_string(),
        },
        primary: true,
        statement: None,
    }];
    for edge in &d.edges {
        let Some(p) = d.participants.iter().find(|p| p.pid == edge.waiter) else {
            continue;
        };
        let last = p.statements.len().saturating_sub(1);
        for (k, stmt) in p.statements.iter().enumerate() {
            let message = if k == last {
                let on = edge
                    .relation
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                format!(
                    "{who} {} waits here for {} on {}{on}, held by {who} {}",
                    p.pid, edge.mode, edge.target, edge.blocker
                )
            } else {
                format!(
                    "{who} {} ran this earlier in its transaction (step {})",
                    p.pid,
                    k + 1
                )
            };
            labels.push(Label {
                location: stmt.location.clone(),
                message,
                primary: false,
                statement: Some(shown_statement(stmt, show)),
            });
        }
        if let (true, Some(cur)) = (p.statements.is_empty(), &p.current) {
            labels.push(Label {
                location: cur.location.clone(),
                message: format!(
                    "{who} {} was running this, waiting for {} on {}, held by {who} {}",
                    p.pid, edge.mode, edge.target, edge.blocker
                ),
                primary: false,
                statement: Some(shown_statement(cur, show)),
            });
        }
    }
    let span = match (&d.first_seen, &d.last_seen) {
        (Some(f), Some(l)) if d.count > 1 => format!(" {} times between {f} and {l}", d.count),
        (Some(f), _) => format!(" at {f}"),
        _ if d.count > 1 => format!(" {} times", d.count),
        _ => String::new(),
    };
    let on = crate::evidence::on_relations(&relations);
    let mut notes = Vec::new();
    if d.participants.iter().all(|p| p.statements.len() <= 1) {
        notes.push(w.more.to_string());
    }
    let nodes: Vec<NodeKey> = d.relations.iter().cloned().map(NodeKey::Relation).collect();
    let suggestion = (!nodes.is_empty()).then(|| {
        let order = a.graph.suggest_order(&nodes);
        Suggestion {
            order: order.order.iter().map(|n| n.to_string()).collect(),
            edits: Vec::new(),
        }
    });
    Finding {
        code: DeadlockObserved::INFO.code,
        name: DeadlockObserved::INFO.name,
        severity: DeadlockObserved::INFO.severity,
        message: format!("deadlock between {} {}{on}{span}", w.whos, pids.join(", ")),
        relations,
        labels,
        fingerprint: d.signature,
        suggestion,
        repro: None,
        notes,
    }
}
