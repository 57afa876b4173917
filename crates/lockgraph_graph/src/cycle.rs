//! Deadlock cycles: closed walks of the lock-order graph whose witnesses really wait on each other.
//!
//! A graph cycle `X0 → X1 → … → X0` is a deadlock candidate only if instances `T0 … Tk-1` exist,
//! `Ti` holding `Xi` in mode `hi` and acquiring `Xi+1` in mode `ai`, such that every `ai`
//! conflicts with `hi+1` (so `Ti` waits for `Ti+1`) and the instances may all run at the same time.
//!
//! # How the search stays polynomial
//!
//! Witnesses of an edge are folded into *classes* — distinct (held mode, acquired mode, group).
//! A *port* is a departure state `(node, held mode, group)`: "an instance holding this node in this
//! mode". An edge class `X → Y (h, a, g)` is an *item* of port `(X, h, g)`; it leads to every port
//! `(Y, h', g')` with `a` conflicting with `h'` and `g, g'` concurrent. Valid cycles are exactly the
//! cycles of this port graph (plus the all-pairs group rule below), whose size is
//! `O(edge classes × ports per node)`.
//!
//! For each non-trivial SCC of the node graph:
//! 1. 2-cycles are enumerated directly (edge and reverse edge, class pairs): `O(E · C²)`.
//! 2. If fewer than `max_per_component` were found, the port graph of the SCC is built and its SCCs
//!    computed; ports outside a non-trivial port SCC are on no valid cycle and are dropped. Then
//!    for each start node `s` in key order, a BFS from each of its ports over states
//!    `(port, groups used)` restricted to nodes `≥ s` finds the shortest valid closed walks whose
//!    smallest node is `s` (so each is found from its canonical start). Once `max_per_component`
//!    candidates are held, BFS depth is capped below the longest of them.
//!
//! Each BFS is `O(states + items)`; the whole search is additionally capped by
//! [`CycleOptions::work_budget`] (counted in items scanned), and [`CycleSearch::exhausted`] says
//! when the cap cut it short.
//!
//! # Groups
//!
//! Instances must be pairwise concurrent: at most one instance per group. For up to
//! [`EXACT_GROUPS`] groups inside one SCC this is exact (the set of groups used is part of the BFS
//! state). Beyond that, further groups are only checked between neighbouring instances during the
//! search and the final all-pairs check drops the rare invalid walk, so a valid cycle may be missed
//! (never a false one reported).
//!
//! # Walks that repeat a node
//!
//! A shortest valid closed walk may pass a node twice (`A → B → A → C → A` with four instances
//! where neither half is valid alone). It is still a real deadlock, so it is reported as is.

use crate::code::{ConflictMatrix, mode_code};
use crate::graph::{EdgeWitness, LockGraph, NO_GROUP};
use lockgraph_core::{Fingerprint, LockMode, NodeKey, Transaction};
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

/// Groups tracked exactly per SCC (see the module docs).
pub const EXACT_GROUPS: usize = 16;

/// Bounds of the cycle search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleOptions {
    /// Cycles kept per strongly connected component (the shortest, then by canonical key).
    pub max_per_component: usize,
    /// Cycles kept in all.
    pub max_total: usize,
    /// Longest cycle searched for, in edges.
    pub max_len: usize,
    /// Work cap: edge classes scanned, in all. Keeps the worst case bounded on huge graphs.
    pub work_budget: u64,
}

impl Default for CycleOptions {
    fn default() -> Self {
        CycleOptions {
            max_per_component: 8,
            max_total: 256,
            max_len: 16,
            work_budget: 20_000_000,
        }
    }
}

/// One edge of a cycle: the witness transaction holds `from` in `held` and acquires `to` in
/// `acquired`, and waits for the next edge's witness.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CycleEdge {
    /// The node held.
    pub from: NodeKey,
    /// The node acquired.
    pub to: NodeKey,
    /// Which transaction and which two of its locks.
    pub witness: EdgeWitness,
    /// Mode of the held lock.
    pub held: LockMode,
    /// Mode of the acquired lock (it conflicts with the next edge's `held`).
    pub acquired: LockMode,
}

/// A deadlock candidate: edges in cycle order, starting at the smallest node (then the smallest
/// rotation by node and modes, should the smallest node appear twice).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cycle {
    /// The edges, `edges[i].to == edges[i + 1].from`, and the last leads back to the first.
    pub edges: Vec<CycleEdge>,
}

impl Cycle {
    /// Number of edges (and of transaction instances).
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Whether it has no edge (never true for a cycle returned by the search).
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// The nodes in cycle order.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeKey> + '_ {
        self.edges.iter().map(|e| &e.from)
    }

    /// A stable identity from the nodes and modes (not from witnesses or line numbers).
    pub fn fingerprint(&self) -> Fingerprint {
        let parts: Vec<String> = self
            .edges
            .iter()
            .map(|e| format!("{}\u{1f}{}\u{1f}{}", e.from, e.held, e.acquired))
            .collect();
        Fingerprint::of(parts.iter().map(|p| p.as_bytes()))
    }

    /// Checks everything the cycle claims against `txns`: the witnesses exist and lock the named
    /// nodes in the named modes (held before acquired), each acquired mode conflicts with the next
    /// held mode, and the witnesses may all run concurrently
    /// ([`Transaction::may_run_concurrently_with`], pairwise).
    pub fn is_valid(&self, txns: &[Transaction]) -> bool {
        let k = self.edges.len();
        if k < 2 {
            return false;
        }
        for (i, e) in self.edges.iter().enumerate() {
            let next = &self.edges[(i + 1) % k];
            if e.to != next.from || e.from == e.to || !e.acquired.conflicts_with(next.held) {
                return false;
            }
            let (Some(h), Some(a)) = (e.witness.held_lock(txns), e.witness.acquired_lock(txns))
            else {
                return false;
            };
            if e.witness.held >= e.witness.acquired
                || h.target.node() != e.from
                || a.target.node() != e.to
                || h.mode != e.held
                || a.mode != e.acquired
            {
                return false;
            }
        }
        for i in 0..k {
            for j in i + 1..k {
                let (a, b) = (self.edges[i].witness.txn, self.edges[j].witness.txn);
                if !txns[a as usize].may_run_concurrently_with(&txns[b as usize]) {
                    return false;
                }
            }
        }
        true
    }
}

/// The result of a search, with whether the work cap stopped it early.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleSearch {
    /// Cycles, shortest first, then by canonical (node, modes) sequence.
    pub cycles: Vec<Cycle>,
    /// Whether [`CycleOptions::work_budget`] ran out (results are valid but maybe not all the
    /// shortest).
    pub exhausted: bool,
    /// Work done, in edge classes scanned.
    pub work: u64,
}

impl LockGraph {
    /// Deadlock candidates, shortest first; `txns` must be the slice the graph was built from.
    pub fn cycles(&self, txns: &[Transaction], opts: &CycleOptions) -> Vec<Cycle> {
        self.search_cycles(txns, opts).cycles
    }

    /// Like [`LockGraph::cycles`], also telling whether the work cap was reached.
    pub fn search_cycles(&self, txns: &[Transaction], opts: &CycleOptions) -> CycleSearch {
        let opts = *opts;
        let mut search = Search::new(self, opts);
        let mut found: Vec<(Key, Cycle)> = Vec::new();
        for (i, scc) in self.sccs.iter().enumerate() {
            if found.len() >= opts.max_total || search.exhausted {
                break;
            }
            for c in search.scc(i as u32, scc) {
                let cycle = search.to_cycle(&c);
                if found.len() < opts.max_total && cycle.is_valid(txns) {
                    found.push((c.key, cycle));
                }
            }
        }
        found.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
        CycleSearch {
            cycles: found.into_iter().map(|(_, c)| c).collect(),
            exhausted: search.exhausted,
            work: search.work,
        }
    }
}

/// Canonical identity of a cycle: (node, held mode, acquired mode) per edge, minimal rotation.
type Key = Vec<(u32, u8, u8)>;

/// A cycle found, before it is turned into [`Cycle`]: `steps` are (edge, witness index) pairs.
struct Candidate {
    key: Key,
    steps: Vec<(u32, u32)>,
}

/// Witnesses of one edge with equal (held mode, acquired mode, group): one stands for all.
#[derive(Clone, Copy, Debug)]
struct Class {
    held: u8,
    acquired: u8,
    group: u32,
    witness: u32,
}

/// A departure state: an instance of `group` holding `node` in mode `held`.
#[derive(Clone, Copy, Debug)]
struct Port {
    held: u8,
    group: u32,
    items: (u32, u32),
    /// Port-graph SCC, or `u32::MAX` when on no port cycle.
    comp: u32,
    /// The group's bit in BFS masks, 0 for no group or a group not tracked exactly.
    bit: u32,
}

/// An edge class leaving a port: acquire `to` in mode `acquired`.
#[derive(Clone, Copy, Debug)]
struct Item {
    to: u32,
    acquired: u8,
    edge: u32,
    witness: u32,
}

/// A BFS state: at `port` with `mask` groups used, reached from `parent` through `item`.
#[derive(Clone, Copy, Debug)]
struct State {
    port: u32,
    mask: u32,
    parent: u32,
    item: u32,
}

const NONE: u32 = u32::MAX;

#[inline]
fn concurrent(a: u32, b: u32) -> bool {
    a == NO_GROUP || a != b
}

struct Search<'g> {
    g: &'g LockGraph,
    cm: ConflictMatrix,
    opts: CycleOptions,
    work: u64,
    exhausted: bool,
    /// `classes[class_start[e]..class_start[e + 1]]` for edges inside one SCC (empty otherwise).
    class_start: Vec<u32>,
    classes: Vec<Class>,
    /// Position of each node inside its SCC.
    local: Vec<u32>,
}

impl<'g> Search<'g> {
    fn new(g: &'g LockGraph, opts: CycleOptions) -> Self {
        let mut class_start = Vec::with_capacity(g.edge_count() + 1);
        let mut classes = Vec::new();
        class_start.push(0);
        let mut work = 0u64;
        for e in 0..g.edge_count() as u32 {
            let (f, t) = (g.edge_source(e), g.edge_target(e));
            let s = g.scc_of[f as usize];
            if s != u32::MAX && s == g.scc_of[t as usize] {
                let start = classes.len();
                let witnesses = &g.edge_weight(e).witnesses;
                work += witnesses.len() as u64;
                for (i, w) in witnesses.iter().enumerate() {
                    let c = Class {
                        held: mode_code(w.held_mode),
                        acquired: mode_code(w.acquired_mode),
                        group: g.shape_group(w.shape),
                        witness: i as u32,
                    };
                    let dup = classes[start..].iter().any(|o: &Class| {
                        (o.held, o.acquired, o.group) == (c.held, c.acquired, c.group)
                    });
                    if !dup {
                        classes.push(c);
                    }
                }
                classes[start..].sort_by_key(|c| (c.held, c.acquired, c.group));
            }
            class_start.push(classes.len() as u32);
        }
        let mut local = vec![NONE; g.node_count()];
        for scc in &g.sccs {
            for (i, n) in scc.iter().enumerate() {
                local[n.index()] = i as u32;
            }
        }
        Search {
            g,
            cm: ConflictMatrix::new(),
            opts,
            work,
            exhausted: false,
            class_start,
            classes,
            local,
        }
    }

    fn edge_classes(&self, e: u32) -> &[Class] {
        &self.classes
            [self.class_start[e as usize] as usize..self.class_start[e as usize + 1] as usize]
    }

    fn spend(&mut self, units: u64) -> bool {
        self.work += units;
        if self.work > self.opts.work_budget {
            self.exhausted = true;
        }
        !self.exhausted
    }

    /// The shortest valid cycles of one SCC, at most `max_per_component`, sorted.
    fn scc(&mut self, id: u32, nodes: &[NodeIndex]) -> Vec<Candidate> {
        let limit = self.opts.max_per_component;
        if limit == 0 || self.opts.max_len < 2 {
            return Vec::new();
        }
        let mut seen: FxHashSet<Key> = FxHashSet::default();
        let mut cands = self.two_cycles(id, nodes, limit, &mut seen);
        if cands.len() < limit && self.opts.max_len > 2 && !self.exhausted {
            self.longer_cycles(id, nodes, limit, &mut cands, &mut seen);
        }
        sort_candidates(&mut cands);
        cands.truncate(limit);
        cands
    }

    /// Every valid 2-cycle, in key order, until `limit` are found.
    fn two_cycles(
        &mut self,
        id: u32,
        nodes: &[NodeIndex],
        limit: usize,
        seen: &mut FxHashSet<Key>,
    ) -> Vec<Candidate> {
        let g = self.g;
        let mut out = Vec::new();
        let mut here = Vec::new();
        for &a in nodes {
            let a = a.index() as u32;
            here.clear();
            let mut units = 0u64;
            for e in g.out_range(a) {
                let b = g.edge_target(e);
                if b <= a || g.scc_of[b as usize] != id {
                    continue;
                }
                let Some(r) = g.find_edge(b, a) else { continue };
                for c1 in self.edge_classes(e) {
                    for c2 in self.edge_classes(r) {
                        units += 1;
                        if self.cm.conflicts(c1.acquired, c2.held)
                            && self.cm.conflicts(c2.acquired, c1.held)
                            && concurrent(c1.group, c2.group)
                        {
                            here.push(Candidate {
                                key: vec![(a, c1.held, c1.acquired), (b, c2.held, c2.acquired)],
                                steps: vec![(e, c1.witness), (r, c2.witness)],
                            });
                        }
                    }
                }
            }
            here.sort_by(|x, y| x.key.cmp(&y.key));
            for c in here.drain(..) {
                if seen.insert(c.key.clone()) {
                    out.push(c);
                }
            }
            if !self.spend(units) || out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        out
    }

    /// Cycles of three edges or more, by BFS over the SCC's port graph.
    fn longer_cycles(
        &mut self,
        id: u32,
        nodes: &[NodeIndex],
        limit: usize,
        cands: &mut Vec<Candidate>,
        seen: &mut FxHashSet<Key>,
    ) {
        let Some(mut pg) = self.port_graph(id, nodes) else {
            return;
        };
        let mut bfs = Bfs::default();
        for x in 0..nodes.len() as u32 {
            let bound = if cands.len() >= limit {
                cands.last().map_or(0, |c| c.key.len()).saturating_sub(1)
            } else {
                self.opts.max_len
            }
            .min(self.opts.max_len);
            // 2-cycles are all known already: a BFS capped at 2 edges finds nothing new.
            if bound <= 2 || self.exhausted {
                return;
            }
            let (lo, hi) = (pg.node_ports[x as usize], pg.node_ports[x as usize + 1]);
            for p0 in lo..hi {
                if pg.ports[p0 as usize].comp == NONE {
                    continue;
                }
                let walks = self.bfs(&mut pg, &mut bfs, x, p0, bound);
                for items in walks {
                    let c = self.candidate(&pg, &items);
                    if seen.insert(c.key.clone()) {
                        cands.push(c);
                    }
                }
                if cands.len() > limit {
                    sort_candidates(cands);
                    cands.truncate(limit);
                }
                if self.exhausted {
                    return;
                }
            }
            if cands.len() >= limit {
                sort_candidates(cands);
            }
        }
    }

    /// Ports and items of an SCC, with port-graph components; `None` when no port is on a cycle.
    fn port_graph(&mut self, id: u32, nodes: &[NodeIndex]) -> Option<PortGraph> {
        let g = self.g;
        let mut ports: Vec<Port> = Vec::new();
        let mut items: Vec<Item> = Vec::new();
        let mut node_ports = Vec::with_capacity(nodes.len() + 1);
        node_ports.push(0u32);
        let mut tmp: Vec<(u8, u32, u32, u8, u32, u32)> = Vec::new();
        for &gx in nodes {
            tmp.clear();
            for e in g.out_range(gx.index() as u32) {
                let y = g.edge_target(e);
                if g.scc_of[y as usize] != id {
                    continue;
                }
                let ly = self.local[y as usize];
                for c in self.edge_classes(e) {
                    tmp.push((c.held, c.group, ly, c.acquired, e, c.witness));
                }
            }
            tmp.sort_unstable_by_key(|t| (t.0, t.1, t.2, t.3));
            let mut i = 0;
            while i < tmp.len() {
                let (held, group) = (tmp[i].0, tmp[i].1);
                let start = items.len() as u32;
                while i < tmp.len() && (tmp[i].0, tmp[i].1) == (held, group) {
                    let t = tmp[i];
                    items.push(Item {
                        to: t.2,
                        acquired: t.3,
                        edge: t.4,
                        witness: t.5,
                    });
                    i += 1;
                }
                ports.push(Port {
                    held,
                    group,
                    items: (start, items.len() as u32),
                    comp: NONE,
                    bit: 0,
                });
            }
            node_ports.push(ports.len() as u32);
        }
        if !self.spend(items.len() as u64) {
            return None;
        }

        let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(ports.len(), items.len());
        for _ in 0..ports.len() {
            graph.add_node(());
        }
        let mut units = 0u64;
        for (p, port) in ports.iter().enumerate() {
            for item in &items[port.items.0 as usize..port.items.1 as usize] {
                let (lo, hi) = (
                    node_ports[item.to as usize],
                    node_ports[item.to as usize + 1],
                );
                for q in lo..hi {
                    units += 1;
                    let qp = &ports[q as usize];
                    if self.cm.conflicts(item.acquired, qp.held) && concurrent(port.group, qp.group)
                    {
                        graph.add_edge(NodeIndex::new(p), NodeIndex::new(q as usize), ());
                    }
                }
            }
        }
        if !self.spend(units) {
            return None;
        }
        let mut any = false;
        for (c, comp) in petgraph::algo::kosaraju_scc(&graph).into_iter().enumerate() {
            if comp.len() >= 2 {
                any = true;
                for p in comp {
                    ports[p.index()].comp = c as u32;
                }
            }
        }
        if !any {
            return None;
        }
        let mut groups: Vec<u32> = ports
            .iter()
            .filter(|p| p.comp != NONE && p.group != NO_GROUP)
            .map(|p| p.group)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        groups.truncate(EXACT_GROUPS);
        for port in &mut ports {
            if let Ok(i) = groups.binary_search(&port.group) {
                port.bit = 1 << i;
            }
        }
        Some(PortGraph {
            ports,
            items,
            node_ports,
        })
    }

    /// Shortest valid closed walks from port `p0` of local node `x`, through nodes `≥ x`, of at
    /// most `bound` edges: item sequences, all those of the first length that closes.
    fn bfs(
        &mut self,
        pg: &mut PortGraph,
        bfs: &mut Bfs,
        x: u32,
        p0: u32,
        bound: usize,
    ) -> Vec<Vec<u32>> {
        let start = pg.ports[p0 as usize];
        let mask0 = start.bit;
        bfs.reset(pg.ports.len());
        bfs.states.push(State {
            port: p0,
            mask: mask0,
            parent: NONE,
            item: NONE,
        });
        bfs.visit(p0, mask0);
        let mut closures: Vec<(u32, u32)> = Vec::new();
        let mut level_start = 0;
        let mut depth = 0;
        while depth < bound {
            depth += 1;
            let level_end = bfs.states.len();
            let mut units = 0u64;
            for si in level_start..level_end {
                let st = bfs.states[si];
                let port = pg.ports[st.port as usize];
                for it in port.items.0..port.items.1 {
                    units += 1;
                    let item = pg.items[it as usize];
                    if item.to == x
                        && self.cm.conflicts(item.acquired, start.held)
                        && concurrent(port.group, start.group)
                    {
                        closures.push((si as u32, it));
                    }
                    if !closures.is_empty() || depth == bound || item.to < x {
                        continue;
                    }
                    let (lo, hi) = (
                        pg.node_ports[item.to as usize],
                        pg.node_ports[item.to as usize + 1],
                    );
                    for q in lo..hi {
                        let qp = pg.ports[q as usize];
                        if qp.comp != start.comp
                            || !self.cm.conflicts(item.acquired, qp.held)
                            || !concurrent(port.group, qp.group)
                        {
                            continue;
                        }
                        let bit = qp.bit;
                        if st.mask & bit != 0 {
                            continue;
                        }
                        let mask = st.mask | bit;
                        if bfs.visit(q, mask) {
                            bfs.states.push(State {
                                port: q,
                                mask,
                                parent: si as u32,
                                item: it,
                            });
                        }
                    }
                }
            }
            let within_budget = self.spend(units);
            if !closures.is_empty() {
                return closures
                    .iter()
                    .map(|&(si, it)| {
                        let mut walk = vec![it];
                        let mut s = si;
                        while bfs.states[s as usize].parent != NONE {
                            walk.push(bfs.states[s as usize].item);
                            s = bfs.states[s as usize].parent;
                        }
                        walk.reverse();
                        walk
                    })
                    .collect();
            }
            if !within_budget || level_end == bfs.states.len() {
                break;
            }
            level_start = level_end;
        }
        Vec::new()
    }

    /// A candidate from a walk of items, canonically rotated.
    fn candidate(&self, pg: &PortGraph, walk: &[u32]) -> Candidate {
        let mut key = Vec::with_capacity(walk.len());
        let mut steps = Vec::with_capacity(walk.len());
        for &it in walk {
            let item = pg.items[it as usize];
            let held = self.g.edge_weight(item.edge).witnesses[item.witness as usize].held_mode;
            key.push((
                self.g.edge_source(item.edge),
                mode_code(held),
                item.acquired,
            ));
            steps.push((item.edge, item.witness));
        }
        let r = min_rotation(&key);
        key.rotate_left(r);
        steps.rotate_left(r);
        Candidate { key, steps }
    }

    fn to_cycle(&self, c: &Candidate) -> Cycle {
        let g = self.g;
        Cycle {
            edges: c
                .steps
                .iter()
                .map(|&(e, w)| {
                    let sw = g.edge_weight(e).witnesses[w as usize];
                    CycleEdge {
                        from: g.graph[NodeIndex::new(g.edge_source(e) as usize)].clone(),
                        to: g.graph[NodeIndex::new(g.edge_target(e) as usize)].clone(),
                        witness: sw.witness,
                        held: sw.held_mode,
                        acquired: sw.acquired_mode,
                    }
                })
                .collect(),
        }
    }
}

/// The port graph of one SCC.
struct PortGraph {
    ports: Vec<Port>,
    items: Vec<Item>,
    node_ports: Vec<u32>,
}

/// Reusable BFS buffers. States without groups (the common case) are marked in a stamped array,
/// so starting a BFS costs nothing; states with groups go to a hash set.
#[derive(Default)]
struct Bfs {
    states: Vec<State>,
    stamp: Vec<u32>,
    generation: u32,
    visited: FxHashSet<u64>,
}

impl Bfs {
    fn reset(&mut self, ports: usize) {
        self.states.clear();
        self.visited.clear();
        if self.stamp.len() != ports || self.generation == u32::MAX {
            self.stamp = vec![0; ports];
            self.generation = 0;
        }
        self.generation += 1;
    }

    /// Marks `(port, mask)` visited; true when it was not.
    fn visit(&mut self, port: u32, mask: u32) -> bool {
        if mask == 0 {
            let seen = self.stamp[port as usize] == self.generation;
            self.stamp[port as usize] = self.generation;
            !seen
        } else {
            self.visited.insert(u64::from(port) << 32 | u64::from(mask))
        }
    }
}

fn sort_candidates(c: &mut [Candidate]) {
    c.sort_by(|a, b| (a.key.len(), &a.key).cmp(&(b.key.len(), &b.key)));
}

/// Index of the lexicographically smallest rotation (k is small: quadratic is fine).
fn min_rotation<T: Ord>(s: &[T]) -> usize {
    let k = s.len();
    (0..k)
        .min_by(|&a, &b| {
            (0..k)
                .map(|i| &s[(a + i) % k])
                .cmp((0..k).map(|i| &s[(b + i) % k]))
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{advisory, relation, rows, transaction};
    use lockgraph_core::{AdvisoryMode, RowLockMode, TableLockMode};

    const AS: LockMode = LockMode::Table(TableLockMode::AccessShare);
    const RS: LockMode = LockMode::Table(TableLockMode::RowShare);
    const RE: LockMode = LockMode::Table(TableLockMode::RowExclusive);
    const AE: LockMode = LockMode::Table(TableLockMode::AccessExclusive);
    const NKU: LockMode = LockMode::Row(RowLockMode::NoKeyUpdate);
    const UPD: LockMode = LockMode::Row(RowLockMode::Update);
    const KS: LockMode = LockMode::Row(RowLockMode::KeyShare);
    const ADV: LockMode = LockMode::Advisory(AdvisoryMode::Exclusive);

    /// An UPDATE: ROW EXCLUSIVE on the table, then FOR NO KEY UPDATE on rows.
    fn update(t: &str) -> [(lockgraph_core::LockTarget, LockMode); 2] {
        [(relation(t), RE), (rows(t), NKU)]
    }

    fn updates(name: &str, group: Option<&str>, tables: &[&str]) -> Transaction {
        let locks: Vec<_> = tables.iter().flat_map(|t| update(t)).collect();
        transaction(name, group, &locks)
    }

    fn names(c: &Cycle) -> Vec<String> {
        c.nodes().map(|n| n.to_string()).collect()
    }

    fn run(txns: &[Transaction]) -> Vec<Cycle> {
        let cycles = LockGraph::build(txns).cycles(txns, &CycleOptions::default());
        for c in &cycles {
            assert!(c.is_valid(txns), "{c:?}");
        }
        cycles
    }

    #[test]
    fn two_updates_in_opposite_orders_deadlock_on_rows() {
        let txns = vec![
            updates("t1", None, &["a", "b"]),
            updates("t2", None, &["b", "a"]),
        ];
        let cycles = run(&txns);
        assert_eq!(cycles.len(), 1, "{cycles:#?}");
        let c = &cycles[0];
        assert_eq!(names(c), ["a", "b"]);
        // Only the row locks conflict: ROW EXCLUSIVE never waits for ROW EXCLUSIVE.
        assert!(c.edges.iter().all(|e| e.held == NKU && e.acquired == NKU));
        assert_eq!(c.edges[0].witness.txn, 0);
        assert_eq!(c.edges[1].witness.txn, 1);
    }

    #[test]
    fn non_conflicting_modes_make_no_cycle() {
        let reads = |name, a: &str, b: &str| {
            transaction(
                name,
                None,
                &[
                    (relation(a), AS),
                    (relation(a), RS),
                    (relation(b), AS),
                    (relation(b), RS),
                ],
            )
        };
        let txns = vec![reads("r1", "a", "b"), reads("r2", "b", "a")];
        let g = LockGraph::build(&txns);
        assert_eq!(g.sccs().len(), 1, "the graph has a cycle");
        assert!(
            g.cycles(&txns, &CycleOptions::default()).is_empty(),
            "but no deadlock"
        );
        // Table-level RE/RE alone is not one either.
        let txns = vec![
            transaction("w1", None, &[(relation("a"), RE), (relation("b"), RE)]),
            transaction("w2", None, &[(relation("b"), RE), (relation("a"), RE)]),
        ];
        assert!(run(&txns).is_empty());
    }

    #[test]
    fn three_cycle() {
        let txns = vec![
            updates("t1", None, &["a", "b"]),
            updates("t2", None, &["b", "c"]),
            updates("t3", None, &["c", "a"]),
        ];
        let cycles = run(&txns);
        assert_eq!(cycles.len(), 1);
        assert_eq!(names(&cycles[0]), ["a", "b", "c"]);
        assert_eq!(
            cycles[0]
                .edges
                .iter()
                .map(|e| e.witness.txn)
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    #[test]
    fn two_instances_of_one_shape() {
        // Locks a's rows, then b's, then a's again (other rows): two instances deadlock.
        let shape = [(rows("a"), NKU), (rows("b"), NKU), (rows("a"), NKU)];
        let txns = vec![transaction("transfer", None, &shape)];
        let cycles = run(&txns);
        assert_eq!(cycles.len(), 1);
        assert_eq!(names(&cycles[0]), ["a", "b"]);
        assert!(cycles[0].edges.iter().all(|e| e.witness.txn == 0));
        // Many identical transactions are one shape and give the same single cycle.
        let many: Vec<_> = (0..50)
            .map(|_| transaction("transfer", None, &shape))
            .collect();
        let g = LockGraph::build(&many);
        assert_eq!(g.shape_count(), 1);
        assert_eq!(
            g.edge(&relation("a").node(), &relation("b").node())
                .map(|e| e.transactions),
            Some(50)
        );
        assert_eq!(run(&many).len(), 1);
        // In a group, the transaction never runs beside itself: no cycle.
        let grouped = vec![transaction("transfer", Some("jobs"), &shape)];
        assert!(run(&grouped).is_empty());
    }

    #[test]
    fn one_group_never_deadlocks_with_itself() {
        let m = |name, a, b| {
            transaction(
                name,
                Some("migrations"),
                &[(relation(a), AE), (relation(b), AE)],
            )
        };
        let txns = vec![m("0001", "a", "b"), m("0002", "b", "a")];
        assert!(run(&txns).is_empty());
        // Another group, or no group, does deadlock with them.
        let mut other = m("0002", "b", "a");
        other.group = Some("other".into());
        assert_eq!(run(&[m("0001", "a", "b"), other]).len(), 1);
        // An UPDATE waits for ACCESS EXCLUSIVE at table level only (row locks live elsewhere).
        let app = updates("app", None, &["b", "a"]);
        let cycles = run(&[m("0001", "a", "b"), app]);
        assert_eq!(cycles.len(), 1);
        assert_eq!(
            cycles[0]
                .edges
                .iter()
                .map(|e| (e.held, e.acquired))
                .collect::<Vec<_>>(),
            [(AE, AE), (RE, RE)]
        );
    }

    #[test]
    fn group_rule_applies_to_all_pairs_not_just_neighbours() {
        // m1: a → b, app1: b → c, m2: c → d, app2: d → a. m1 and m2 share a group and are not
        // neighbours in the cycle: the 4-cycle is not a deadlock.
        let m = |name, x, y| {
            transaction(
                name,
                Some("migrations"),
                &[(relation(x), AE), (relation(y), AE)],
            )
        };
        let app = |name, x, y| transaction(name, None, &[(relation(x), AE), (relation(y), AE)]);
        let txns = vec![
            m("m1", "a", "b"),
            app("app1", "b", "c"),
            m("m2", "c", "d"),
            app("app2", "d", "a"),
        ];
        assert!(run(&txns).is_empty());
        let mut free = txns.clone();
        free[2].group = None;
        assert_eq!(names(&run(&free)[0]), ["a", "b", "c", "d"]);
    }

    #[test]
    fn canonical_rotation_and_dedup() {
        // The same 3-cycle witnessed twice on b → c, by transactions of different groups (so
        // different witness classes); listed so that no shape starts at the smallest node.
        let txns = vec![
            updates("t1", None, &["c", "a"]),
            updates("t3", Some("x"), &["b", "c"]),
            updates("t2", None, &["a", "b"]),
            updates("u1", Some("y"), &["b", "c"]),
        ];
        let cycles = run(&txns);
        assert_eq!(cycles.len(), 1);
        assert_eq!(names(&cycles[0]), ["a", "b", "c"]);
        assert_eq!(min_rotation(&[3, 1, 2, 1, 0, 5]), 4);
        assert_eq!(min_rotation(&[2, 1, 1, 2, 1, 0]), 5);
        assert_eq!(min_rotation(&[1, 2, 1, 1]), 2);
    }

    #[test]
    fn distinct_modes_are_distinct_cycles() {
        // Rows and an advisory lock: two cycles over the same nodes that differ by modes.
        let txns = vec![
            transaction(
                "t1",
                None,
                &[(rows("a"), UPD), (advisory("7"), ADV), (rows("a"), KS)],
            ),
            transaction("t2", None, &[(advisory("7"), ADV), (rows("a"), NKU)]),
        ];
        let cycles = run(&txns);
        assert_eq!(cycles.len(), 2, "{cycles:#?}");
        let mut fps: Vec<_> = cycles.iter().map(Cycle::fingerprint).collect();
        fps.dedup();
        assert_eq!(fps.len(), cycles.len());
        for c in &cycles {
            assert_eq!(
                c.edges[0].from,
                relation("a").node(),
                "relations sort before advisory keys"
            );
        }
    }

    #[test]
    fn deterministic_and_independent_of_input_order() {
        let w = crate::synth::Workload {
            relations: 60,
            transactions: 3_000,
            templates: 200,
            inversion_rate: 0.2,
            random_rate: 0.05,
            migration_rate: 0.05,
            seed: 7,
        };
        let txns = crate::synth::generate(&w);
        let a = run(&txns);
        let b = run(&txns);
        assert_eq!(a, b);
        assert!(!a.is_empty());
        let mut rev = txns.clone();
        rev.reverse();
        let c = run(&rev);
        let shape = |cs: &[Cycle]| -> Vec<Vec<(NodeKey, LockMode, LockMode)>> {
            cs.iter()
                .map(|c| {
                    c.edges
                        .iter()
                        .map(|e| (e.from.clone(), e.held, e.acquired))
                        .collect()
                })
                .collect()
        };
        assert_eq!(shape(&a), shape(&c));
    }

    /// Every ordered pair of 200 relations is an edge with conflicting row modes.
    fn dense(n: usize) -> Vec<Transaction> {
        let mut txns = Vec::new();
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    let (a, b) = (format!("r{i:03}"), format!("r{j:03}"));
                    txns.push(transaction(
                        "pair",
                        None,
                        &[(rows(&a), NKU), (rows(&b), NKU)],
                    ));
                }
            }
        }
        txns
    }

    #[test]
    fn dense_200_node_graph_finishes_with_the_shortest_cycles() {
        let txns = dense(200);
        let g = LockGraph::build(&txns);
        assert_eq!(g.edge_count(), 200 * 199);
        let opts = CycleOptions::default();
        let search = g.search_cycles(&txns, &opts);
        assert!(!search.exhausted);
        assert_eq!(search.cycles.len(), opts.max_per_component);
        for (k, c) in search.cycles.iter().enumerate() {
            assert!(c.is_valid(&txns));
            assert_eq!(names(c), ["r000".to_string(), format!("r{:03}", k + 1)]);
        }
        // Asking for far more cycles than there are 2-cycles through one node still finishes.
        let many = CycleOptions {
            max_per_component: 5_000,
            max_total: 5_000,
            ..opts
        };
        let cycles = g.cycles(&txns, &many);
        assert_eq!(cycles.len(), 5_000);
        assert!(cycles.iter().all(|c| c.len() == 2));
    }

    #[test]
    fn dense_graph_whose_only_cycle_is_long() {
        // A ring of 200 relations with row locks that conflict, and every other ordered pair
        // an edge whose modes never conflict (ACCESS SHARE then ACCESS SHARE).
        let n = 200;
        let name = |i: usize| format!("r{:03}", i % n);
        let mut txns = Vec::new();
        for i in 0..n {
            txns.push(transaction(
                "ring",
                None,
                &[(rows(&name(i)), NKU), (rows(&name(i + 1)), NKU)],
            ));
            for j in 0..n {
                if j != i && j != (i + 1) % n {
                    txns.push(transaction(
                        "read",
                        None,
                        &[(relation(&name(i)), AS), (relation(&name(j)), AS)],
                    ));
                }
            }
        }
        let g = LockGraph::build(&txns);
        assert_eq!(g.edge_count(), n * (n - 1));
        assert!(
            g.cycles(&txns, &CycleOptions::default()).is_empty(),
            "longer than max_len"
        );
        let long = CycleOptions {
            max_len: 256,
            ..CycleOptions::default()
        };
        let cycles = g.cycles(&txns, &long);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n);
        assert_eq!(names(&cycles[0])[..3], ["r000", "r001", "r002"]);
    }

    #[test]
    fn work_budget_is_honoured() {
        let txns = dense(60);
        let g = LockGraph::build(&txns);
        let opts = CycleOptions {
            work_budget: 10,
            ..CycleOptions::default()
        };
        let s = g.search_cycles(&txns, &opts);
        assert!(s.exhausted);
        assert!(s.cycles.iter().all(|c| c.is_valid(&txns)));
    }

    #[test]
    fn is_valid_rejects_tampering() {
        let txns = vec![
            updates("t1", None, &["a", "b"]),
            updates("t2", None, &["b", "a"]),
        ];
        let c = run(&txns).remove(0);
        let mut bad = c.clone();
        bad.edges[0].witness.txn = 1;
        assert!(!bad.is_valid(&txns));
        let mut bad = c.clone();
        bad.edges[1].held = RE;
        assert!(!bad.is_valid(&txns));
        let mut grouped = txns.clone();
        for t in &mut grouped {
            t.group = Some("g".into());
        }
        assert!(!c.is_valid(&grouped));
    }
}
