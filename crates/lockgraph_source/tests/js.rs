//! JavaScript / TypeScript front-end: fixture pairs per driver/ORM pattern and behaviour on
//! small inputs.

#[macro_use]
mod common;

#[allow(dead_code)]
#[path = "../examples/gen_js.rs"]
mod gen_js;

use common::{files, lock_list, render, run, table_order, texts};
use lockgraph_core::{DiagnosticKind, TransactionKind};

#[test]
fn js_pg_begin_commit_across_files() {
    check_pair!("js_pg", "LG101");
}

#[test]
fn js_knex_transaction_callback_and_builders() {
    check_pair!("js_knex", "LG101");
}

#[test]
fn js_prisma_interactive_and_batch_transactions() {
    check_pair!("js_prisma", "LG101");
}

#[test]
fn js_sequelize_managed_and_unmanaged_transactions() {
    check_pair!("js_sequelize", "LG101");
}

#[test]
fn js_loop_over_unsorted_keys() {
    check_pair!("js_loop", "LG103");
}

// ----- behaviour -------------------------------------------------------------------------------

#[test]
fn pg_begin_commit_across_files_with_lines() {
    let repo = r#"
export async function debit(client, id: number, amount: number) {
  await client.query('UPDATE accounts SET balance = balance - $2 WHERE id = $1', [id, amount]);
}
"#;
    let svc = r#"
import { debit } from '../repo/accounts';

export async function pay(pool, from: number) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await debit(client, from, 5);
    await client.query(`UPDATE audit SET n = n + 1 WHERE id = 1`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
  await pool.query('UPDATE stats SET n = n + 1 WHERE id = 1');
}
"#;
    let ext = run(&files(&[
        ("src/repo/accounts.ts", repo),
        ("src/services/pay.ts", svc),
    ]));
    let txs: Vec<(&str, TransactionKind)> = ext
        .transactions
        .iter()
        .map(|t| (&*t.name, t.kind))
        .collect();
    assert_eq!(
        txs,
        [
            ("pay.pay (src/services/pay.ts:7)", TransactionKind::Explicit),
            (
                "pay.pay (src/services/pay.ts:17)",
                TransactionKind::Autocommit
            ),
        ],
        "{}",
        render(&ext)
    );
    let tx = &ext.transactions[0];
    let at: Vec<String> = tx
        .locks
        .iter()
        .map(|l| format!("{} {}", l.target, l.statement.location))
        .collect();
    assert_eq!(
        at,
        [
            "accounts src/repo/accounts.ts:3",
            // `$2` (amount) is numbered first, as written: `id` is the program's second.
            "accounts rows (id = $2) src/repo/accounts.ts:3",
            "audit src/services/pay.ts:9",
            "audit rows (id = 1) src/services/pay.ts:9",
        ]
    );
    // The lock in the helper was reached through the call at pay.ts:8.
    let via = tx.locks[0].via.as_deref().unwrap_or(&[]);
    assert_eq!(via.len(), 1);
    assert_eq!(via[0].to_string(), "src/services/pay.ts:8");
}

#[test]
fn placeholders_and_arguments() {
    let src = r#"
const LOCK = 'SELECT * FROM jobs WHERE id = $1 FOR UPDATE';
const SQL = { bump: 'UPDATE jobs SET n = n + 1 WHERE id = ?' };

export async function work(client, knex, prisma, sequelize, src, dst, table) {
  await client.query(LOCK, [src]);
  await client.query({ text: 'UPDATE jobs SET owner = $2 WHERE id = $1', values: [dst, 'me'] });
  await knex.raw(SQL.bump, [dst]);
  await prisma.$executeRaw`UPDATE jobs SET n = 0 WHERE id = ${src} AND kind = ${'x'}`;
  await prisma.$executeRawUnsafe('DELETE FROM jobs WHERE id = $1', dst);
  await sequelize.query('UPDATE jobs SET n = :n WHERE id = :id', { replacements: { id: src, n: 3 } });
  await client.query(`SELECT * FROM jobs WHERE id = ${dst} FOR SHARE`);
  await client.query(`DELETE FROM ${table} WHERE id = $1`, [src]);
}
"#;
    let ext = run(&files(&[("jobs.ts", src)]));
    assert_eq!(
        texts(&ext),
        [
            "SELECT * FROM jobs WHERE id = $1 FOR UPDATE",
            "UPDATE jobs SET owner = 'me' WHERE id = $2",
            "UPDATE jobs SET n = n + 1 WHERE id = $2",
            "UPDATE jobs SET n = 0 WHERE id = $1 AND kind = 'x'",
            "DELETE FROM jobs WHERE id = $2",
            "UPDATE jobs SET n = 3 WHERE id = $1",
            // A template hole is a run-time value numbered per statement.
            "SELECT * FROM jobs WHERE id = $1 FOR SHARE",
        ],
        "{}",
        render(&ext)
    );
    let dynamic: Vec<u32> = ext
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::DynamicRelation)
        .map(|d| d.location.line)
        .collect();
    assert_eq!(dynamic, [13]);
}

#[test]
fn string_constants_across_modules() {
    let queries = r#"
export const LOCK_USER = 'SELECT * FROM users WHERE id = $1 ' + 'FOR UPDATE';
export const TOUCH = ['UPDATE users', 'SET seen = now()', 'WHERE id = $1'].join(' ');
"#;
    let svc = r#"
import { LOCK_USER } from './sql/queries';
import * as q from './sql/queries';
const { TOUCH } = require('./sql/queries.js');

export async function touch(client, uid) {
  await client.query(LOCK_USER, [uid]);
  await client.query(q.TOUCH, [uid]);
  await client.query(TOUCH, [uid]);
}
"#;
    let ext = run(&files(&[
        ("app/sql/queries.ts", queries),
        ("app/users.ts", svc),
    ]));
    assert_eq!(
        texts(&ext),
        [
            "SELECT * FROM users WHERE id = $1 FOR UPDATE",
            "UPDATE users SET seen = now() WHERE id = $1",
            "UPDATE users SET seen = now() WHERE id = $1",
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn scopes_callbacks_and_unmanaged_transactions() {
    let src = r#"
export async function run(db, sequelize, prisma, id) {
  await db.transaction(async (trx) => {
    const row = await trx('a').where({ id }).forUpdate().first();
    if (!row) {
      return null;
    }
    await trx('b').where({ id }).update({ v: 1 });
    return row;
  });
  await db('c').where({ id }).del();
  const t = await sequelize.transaction();
  await sequelize.query('UPDATE d SET v = 1 WHERE id = ?', { replacements: [id], transaction: t });
  await t.commit();
  await prisma.$transaction(async (tx) => {
    await tx.thing.delete({ where: { id } });
  });
}
"#;
    let ext = run(&files(&[("svc.ts", src)]));
    let shapes: Vec<(String, TransactionKind, Vec<String>)> = ext
        .transactions
        .iter()
        .map(|t| (t.name.to_string(), t.kind, table_order(t)))
        .collect();
    let shape =
        |n: &str, k, t: &[&str]| (n.to_string(), k, t.iter().map(|s| s.to_string()).collect());
    use TransactionKind::{Autocommit, Explicit};
    assert_eq!(
        shapes,
        [
            shape("svc.run (svc.ts:3) path 1/2", Explicit, &["a"]),
            shape("svc.run (svc.ts:3) path 2/2", Explicit, &["a", "b"]),
            shape("svc.run (svc.ts:11)", Autocommit, &["c"]),
            shape("svc.run (svc.ts:12)", Explicit, &["d"]),
            shape("svc.run (svc.ts:15)", Explicit, &["Thing"]),
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn branches_switch_and_ternary_fork_paths() {
    let src = r#"
async function settle(client, kind, id) {
  await client.query('BEGIN');
  switch (kind) {
    case 'a':
      await client.query('UPDATE a SET v = 1 WHERE id = $1', [id]);
      break;
    case 'b':
      await client.query('UPDATE b SET v = 1 WHERE id = $1', [id]);
      break;
  }
  kind ? await client.query('UPDATE c SET v = 1 WHERE id = 1') : null;
  await client.query('COMMIT');
}
module.exports = { settle };
"#;
    let ext = run(&files(&[("settle.js", src)]));
    let mut orders: Vec<Vec<String>> = ext.transactions.iter().map(table_order).collect();
    orders.sort();
    let o = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // No `default`: a kind that is neither 'a' nor 'b' runs no case.
    assert_eq!(
        orders,
        [
            o(&[]),
            o(&["a"]),
            o(&["a", "c"]),
            o(&["b"]),
            o(&["b", "c"]),
            o(&["c"])
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn loops_mark_repeated_and_sorted_keys_ordered() {
    let src = r#"
export async function bump(client, ids: number[], pair: [number, number]) {
  await client.query('BEGIN');
  ids.forEach(async (id) => {
    await client.query('UPDATE counters SET n = n + 1 WHERE id = $1', [id]);
  });
  await client.query('COMMIT');
}

export async function bumpSorted(client, ids: number[], a: number, b: number) {
  await client.query('BEGIN');
  [...ids].sort((x, y) => x - y).forEach(async (id) => {
    await client.query('UPDATE counters SET n = n + 1 WHERE id = $1', [id]);
  });
  const sorted = _.sortBy(ids);
  sorted.forEach(async (id) => {
    await client.query('UPDATE tags SET n = n + 1 WHERE id = $1', [id]);
  });
  const [lo, hi] = [a, b].sort();
  await client.query('UPDATE pairs SET n = 1 WHERE id = $1', [lo]);
  await client.query('UPDATE pairs SET n = 1 WHERE id = $1', [hi]);
  await client.query('COMMIT');
}
"#;
    let ext = run(&files(&[("loop.ts", src)]));
    assert_eq!(ext.transactions.len(), 2, "{}", render(&ext));
    assert_eq!(
        lock_list(&ext.transactions[0]),
        [
            "counters ROW EXCLUSIVE *",
            "counters rows (id = $1) FOR NO KEY UPDATE *"
        ]
    );
    let ordered: Vec<bool> = ext.transactions[1]
        .locks
        .iter()
        .filter_map(|l| match &l.target {
            lockgraph_core::LockTarget::Rows { key: Some(k), .. } => Some(k.ordered),
            _ => None,
        })
        .collect();
    assert_eq!(ordered, [true, true, true, true], "{}", render(&ext));
    let schema = lockgraph_source::model_schema(&files(&[("loop.ts", src)]));
    let codes = common::finding_codes(&ext, &schema);
    assert_eq!(codes, ["LG103"], "only the unsorted loop is a hazard");
}

#[test]
fn classes_fields_and_module_objects_resolve_calls() {
    let repo = r#"
export default class AccountRepo {
  async lock(client, id) {
    await client.query('SELECT * FROM accounts WHERE id = $1 FOR UPDATE', [id]);
  }
}
"#;
    let ledger = r#"
module.exports = {
  async record(client, id) {
    await client.query('INSERT INTO ledger (account_id) VALUES ($1)', [id]);
  },
};
"#;
    let audit = r#"
const audit = {
  async note(client, id) {
    await client.query('UPDATE audit SET n = n + 1 WHERE id = $1', [id]);
  },
};
export const helpers = { audit };
export { audit };
"#;
    let svc = r#"
import AccountRepo from '../repo/accounts';
import { audit } from '../repo/audit';
const ledger = require('../repo/ledger');

export class TransferService {
  private repo = new AccountRepo();
  constructor(private readonly other: AccountRepo, private pool: Pool) {}

  async transfer(id: number) {
    const client = await this.pool.connect();
    await client.query('BEGIN');
    await this.repo.lock(client, id);
    await this.other.lock(client, id);
    await this.step(client, id);
    await client.query('COMMIT');
  }

  step = async (client, id) => {
    await ledger.record(client, id);
    await audit.note(client, id);
  };
}
"#;
    let ext = run(&files(&[
        ("src/repo/accounts.ts", repo),
        ("src/repo/ledger.js", ledger),
        ("src/repo/audit/index.ts", audit),
        ("src/services/transfer.ts", svc),
    ]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let tx = &ext.transactions[0];
    assert_eq!(
        &*tx.name,
        "TransferService.transfer (src/services/transfer.ts:12)"
    );
    assert_eq!(table_order(tx), ["accounts", "accounts", "ledger", "audit"]);
    let lines: Vec<String> = tx
        .statements
        .iter()
        .map(|s| s.location.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "src/services/transfer.ts:12",
            "src/repo/accounts.ts:4",
            "src/repo/accounts.ts:4",
            "src/repo/ledger.js:4",
            "src/repo/audit/index.ts:4",
            "src/services/transfer.ts:16",
        ]
    );
}

#[test]
fn sequelize_models_name_tables() {
    let models = r#"
const { DataTypes, Model } = require('sequelize');
const Person = sequelize.define('Person', { name: DataTypes.STRING });
const Tag = sequelize.define('Tag', { name: DataTypes.STRING }, { freezeTableName: true });
class Box extends Model {}
Box.init({ ownerId: { type: DataTypes.INTEGER, field: 'owner_id' } }, { sequelize });
module.exports = { Person, Tag, Box };
"#;
    let use_ = r#"
const { Person, Tag, Box } = require('./models');
async function f(id, owner) {
  await Person.destroy({ where: { id } });
  await Tag.update({ name: 'x' }, { where: { id } });
  await Box.findAll({ where: { ownerId: owner }, lock: true });
  await Category.findByPk(id);
}
module.exports = { f };
"#;
    let fs = files(&[("models.js", models), ("use.js", use_)]);
    let ext = run(&fs);
    assert_eq!(
        texts(&ext),
        [
            "DELETE FROM \"Persons\" WHERE id = $1",
            "UPDATE \"Tag\" SET name = $2 WHERE id = $1",
            "SELECT * FROM \"Boxes\" WHERE owner_id = $2 FOR UPDATE",
            "SELECT * FROM \"Categories\" WHERE id = $1",
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn suppression_comment_targets_the_statement_line() {
    let src = r#"
export async function f(client) {
  // lockgraph: ignore[LG101] reviewed: runs alone at night
  await client.query('UPDATE a SET v = 1 WHERE id = 1');
  const s = '// lockgraph: ignore[LG999] not a comment';
  await client.query('UPDATE b SET v = 1 WHERE id = 1'); // lockgraph: ignore[LG103]
}
"#;
    let ext = run(&files(&[("s.ts", src)]));
    assert_eq!(ext.suppressions.len(), 2, "{}", render(&ext));
    let a = &ext.suppressions[0];
    assert_eq!((a.comment.line, a.target.line), (3, 4));
    assert_eq!(a.codes, ["LG101"]);
    assert_eq!(a.reason.as_deref(), Some("reviewed: runs alone at night"));
    let b = &ext.suppressions[1];
    assert_eq!((b.comment.line, b.target.line), (6, 6));
    // The targets are the lines of the statements.
    let lines: Vec<u32> = ext.statements.iter().map(|s| s.location.line).collect();
    assert_eq!(lines, [4, 6]);
}

#[test]
fn deep_and_huge_inputs_do_not_blow_up() {
    let mut deep = String::from(
        "export async function f(client) {\n  await client.query('UPDATE t SET v = 1 WHERE id = 1');\n  await client.query('SELECT 1 FROM t WHERE x = ' + ",
    );
    for _ in 0..10_000 {
        deep.push_str("'a' + ");
    }
    deep.push_str("'b');\n  const x = ");
    for _ in 0..10_000 {
        deep.push('(');
    }
    deep.push('1');
    for _ in 0..10_000 {
        deep.push(')');
    }
    deep.push_str(";\n  const y = ");
    for _ in 0..10_000 {
        deep.push_str("g(");
    }
    deep.push('1');
    for _ in 0..10_000 {
        deep.push(')');
    }
    deep.push_str(";\n  for (const q of ids");
    for _ in 0..10_000 {
        deep.push_str(".slice()");
    }
    deep.push_str(") {}\n}\n");
    let mut nested = String::from("async function h(client, x) {\n");
    for _ in 0..2_000 {
        nested.push_str("if (x) {\n");
    }
    nested.push_str("await client.query('UPDATE t SET v = 1 WHERE id = 1');\n");
    for _ in 0..2_000 {
        nested.push_str("}\n");
    }
    nested.push_str("}\n");
    let mut arrows = String::from("const k = ");
    for _ in 0..5_000 {
        arrows.push_str("() => ");
    }
    arrows.push_str("1;\n");
    let ext = run(&files(&[
        ("deep.ts", &deep),
        ("nested.js", &nested),
        ("arrows.js", &arrows),
    ]));
    // Whatever is lowered, nothing overflows; the shallow statement is found (the SQL built by
    // 10,000 concatenations and the statement under 2,000 `if`s are beyond the bound).
    let found: Vec<String> = ext
        .statements
        .iter()
        .map(|s| s.location.to_string())
        .collect();
    assert_eq!(found, ["deep.ts:2"], "{}", render(&ext));
}

#[test]
fn syntax_errors_skip_the_file() {
    let ext = run(&files(&[
        ("broken.ts", "export function f( {\n"),
        (
            "ok.js",
            "async function g(c) { await c.query('DELETE FROM t WHERE id = 1'); }\n",
        ),
    ]));
    assert_eq!(ext.warnings.len(), 1, "{:?}", ext.warnings);
    assert!(ext.warnings[0].starts_with("broken.ts:1: TypeScript syntax error"));
    assert_eq!(ext.transactions.len(), 1);
}

#[test]
fn generated_corpus_extracts_cleanly() {
    let files = common::generated(gen_js::generate(1_000));
    let (_, app0) = common::run_generated(&files, |t| t.locks.len().to_string());
    insta::assert_snapshot!(app0.join("\n"));
}
