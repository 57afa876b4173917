//! Synthetic transactions: small builders for tests and examples, and a generator of large,
//! realistic workloads for benchmarks.
//!
//! Nothing here reads input: the generator is deterministic for a given
//! [`Workload::seed`](crate::synth::Workload::seed).

use lockgraph_core::{
    Fingerprint, Location, LockAcquisition, LockMode, LockTarget, RelationName, RowLockMode,
    Statement, TableLockMode, Transaction, TransactionKind,
};
use std::sync::Arc;

/// A table-level lock target on `name`.
pub fn relation(name: &str) -> LockTarget {
    LockTarget::Relation {
        relation: RelationName::new(name),
    }
}

/// A row-level lock target on rows of `name` (no key predicate).
pub fn rows(name: &str) -> LockTarget {
    LockTarget::Rows {
        relation: RelationName::new(name),
        key: None,
    }
}

/// An advisory lock target.
pub fn advisory(key: &str) -> LockTarget {
    LockTarget::Advisory { key: key.into() }
}

/// A statement whose text is also its redacted form, fingerprinted from the text.
pub fn statement(text: &str, path: &str, line: u32) -> Arc<Statement> {
    Arc::new(Statement {
        location: Location::new(path, line),
        text: text.into(),
        redacted: text.into(),
        fingerprint: Fingerprint::of([text.as_bytes()]),
    })
}

/// A transaction taking `locks` in order, one statement per lock (text `<mode> <target>`, so
/// transactions built from equal lock lists have equal shapes).
pub fn transaction(
    name: &str,
    group: Option<&str>,
    locks: &[(LockTarget, LockMode)],
) -> Transaction {
    let path: Arc<str> = format!("{name}.sql").into();
    let locks: Vec<LockAcquisition> = locks
        .iter()
        .enumerate()
        .map(|(i, (target, mode))| LockAcquisition {
            target: target.clone(),
            mode: *mode,
            statement: statement(&format!("{mode} {target}"), &path, i as u32 + 2),
            implicit: None,
            repeated: false,
            via: None,
        })
        .collect();
    Transaction {
        name: name.into(),
        location: Location::new(path, 1),
        kind: TransactionKind::Explicit,
        group: group.map(Arc::from),
        statements: locks.iter().map(|l| l.statement.clone()).collect(),
        locks,
        engine: lockgraph_core::Engine::Postgres,
    }
}

/// Parameters of a generated workload.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Relations (`t00000`, `t00001`, …). Their index is the application's "natural" lock order.
    pub relations: usize,
    /// Transactions to generate.
    pub transactions: usize,
    /// Distinct code paths (templates) most transactions are instances of.
    pub templates: usize,
    /// Share of templates that lock two neighbouring statements against the natural order.
    pub inversion_rate: f64,
    /// Share of transactions that are one-off random shapes (random relations, random order).
    pub random_rate: f64,
    /// Share of templates that are migrations: `ACCESS EXCLUSIVE` in any order, group `migrations`.
    pub migration_rate: f64,
    /// Seed of the deterministic generator.
    pub seed: u64,
}

impl Default for Workload {
    /// The benchmark's shape: 10,000 relations, 1,000,000 transactions, 3,000 templates.
    fn default() -> Self {
        Workload {
            relations: 10_000,
            transactions: 1_000_000,
            templates: 3_000,
            inversion_rate: 0.05,
            random_rate: 0.01,
            migration_rate: 0.005,
            seed: 42,
        }
    }
}

/// SplitMix64: tiny, fast, good enough for workloads.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What one generated statement does to one relation.
#[derive(Clone, Copy)]
enum Kind {
    Select,
    SelectForUpdate,
    Update,
    Insert,
    Delete,
    Migrate,
}

impl Kind {
    fn locks(self) -> &'static [(bool, LockMode)] {
        const AS: LockMode = LockMode::Table(TableLockMode::AccessShare);
        const RS: LockMode = LockMode::Table(TableLockMode::RowShare);
        const RE: LockMode = LockMode::Table(TableLockMode::RowExclusive);
        const AE: LockMode = LockMode::Table(TableLockMode::AccessExclusive);
        const UPD: LockMode = LockMode::Row(RowLockMode::Update);
        const NKU: LockMode = LockMode::Row(RowLockMode::NoKeyUpdate);
        // (is a row lock, mode)
        match self {
            Kind::Select => &[(false, AS)],
            Kind::SelectForUpdate => &[(false, RS), (true, UPD)],
            Kind::Update => &[(false, RE), (true, NKU)],
            Kind::Insert => &[(false, RE)],
            Kind::Delete => &[(false, RE), (true, UPD)],
            Kind::Migrate => &[(false, AE)],
        }
    }

    fn sql(self, table: &str) -> String {
        match self {
            Kind::Select => format!("SELECT * FROM {table} WHERE id = $1"),
            Kind::SelectForUpdate => format!("SELECT * FROM {table} WHERE id = $1 FOR UPDATE"),
            Kind::Update => format!("UPDATE {table} SET v = v + 1 WHERE id = $1"),
            Kind::Insert => format!("INSERT INTO {table} (v) VALUES ($1)"),
            Kind::Delete => format!("DELETE FROM {table} WHERE id = $1"),
            Kind::Migrate => format!("ALTER TABLE {table} ADD COLUMN c int"),
        }
    }

    fn pick(rng: &mut Rng, budget: usize) -> Kind {
        let one = [Kind::Select, Kind::Insert];
        let any = [
            Kind::Select,
            Kind::SelectForUpdate,
            Kind::Update,
            Kind::Update,
            Kind::Insert,
            Kind::Delete,
        ];
        if budget < 2 {
            one[rng.below(one.len())]
        } else {
            any[rng.below(any.len())]
        }
    }
}

struct Builder {
    names: Vec<RelationName>,
    path: Arc<str>,
    line: u32,
}

impl Builder {
    /// A transaction over `tables` in that order, 2–6 locks in all (at least one per table
    /// until the budget runs out).
    fn build(
        &mut self,
        rng: &mut Rng,
        name: Arc<str>,
        tables: &[usize],
        migrate: bool,
    ) -> Transaction {
        let budget_total = 2 + rng.below(5);
        let mut locks = Vec::new();
        let mut statements = Vec::new();
        for &t in tables {
            let budget = budget_total.saturating_sub(locks.len());
            if budget == 0 {
                break;
            }
            let kind = if migrate {
                Kind::Migrate
            } else {
                Kind::pick(rng, budget)
            };
            let relation = self.names[t].clone();
            self.line += 1;
            let stmt = statement(&kind.sql(relation.as_str()), &self.path, self.line);
            for &(row, mode) in kind.locks() {
                let target = if row {
                    LockTarget::Rows {
                        relation: relation.clone(),
                        key: None,
                    }
                } else {
                    LockTarget::Relation {
                        relation: relation.clone(),
                    }
                };
                locks.push(LockAcquisition {
                    target,
                    mode,
                    statement: stmt.clone(),
                    implicit: None,
                    repeated: false,
                    via: None,
                });
            }
            statements.push(stmt);
        }
        Transaction {
            name,
            location: Location::new(self.path.clone(), self.line),
            kind: TransactionKind::Explicit,
            group: migrate.then(|| Arc::from("migrations")),
            statements,
            locks,
            engine: lockgraph_core::Engine::Postgres,
        }
    }
}

/// Distinct relations drawn from `[lo, lo + width)` (clamped), `count` of them, sorted.
fn pick_tables(
    rng: &mut Rng,
    relations: usize,
    lo: usize,
    width: usize,
    count: usize,
) -> Vec<usize> {
    let width = width.min(relations);
    let lo = lo.min(relations - width);
    let mut out: Vec<usize> = Vec::with_capacity(count);
    while out.len() < count.min(width) {
        let t = lo + rng.below(width);
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out.sort_unstable();
    out
}

/// Generates a workload: instances of templates (popularity skewed toward the first ones) that
/// mostly lock relations in index order, a few templates with an inversion, a few migrations, and
/// a share of one-off random transactions. Relations with low indexes are the popular ones: code
/// paths and random transactions both favour them.
pub fn generate(w: &Workload) -> Vec<Transaction> {
    assert!(w.relations >= 2, "a workload needs two relations");
    let mut rng = Rng(w.seed);
    let mut b = Builder {
        names: (0..w.relations)
            .map(|i| RelationName::new(format!("t{i:05}")))
            .collect(),
        path: "app.sql".into(),
        line: 0,
    };
    let templates: Vec<Transaction> = (0..w.templates.max(1))
        .map(|i| {
            let migrate = rng.unit() < w.migration_rate;
            let count = 2 + rng.below(3);
            // Code paths cluster around popular relations (low indexes).
            let u = rng.unit();
            let center = (u * u * u * w.relations as f64) as usize;
            let mut tables = pick_tables(&mut rng, w.relations, center, 64, count);
            if migrate {
                // Migrations lock in whatever order the author wrote.
                for k in (1..tables.len()).rev() {
                    tables.swap(k, rng.below(k + 1));
                }
            } else if rng.unit() < w.inversion_rate && tables.len() >= 2 {
                let k = rng.below(tables.len() - 1);
                tables.swap(k, k + 1);
            }
            b.build(&mut rng, format!("template_{i}").into(), &tables, migrate)
        })
        .collect();
    let random_name: Arc<str> = "adhoc".into();
    let mut out = Vec::with_capacity(w.transactions);
    for _ in 0..w.transactions {
        if rng.unit() < w.random_rate {
            let count = 2 + rng.below(3);
            let mut tables = Vec::with_capacity(count);
            while tables.len() < count {
                let u = rng.unit();
                let t = (u * u * w.relations as f64) as usize;
                if !tables.contains(&t) {
                    tables.push(t);
                }
            }
            for k in (1..tables.len()).rev() {
                tables.swap(k, rng.below(k + 1));
            }
            out.push(b.build(&mut rng, random_name.clone(), &tables, false));
        } else {
            let u = rng.unit();
            let i = ((u * u) * templates.len() as f64) as usize;
            out.push(templates[i.min(templates.len() - 1)].clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_in_bounds() {
        let w = Workload {
            relations: 100,
            transactions: 500,
            templates: 20,
            ..Workload::default()
        };
        let a = generate(&w);
        let b = generate(&w);
        assert_eq!(a, b);
        assert_eq!(a.len(), 500);
        for t in &a {
            assert!((2..=6).contains(&t.locks.len()), "{} locks", t.locks.len());
        }
    }
}
