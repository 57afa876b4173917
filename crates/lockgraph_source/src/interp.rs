//! The interpreter: replays each root function's operations, inlining calls, and collects the
//! transactions every path through it runs.
//!
//! A *state* is one path so far: the open transaction (its statements and the locks
//! [`TransactionLocks`] says it holds), the ORM unit of work not yet flushed, and whether the
//! path has returned. Branches fork states; states that end up identical are merged; at most
//! `max_paths` are kept. Transactions are emitted when they end (scope exit, `COMMIT`,
//! `commit()`, end of the root) and deduplicated by name, place and lock sequence.

use crate::SourceOptions;
use crate::ir::Op;
use crate::link::Program;
use lockgraph_core::{Location, Statement, Transaction, TransactionKind};
use lockgraph_sql::{StatementKind, TransactionLocks};
use rustc_hash::{FxHashSet, FxHasher};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Operations one root may replay (over all its paths) before the rest is cut off.
const MAX_STEPS: usize = 200_000;

/// A statement executed, whether it repeats, and the calls that reached it.
type Exec = (Arc<Statement>, bool, Option<Arc<[Location]>>);

#[derive(Clone)]
struct OpenTx {
    serial: u64,
    name: String,
    location: Location,
    kind: TransactionKind,
    statements: Vec<Arc<Statement>>,
    /// Each executed statement, whether it runs repeatedly, and the calls that reached it.
    execs: Vec<Exec>,
    /// Calls on the stack when the transaction opened (the ones above are its own).
    depth: usize,
    held: TransactionLocks,
    /// Hash of the executions so far (for merging identical paths).
    sig: u64,
}

#[derive(Clone, Default)]
struct State {
    open: Option<OpenTx>,
    /// Pending ORM statements: (file, site, repeated).
    pending: Vec<(u32, u32, bool)>,
    returned: bool,
}

impl State {
    fn key(&self) -> u64 {
        let mut h = FxHasher::default();
        self.returned.hash(&mut h);
        self.pending.hash(&mut h);
        if let Some(o) = &self.open {
            (o.serial, o.sig, o.execs.len()).hash(&mut h);
        }
        h.finish()
    }
}

/// One emitted transaction before path numbering.
struct Emitted {
    base: String,
    tx: Transaction,
}

/// Interpreter over a linked program.
pub(crate) struct Interp<'p, 'a> {
    prog: &'p Program<'a>,
    opts: &'p SourceOptions,
    serial: u64,
    emitted: Vec<Emitted>,
    seen: FxHashSet<u64>,
    steps: usize,
    /// Roots whose replay was cut off.
    pub truncated: Vec<u32>,
}

/// Where the interpreter is: the call stack (global function ids; the last is the function whose
/// code runs).
struct Ctx {
    stack: Vec<u32>,
    /// Where each call on the stack was made.
    sites: Vec<Location>,
}

impl Ctx {
    /// The calls made since depth `from`, outermost first.
    fn via(&self, from: usize) -> Option<Arc<[Location]>> {
        let calls = self.sites.get(from..).unwrap_or(&[]);
        (!calls.is_empty()).then(|| calls.into())
    }
}

impl<'p, 'a> Interp<'p, 'a> {
    pub fn new(prog: &'p Program<'a>, opts: &'p SourceOptions) -> Self {
        Interp {
            prog,
            opts,
            serial: 0,
            emitted: Vec::new(),
            seen: FxHashSet::default(),
            steps: 0,
            truncated: Vec::new(),
        }
    }

    /// Replays one root function.
    pub fn run_root(&mut self, root: u32) {
        let Some(f) = self.prog.func(root) else {
            return;
        };
        self.steps = 0;
        let mut ctx = Ctx {
            stack: vec![root],
            sites: Vec::new(),
        };
        let states = self.run_ops(&f.body, vec![State::default()], &mut ctx, false);
        for s in states {
            if let Some(o) = s.open {
                self.emit(o);
            }
        }
        if self.steps > MAX_STEPS {
            self.truncated.push(root);
        }
    }

    /// The transactions, named (`path i/n` when one place has several lock sequences) and
    /// sorted by location.
    pub fn finish(self) -> Vec<Transaction> {
        let mut counts: rustc_hash::FxHashMap<(String, Location), (usize, usize)> =
            Default::default();
        for e in &self.emitted {
            counts
                .entry((e.base.clone(), e.tx.location.clone()))
                .or_default()
                .1 += 1;
        }
        let mut out: Vec<Transaction> = Vec::with_capacity(self.emitted.len());
        for mut e in self.emitted {
            let c = counts
                .get_mut(&(e.base.clone(), e.tx.location.clone()))
                .map(|c| {
                    c.0 += 1;
                    *c
                })
                .unwrap_or((1, 1));
            e.tx.name = if c.1 > 1 {
                format!("{} path {}/{}", e.base, c.0, c.1).into()
            } else {
                e.base.into()
            };
            out.push(e.tx);
        }
        out.sort_by(|a, b| a.location.cmp(&b.location).then(a.name.cmp(&b.name)));
        out
    }

    fn file_of(&self, gid: u32) -> u32 {
        self.prog.funcs.get(gid as usize).map_or(0, |(f, _)| *f)
    }

    fn display(&self, gid: u32) -> String {
        self.prog
            .func(gid)
            .map_or_else(|| "<unknown>".to_string(), |f| f.display.clone())
    }

    fn location(&self, gid: u32, line: u32) -> Location {
        let file = self.file_of(gid);
        let path = self
            .prog
            .files
            .get(file as usize)
            .map_or_else(|| Arc::from(""), |f| f.name.clone());
        Location::new(path, line)
    }

    fn open_tx(&mut self, gid: u32, location: Location, depth: usize) -> OpenTx {
        self.serial += 1;
        OpenTx {
            serial: self.serial,
            name: format!("{} ({location})", self.display(gid)),
            location,
            kind: TransactionKind::Explicit,
            statements: Vec::new(),
            execs: Vec::new(),
            depth,
            held: TransactionLocks::default(),
            sig: 0,
        }
    }

    fn emit(&mut self, o: OpenTx) {
        if o.statements.is_empty() {
            return;
        }
        let mut locks = o.held.into_locks();
        // Mark the locks of statements that ran in a loop (executions matched in order).
        let mut e = 0;
        for l in &mut locks {
            while e < o.execs.len() && !Arc::ptr_eq(&o.execs[e].0, &l.statement) {
                e += 1;
            }
            match o.execs.get(e) {
                Some((_, rep, via)) => {
                    l.repeated = *rep;
                    l.via = via.clone();
                }
                None => break,
            }
        }
        // Paths with the same lock sequence (targets, modes, repetition) are one transaction,
        // whichever lines took the locks.
        let mut h = FxHasher::default();
        (&o.name, &o.location, o.kind).hash(&mut h);
        for l in &locks {
            (&l.target, l.mode, l.repeated, l.implicit.is_some()).hash(&mut h);
        }
        if !self.seen.insert(h.finish()) {
            return;
        }
        self.emitted.push(Emitted {
            base: o.name,
            tx: Transaction {
                name: "".into(),
                location: o.location,
                kind: o.kind,
                group: None,
                statements: o.statements,
                locks,
                engine: lockgraph_core::Engine::Postgres,
            },
        });
    }

    fn merge(&self, states: &mut Vec<State>) {
        let mut seen = FxHashSet::default();
        states.retain(|s| seen.insert(s.key()));
        states.truncate(self.opts.max_paths.max(1));
    }

    fn run_ops(
        &mut self,
        ops: &[Op],
        mut states: Vec<State>,
        ctx: &mut Ctx,
        in_loop: bool,
    ) -> Vec<State> {
        let cur = *ctx.stack.last().unwrap_or(&0);
        let file = self.file_of(cur);
        for op in ops {
            self.steps += states.len();
            if self.steps > MAX_STEPS || states.iter().all(|s| s.returned) {
                break;
            }
            match op {
                Op::Sql(site) => {
                    for s in states.iter_mut().filter(|s| !s.returned) {
                        self.exec_site(s, file, *site, ctx, in_loop);
                    }
                }
                Op::Pending(site) => {
                    for s in states.iter_mut().filter(|s| !s.returned) {
                        s.pending.push((file, *site, in_loop));
                    }
                }
                Op::Flush => {
                    for s in states.iter_mut().filter(|s| !s.returned) {
                        self.flush(s, ctx);
                    }
                }
                Op::Begin(line) => {
                    for s in states.iter_mut().filter(|s| !s.returned) {
                        if s.open.is_none() {
                            let loc = self.location(cur, *line);
                            s.open = Some(self.open_tx(cur, loc, ctx.sites.len()));
                        }
                    }
                }
                Op::Commit | Op::Rollback => {
                    for s in states.iter_mut().filter(|s| !s.returned) {
                        if matches!(op, Op::Commit) {
                            self.flush(s, ctx);
                        } else {
                            s.pending.clear();
                        }
                        if let Some(o) = s.open.take() {
                            self.emit(o);
                        }
                    }
                }
                Op::Call(call) => {
                    states = self.call(states, file, *call, ctx, in_loop);
                }
                Op::CallOrSql { call, site } => {
                    if self.prog.call_target(file, *call).is_some() {
                        states = self.call(states, file, *call, ctx, in_loop);
                    } else {
                        for s in states.iter_mut().filter(|s| !s.returned) {
                            self.exec_site(s, file, *site, ctx, in_loop);
                        }
                    }
                }
                Op::Scope { line, body } => {
                    let (active, done): (Vec<State>, Vec<State>) =
                        states.into_iter().partition(|s| !s.returned);
                    let (inside, mut outside): (Vec<State>, Vec<State>) =
                        active.into_iter().partition(|s| s.open.is_some());
                    // Nested in an open transaction: a savepoint, the body runs inline.
                    let mut next = if inside.is_empty() {
                        Vec::new()
                    } else {
                        self.run_ops(body, inside, ctx, in_loop)
                    };
                    if !outside.is_empty() {
                        let loc = self.location(cur, *line);
                        let tx = self.open_tx(cur, loc, ctx.sites.len());
                        let serial = tx.serial;
                        for s in &mut outside {
                            s.open = Some(tx.clone());
                        }
                        // A transaction that begins inside a loop body is a new transaction
                        // per iteration: within it, a statement runs once (unless a loop of its
                        // own repeats it).
                        let mut after = self.run_ops(body, outside, ctx, false);
                        for s in &mut after {
                            if s.open.as_ref().is_some_and(|o| o.serial == serial) {
                                self.flush(s, ctx);
                                if let Some(o) = s.open.take() {
                                    self.emit(o);
                                }
                            }
                        }
                        next.extend(after);
                    }
                    next.extend(done);
                    states = next;
                    self.merge(&mut states);
                }
                Op::Branch(arms) => {
                    let (active, done): (Vec<State>, Vec<State>) =
                        states.into_iter().partition(|s| !s.returned);
                    let mut next = Vec::new();
                    for arm in arms {
                        next.extend(self.run_ops(arm, active.clone(), ctx, in_loop));
                        if self.steps > MAX_STEPS {
                            break;
                        }
                    }
                    next.extend(done);
                    states = next;
                    self.merge(&mut states);
                }
                Op::Loop(body) => {
                    let (active, done): (Vec<State>, Vec<State>) =
                        states.into_iter().partition(|s| !s.returned);
                    let mut next = self.run_ops(body, active, ctx, true);
                    next.extend(done);
                    states = next;
                    self.merge(&mut states);
                }
                Op::Return => {
                    for s in &mut states {
                        s.returned = true;
                    }
                }
            }
        }
        states
    }

    fn call(
        &mut self,
        states: Vec<State>,
        file: u32,
        call: u32,
        ctx: &mut Ctx,
        in_loop: bool,
    ) -> Vec<State> {
        let Some(target) = self.prog.call_target(file, call) else {
            return states;
        };
        if ctx.stack.len() > self.opts.max_call_depth || ctx.stack.contains(&target) {
            return states;
        }
        let Some(f) = self.prog.func(target) else {
            return states;
        };
        let (active, done): (Vec<State>, Vec<State>) =
            states.into_iter().partition(|s| !s.returned);
        ctx.stack.push(target);
        ctx.sites.push(
            self.prog
                .call_location(file, call)
                .unwrap_or_else(|| Location::new("", 0)),
        );
        let mut next = self.run_ops(&f.body, active, ctx, in_loop);
        ctx.sites.pop();
        ctx.stack.pop();
        for s in &mut next {
            s.returned = false;
        }
        next.extend(done);
        self.merge(&mut next);
        next
    }

    fn flush(&mut self, s: &mut State, ctx: &Ctx) {
        for (file, site, rep) in std::mem::take(&mut s.pending) {
            self.exec_site_inner(s, file, site, ctx, rep);
        }
    }

    fn exec_site(&mut self, s: &mut State, file: u32, site: u32, ctx: &Ctx, in_loop: bool) {
        if !s.pending.is_empty() {
            self.flush(s, ctx);
        }
        self.exec_site_inner(s, file, site, ctx, in_loop);
    }

    fn exec_site_inner(&mut self, s: &mut State, file: u32, site: u32, ctx: &Ctx, in_loop: bool) {
        let Some(site) = self.prog.site(file, site) else {
            return;
        };
        let repeated = in_loop || site.many;
        let stmt = site.stmt.clone();
        match &site.inference.kind {
            StatementKind::Begin => {
                if s.open.is_none() {
                    s.open = Some(self.open_tx(site.func, stmt.location.clone(), ctx.sites.len()));
                }
                if let Some(o) = &mut s.open {
                    o.statements.push(stmt);
                }
                return;
            }
            StatementKind::Commit | StatementKind::Rollback => {
                if let Some(mut o) = s.open.take() {
                    o.statements.push(stmt);
                    self.emit(o);
                }
                return;
            }
            _ => {}
        }
        if s.open.is_none() {
            // Outside any scope: an implicit transaction when a function on the stack commits
            // itself (psycopg2 / SQLAlchemy session autobegin), else autocommit.
            let owner = ctx
                .stack
                .iter()
                .enumerate()
                .rev()
                .find(|(_, g)| self.prog.func(**g).is_some_and(|f| f.autobegin));
            match owner {
                Some((depth, owner)) => {
                    // `sites[depth..]` are the calls the owner's code made.
                    s.open = Some(self.open_tx(*owner, stmt.location.clone(), depth));
                }
                None => {
                    let mut o = self.open_tx(site.func, stmt.location.clone(), ctx.sites.len());
                    o.kind = TransactionKind::Autocommit;
                    o.held.apply(&stmt, site.inference.clone());
                    if !o.held.is_empty() {
                        o.statements.push(stmt.clone());
                        o.execs.push((stmt, repeated, None));
                        self.emit(o);
                    }
                    return;
                }
            }
        }
        if let Some(o) = &mut s.open {
            o.held.apply(&stmt, site.inference.clone());
            let mut h = FxHasher::default();
            (o.sig, Arc::as_ptr(&stmt) as usize, repeated).hash(&mut h);
            o.sig = h.finish();
            o.statements.push(stmt.clone());
            let via = ctx.via(o.depth);
            o.execs.push((stmt, repeated, via));
        }
    }
}
