//! Behaviour of the extractor on small inputs: scopes, paths, loops, bounds, bad input.

mod common;

use common::{files, lock_list, ordered_flags, render, run, table_order};
use lockgraph_core::{DiagnosticKind, ReferentialAction, RelationName, TransactionKind};
use lockgraph_source::{SourceOptions, extract, model_schema};

#[test]
fn a_syntax_error_skips_its_function_with_a_warning() {
    let ext = run(&files(&[
        (
            "broken.py",
            "def f(conn):\n    conn.execute('UPDATE a SET x = 1') = )\n\n\n\
             def h(cur):\n    cur.execute('UPDATE c SET x = 1 WHERE id = %s', (1,))\n",
        ),
        (
            "ok.py",
            "def g(cur):\n    cur.execute('UPDATE b SET x = 1 WHERE id = %s', (1,))\n",
        ),
    ]));
    assert_eq!(ext.warnings.len(), 1, "{:?}", ext.warnings);
    assert_eq!(
        ext.warnings[0],
        "broken.py:2: Python syntax error (unexpected input); lines 1–2 skipped, the rest of the file analysed"
    );
    let names: Vec<&str> = ext.transactions.iter().map(|t| &*t.name).collect();
    assert_eq!(names, ["broken.h (broken.py:6)", "ok.g (ok.py:2)"]);
    assert!(
        ext.transactions
            .iter()
            .all(|t| t.kind == TransactionKind::Autocommit)
    );
}

/// Found by fuzzing: a mangled Kotlin file sent tree-sitter's error recovery into exponential
/// time (134 s for 1.3 KB). The parse is now bounded in steps: the file is skipped
/// with a warning, at once.
#[test]
fn a_parse_whose_error_recovery_explodes_is_given_up() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../lockgraph_fuzz/regressions/java/kotlin-error-recovery-timeout"
    ))
    .unwrap();
    // The fuzz target's first byte picks the language (1: Kotlin).
    let text = String::from_utf8_lossy(&input[1..]).into_owned();
    let ext = run(&files(&[("Jobs.kt", text.as_str())]));
    assert_eq!(ext.warnings.len(), 1, "{:?}", ext.warnings);
    assert!(
        ext.warnings[0].starts_with("Jobs.kt:1: the Kotlin parser gave up"),
        "{}",
        ext.warnings[0]
    );
}

#[test]
fn dynamic_table_name_is_a_diagnostic_and_no_statement() {
    let src = r#"
def purge(cur, table, day):
    cur.execute(f"DELETE FROM {table} WHERE day = %s", (day,))
    cur.execute("UPDATE audit_%s SET n = 1" % day)
    cur.execute("DELETE FROM log WHERE day = {}".format(day))
"#;
    let ext = run(&files(&[("jobs.py", src)]));
    let dyn_lines: Vec<u32> = ext
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::DynamicRelation)
        .map(|d| d.location.line)
        .collect();
    assert_eq!(dyn_lines, [3, 4], "{}", render(&ext));
    assert_eq!(ext.statements.len(), 1);
    assert_eq!(&*ext.statements[0].text, "DELETE FROM log WHERE day = $1");
}

#[test]
fn placeholders_and_constants() {
    let src = r#"
from queries import LOCK_USER

BASE = "UPDATE users SET seen = now()"

def touch(cur, uid, name):
    cur.execute(BASE + " WHERE id = %(uid)s AND name = %(n)s OR id = %(uid)s", {"uid": uid})
    cur.execute(LOCK_USER, (uid,))
    cur.execute("SELECT * FROM users WHERE id = ?", (uid,))
"#;
    let queries = "LOCK_USER = 'SELECT * FROM users WHERE id = :id FOR UPDATE'\n";
    let ext = run(&files(&[("svc.py", src), ("queries.py", queries)]));
    let texts: Vec<&str> = ext.statements.iter().map(|s| &*s.text).collect();
    assert_eq!(
        texts,
        [
            "UPDATE users SET seen = now() WHERE id = $1 AND name = $2 OR id = $1",
            "SELECT * FROM users WHERE id = $1 FOR UPDATE",
            "SELECT * FROM users WHERE id = $1",
        ]
    );
}

#[test]
fn branches_become_alternative_paths() {
    let src = r#"
from django.db import transaction

def settle(order, refund):
    with transaction.atomic():
        if refund:
            cursor.execute("UPDATE refunds SET done = true WHERE id = %s", [order])
        elif order:
            cursor.execute("UPDATE orders SET done = true WHERE id = %s", [order])
        else:
            pass
        try:
            cursor.execute("UPDATE ledger SET n = n + 1 WHERE id = %s", [order])
        except Exception:
            cursor.execute("UPDATE ledger SET n = n + 1 WHERE id = %s", [order])
        cursor.execute("UPDATE audit SET n = 1 WHERE id = 1")
"#;
    let ext = run(&files(&[("pay.py", src)]));
    let names: Vec<&str> = ext.transactions.iter().map(|t| &*t.name).collect();
    assert_eq!(
        names,
        [
            "pay.settle (pay.py:5) path 1/3",
            "pay.settle (pay.py:5) path 2/3",
            "pay.settle (pay.py:5) path 3/3",
        ],
        "{}",
        render(&ext)
    );
    let orders: Vec<Vec<String>> = ext.transactions.iter().map(table_order).collect();
    assert!(orders.contains(&vec!["refunds".into(), "ledger".into(), "audit".into()]));
    assert!(orders.contains(&vec!["orders".into(), "ledger".into(), "audit".into()]));
    assert!(orders.contains(&vec!["ledger".into(), "audit".into()]));
}

#[test]
fn max_paths_bounds_alternatives() {
    let mut src = String::from("def f(conn, x):\n    with conn.transaction():\n");
    for i in 0..10 {
        src.push_str(&format!(
            "        if x == {i}:\n            conn.execute('UPDATE t{i} SET v = 1 WHERE id = 1')\n"
        ));
    }
    let fs = files(&[("many.py", &src)]);
    let opts = SourceOptions {
        max_paths: 4,
        ..SourceOptions::default()
    };
    let ext = extract(&fs, &model_schema(&fs), &opts);
    assert!(!ext.transactions.is_empty());
    assert!(ext.transactions.len() <= 4, "{}", ext.transactions.len());
}

#[test]
fn loops_mark_locks_repeated() {
    let src = r#"
async def bump_all(conn, ids):
    async with conn.transaction():
        await conn.execute("UPDATE config SET v = 1 WHERE id = 1")
        for i in ids:
            await conn.execute("UPDATE counters SET n = n + 1 WHERE id = $1", i)
        await conn.executemany("UPDATE tags SET n = 0 WHERE id = $1", [(i,) for i in ids])
"#;
    let ext = run(&files(&[("loop.py", src)]));
    assert_eq!(ext.transactions.len(), 1);
    assert_eq!(
        lock_list(&ext.transactions[0]),
        [
            "config ROW EXCLUSIVE",
            "config rows (id = 1) FOR NO KEY UPDATE",
            "counters ROW EXCLUSIVE *",
            "counters rows (id = $1) FOR NO KEY UPDATE *",
            "tags ROW EXCLUSIVE *",
            "tags rows (id = $1) FOR NO KEY UPDATE *",
        ]
    );
}

#[test]
fn decorator_scopes_with_and_without_parentheses() {
    let src = r#"
from django.db import transaction
from django.db.transaction import atomic

@transaction.atomic
def one():
    cursor.execute("UPDATE a SET v = 1 WHERE id = 1")
    cursor.execute("UPDATE b SET v = 1 WHERE id = 1")

@transaction.atomic()
def two():
    cursor.execute("UPDATE a SET v = 1 WHERE id = 1")

@atomic
def three():
    cursor.execute("UPDATE b SET v = 1 WHERE id = 1")
"#;
    let ext = run(&files(&[("deco.py", src)]));
    let got: Vec<(&str, TransactionKind, usize)> = ext
        .transactions
        .iter()
        .map(|t| (&*t.name, t.kind, t.statements.len()))
        .collect();
    assert_eq!(
        got,
        [
            ("deco.one (deco.py:5)", TransactionKind::Explicit, 2),
            ("deco.two (deco.py:10)", TransactionKind::Explicit, 1),
            ("deco.three (deco.py:14)", TransactionKind::Explicit, 1),
        ]
    );
}

#[test]
fn commit_splits_implicit_transactions() {
    let src = r#"
def nightly(conn):
    cur = conn.cursor()
    cur.execute("UPDATE a SET v = 1 WHERE id = 1")
    cur.execute("UPDATE b SET v = 1 WHERE id = 1")
    conn.commit()
    cur.execute("UPDATE c SET v = 1 WHERE id = 1")
    conn.commit()
    cur.execute("BEGIN")
    cur.execute("UPDATE d SET v = 1 WHERE id = 1")
    cur.execute("ROLLBACK")
"#;
    let ext = run(&files(&[("batch.py", src)]));
    let got: Vec<(String, Vec<String>)> = ext
        .transactions
        .iter()
        .map(|t| (t.location.to_string(), table_order(t)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "batch.py:4".to_string(),
                vec!["a".to_string(), "b".to_string()]
            ),
            ("batch.py:7".to_string(), vec!["c".to_string()]),
            ("batch.py:9".to_string(), vec!["d".to_string()]),
        ],
        "{}",
        render(&ext)
    );
}

#[test]
fn autocommit_outside_scopes_and_helpers_only_through_entry_points() {
    let src = r#"
async def helper(conn):
    await conn.execute("UPDATE a SET v = 1 WHERE id = 1")

async def handler(conn):
    await helper(conn)
    await conn.execute("UPDATE b SET v = 1 WHERE id = 1")

async def other_handler(conn):
    await helper(conn)
"#;
    let ext = run(&files(&[("h.py", src)]));
    let got: Vec<(&str, TransactionKind)> = ext
        .transactions
        .iter()
        .map(|t| (&*t.name, t.kind))
        .collect();
    assert_eq!(
        got,
        [
            ("h.helper (h.py:3)", TransactionKind::Autocommit),
            ("h.handler (h.py:7)", TransactionKind::Autocommit),
        ]
    );
}

#[test]
fn recursion_is_cut_off_and_call_depth_is_bounded() {
    let src = r#"
def walk(conn, n):
    conn.execute("UPDATE nodes SET v = 1 WHERE id = %s", (n,))
    walk(conn, n - 1)
    ping(conn, n)

def ping(conn, n):
    pong(conn, n)

def pong(conn, n):
    ping(conn, n)
    conn.execute("UPDATE pongs SET v = 1 WHERE id = 1")

def run_all(conn):
    with conn.transaction():
        walk(conn, 10)
"#;
    let ext = run(&files(&[("rec.py", src)]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    assert_eq!(table_order(&ext.transactions[0]), ["nodes", "pongs"]);

    // A chain of calls deeper than the bound: the deepest SQL is not reached.
    let mut chain =
        String::from("def top(conn):\n    with conn.transaction():\n        f0(conn)\n");
    for i in 0..12 {
        chain.push_str(&format!("def f{i}(conn):\n    f{}(conn)\n", i + 1));
    }
    chain.push_str("def f12(conn):\n    conn.execute('UPDATE deep SET v = 1 WHERE id = 1')\n");
    let fs = files(&[("deep.py", &chain)]);
    let shallow = extract(&fs, &model_schema(&fs), &SourceOptions::default());
    assert!(shallow.transactions.is_empty(), "{}", render(&shallow));
    let opts = SourceOptions {
        max_call_depth: 20,
        ..SourceOptions::default()
    };
    let deep = extract(&fs, &model_schema(&fs), &opts);
    assert_eq!(deep.transactions.len(), 1);
}

#[test]
fn methods_self_calls_and_module_instances() {
    let repo = r#"
class Repo:
    def __init__(self, conn):
        self.conn = conn

    def lock(self, id):
        self.conn.execute("SELECT * FROM jobs WHERE id = %s FOR UPDATE", (id,))

    def finish(self, id):
        self.lock(id)
        self.conn.execute("UPDATE jobs SET done = true WHERE id = %s", (id,))
"#;
    let svc = r#"
import app.repo as r
from app.repo import Repo


class Worker:
    def __init__(self, conn):
        self.repo = Repo(conn)

    def run(self, conn, id):
        with conn.transaction():
            self.repo.finish(id)
            audit(conn)


def audit(conn):
    conn.execute("INSERT INTO audit (what) VALUES ('done')")
"#;
    let ext = run(&files(&[("app/repo.py", repo), ("app/worker.py", svc)]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let t = &ext.transactions[0];
    assert_eq!(&*t.name, "Worker.run (app/worker.py:11)");
    assert_eq!(table_order(t), ["jobs", "jobs", "audit"]);
}

#[test]
fn suppression_comments() {
    let src = r##"
def f(cur):
    cur.execute("UPDATE a SET v = 1")  # lockgraph: ignore[LG101, lg103] known, fixed in #42
    # lockgraph: ignore
    # another comment

    cur.execute("UPDATE b SET v = 1")
    s = "# lockgraph: ignore[LG999] not a comment"
"##;
    let ext = run(&files(&[("s.py", src)]));
    assert_eq!(ext.suppressions.len(), 2);
    let a = &ext.suppressions[0];
    assert_eq!(a.comment.to_string(), "s.py:3");
    assert_eq!(a.target.line, 3);
    assert_eq!(a.codes, ["LG101", "lg103"]);
    assert!(a.covers("LG103", "unordered-row-locks"));
    assert_eq!(a.reason.as_deref(), Some("known, fixed in #42"));
    let b = &ext.suppressions[1];
    assert_eq!((b.comment.line, b.target.line), (4, 7));
    assert!(b.codes.is_empty() && b.reason.is_none());
}

#[test]
fn model_schema_reads_django_and_sqlalchemy() {
    let django = r#"
from django.db import models

class Customer(models.Model):
    email = models.EmailField(unique=True)

class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    note = models.TextField(null=True)

class Profile(models.Model):
    customer = models.OneToOneField("shop.Customer", on_delete=models.SET_NULL, null=True)
    class Meta:
        db_table = "profiles"
"#;
    let sqla = r#"
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

class Invoice(Base):
    __tablename__ = "invoices"
    id = Column(Integer, primary_key=True)
    number = Column(String(20), unique=True, nullable=False)

class Line(Base):
    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
"#;
    let schema = model_schema(&files(&[
        ("shop/models.py", django),
        ("billing/db.py", sqla),
    ]));
    let names: Vec<&str> = schema.tables.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "invoice_lines",
            "invoices",
            "profiles",
            "shop_customer",
            "shop_order"
        ]
    );
    let order = &schema.tables[&RelationName::new("shop_order")];
    assert_eq!(order.primary_key, vec!["id".into()]);
    assert_eq!(order.foreign_keys[0].columns, vec!["customer_id".into()]);
    assert_eq!(order.foreign_keys[0].parent.as_str(), "shop_customer");
    assert_eq!(order.foreign_keys[0].on_delete, ReferentialAction::Cascade);
    let customer = &schema.tables[&RelationName::new("shop_customer")];
    assert!(customer.is_key_column("email"));
    let profile = &schema.tables[&RelationName::new("profiles")];
    assert_eq!(
        profile.foreign_keys[0].on_delete,
        ReferentialAction::SetNull
    );
    assert!(profile.is_key_column("customer_id"));
    let line = &schema.tables[&RelationName::new("invoice_lines")];
    assert_eq!(line.foreign_keys[0].parent.as_str(), "invoices");
    assert_eq!(line.foreign_keys[0].on_delete, ReferentialAction::Restrict);
    let inv = &schema.tables[&RelationName::new("invoices")];
    assert!(inv.is_key_column("number"));
}

#[test]
fn django_orm_calls_synthesise_sql() {
    let models = r#"
from django.db import models

class Account(models.Model):
    number = models.CharField(max_length=20, unique=True)
    balance = models.IntegerField()
"#;
    let views = r#"
from django.db import transaction
from django.db.models import F
from bank.models import Account

def ops(a, b, ids):
    with transaction.atomic():
        Account.objects.select_for_update(no_key=True, skip_locked=True).get(pk=a)
        Account.objects.select_for_update(of=("self",), nowait=True).filter(id__in=ids).first()
        Account.objects.filter(number=b).update(balance=F("balance") - 1)
        acct, created = Account.objects.get_or_create(number=b, defaults={"balance": 0})
        Account.objects.update_or_create(number=b, defaults={"balance": 1})
        new = Account(number=b, balance=0)
        new.save()
        Account.objects.create(number=b, balance=5)
        Account.objects.filter(balance__lt=0).delete()
"#;
    let ext = run(&files(&[
        ("bank/models.py", models),
        ("bank/views.py", views),
    ]));
    let texts: Vec<&str> = ext.statements.iter().map(|s| &*s.text).collect();
    assert_eq!(
        texts,
        [
            "SELECT * FROM bank_account WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED",
            "SELECT * FROM bank_account WHERE id = ANY($2) FOR UPDATE OF bank_account NOWAIT",
            "UPDATE bank_account SET balance = balance - $4 WHERE number = $3",
            "SELECT * FROM bank_account WHERE number = $3",
            "INSERT INTO bank_account (number, balance) VALUES ($3, $4)",
            "SELECT * FROM bank_account WHERE number = $3 FOR UPDATE",
            "UPDATE bank_account SET balance = $4 WHERE id = $5",
            "INSERT INTO bank_account (number, balance) VALUES ($3, $4)",
            "INSERT INTO bank_account (number, balance) VALUES ($3, $4)",
            "DELETE FROM bank_account WHERE balance < $4",
        ],
        "{}",
        render(&ext)
    );
    assert!(ext.diagnostics.is_empty(), "{:?}", ext.diagnostics);
}

#[test]
fn huge_and_deep_inputs_do_not_blow_up() {
    let mut deep = String::from("def f(cur):\n    cur.execute('SELECT 1 FROM t WHERE x = ' + ");
    for _ in 0..20_000 {
        deep.push_str("'a' + ");
    }
    deep.push_str("'b')\n    x = ");
    for _ in 0..5_000 {
        deep.push('(');
    }
    deep.push('1');
    for _ in 0..5_000 {
        deep.push(')');
    }
    deep.push('\n');
    let mut nested = String::from("def g(cur):\n");
    for d in 0..400 {
        nested.push_str(&"    ".repeat(d + 1));
        nested.push_str("if x:\n");
    }
    nested.push_str(&"    ".repeat(401));
    nested.push_str("cur.execute('UPDATE a SET v = 1')\n");
    let ext = run(&files(&[("deep.py", &deep), ("nested.py", &nested)]));
    assert!(ext.warnings.is_empty(), "{:?}", ext.warnings);
}

#[test]
fn same_model_name_in_two_apps_resolves_to_the_closest() {
    let models = |app: &str| {
        format!(
            "from django.db import models\n\n\nclass Account(models.Model):\n    balance = models.IntegerField()\n\n\nclass Entry(models.Model):\n    account = models.ForeignKey(Account, on_delete=models.CASCADE)\n    # {app}\n"
        )
    };
    let view = "\
from django.db import transaction
from .models import Account, Entry


@transaction.atomic
def pay(account_id):
    Account.objects.select_for_update().get(pk=account_id)
    Entry.objects.create(account_id=account_id)
";
    let (billing, crm) = (models("billing"), models("crm"));
    let fs = files(&[
        ("billing/models.py", &billing),
        ("billing/views.py", view),
        ("crm/models.py", &crm),
        ("crm/views.py", view),
    ]);
    let schema = lockgraph_source::model_schema(&fs);
    let ext = lockgraph_source::extract(&fs, &schema, &Default::default());
    for app in ["billing", "crm"] {
        let t = ext
            .transactions
            .iter()
            .find(|t| t.location.path.starts_with(app))
            .unwrap_or_else(|| panic!("{app}: {}", render(&ext)));
        let tables: Vec<String> = table_order(t);
        assert!(
            tables.iter().all(|r| r.starts_with(app)),
            "{app} uses its own models: {tables:?}"
        );
    }
    // Each app's foreign key points at its own parent table.
    let fk = &schema
        .table(&lockgraph_core::RelationName::parse("crm_entry"))
        .expect("crm_entry")
        .foreign_keys[0];
    assert_eq!(fk.parent.as_str(), "crm_account");
}

/// Statement texts of `src` (one file), in line order.
fn texts(src: &str) -> Vec<String> {
    common::texts(&run(&files(&[("app.py", src)])))
}

#[test]
fn raw_placeholders_are_numbered_by_argument_expression() {
    // asyncpg: `$n` is the n-th argument after the SQL.
    let src = r#"
async def transfer(conn, src, dst, amount):
    await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
    await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
    await conn.fetchrow("SELECT * FROM accounts WHERE id = $1", src)
    await conn.execute("UPDATE accounts SET n = 0 WHERE id = $1", 7)
"#;
    assert_eq!(
        texts(src),
        [
            "UPDATE accounts SET balance = balance - $1 WHERE id = $2",
            "UPDATE accounts SET balance = balance + $1 WHERE id = $3",
            "SELECT * FROM accounts WHERE id = $2",
            "UPDATE accounts SET n = 0 WHERE id = 7",
        ]
    );
    // psycopg / Django: a tuple or list for `%s`, a dict for `%(name)s`; literals are inlined.
    let src = r#"
def move(cur, a, b, row):
    cur.execute("UPDATE t SET v = %s WHERE id = %s", (row.v, a))
    cur.execute("UPDATE t SET v = %s WHERE id = %s", [row.v, b])
    cur.execute("UPDATE t SET v = %(v)s WHERE id = %(id)s", {"id": b, "v": "it's"})
    cur.execute("UPDATE t SET v = %s WHERE id = %s", (None, 3))
"#;
    assert_eq!(
        texts(src),
        [
            "UPDATE t SET v = $1 WHERE id = $2",
            "UPDATE t SET v = $1 WHERE id = $3",
            "UPDATE t SET v = 'it''s' WHERE id = $3",
            "UPDATE t SET v = NULL WHERE id = 3",
        ]
    );
    // SQLAlchemy `text()`: a dict, `params=`, or `.bindparams(…)`; shared with the ORM numbering.
    let src = r#"
from sqlalchemy import select, text

def pay(session, wallet_id, other):
    session.execute(select(Wallet).where(Wallet.id == other).with_for_update())
    session.execute(text("UPDATE wallets SET n = n + 1 WHERE id = :id"), {"id": wallet_id})
    session.execute(text("UPDATE wallets SET n = n + 1 WHERE id = :id").bindparams(id=other))
    session.execute(text("UPDATE wallets SET n = 1 WHERE id = :id"), params=dict(id=wallet_id))
"#;
    assert_eq!(
        texts(src),
        [
            "SELECT * FROM wallet WHERE id = $1 FOR UPDATE",
            "UPDATE wallets SET n = n + 1 WHERE id = $2",
            "UPDATE wallets SET n = n + 1 WHERE id = $1",
            "UPDATE wallets SET n = 1 WHERE id = $2",
        ]
    );
    // Arguments not visible at the call: numbered per statement, as written.
    let src = r#"
def f(cur, params, x, rows):
    cur.execute("UPDATE t SET v = 1 WHERE id = %s", params)
    cur.execute("UPDATE t SET v = %s WHERE id = %s", (*rows,))
    cur.executemany("UPDATE t SET v = %s WHERE id = %s", rows)
    cur.execute(f"UPDATE t SET v = {x} WHERE id = %(id)s", {"id": x})
"#;
    assert_eq!(
        texts(src),
        [
            "UPDATE t SET v = 1 WHERE id = $1",
            "UPDATE t SET v = $1 WHERE id = $2",
            "UPDATE t SET v = $1 WHERE id = $2",
            "UPDATE t SET v = $2 WHERE id = $1",
        ]
    );
}

#[test]
fn asyncpg_transfer_with_swapped_ids_is_unordered_row_locks() {
    let src = r#"
async def transfer(pool, src, dst, amount):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
            await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, dst)
"#;
    let fs = files(&[("bank.py", src)]);
    let ext = run(&fs);
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let tx = &ext.transactions[0];
    let rows: Vec<_> = tx.locks.iter().filter_map(|l| l.target.key()).collect();
    assert_eq!(rows.len(), 2, "{}", render(&ext));
    assert_ne!(rows[0], rows[1]);
    assert!(rows.iter().all(|k| k.single_row && !k.ordered));
    let codes = common::finding_codes(&ext, &model_schema(&fs));
    assert!(codes.contains(&"LG103".to_string()), "{codes:?}");
}

const ITEM_MODEL: &str = r#"
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    qty = Column(Integer, nullable=False)
"#;

#[test]
fn sqlalchemy_async_results_give_the_loaded_object() {
    for (name, load) in [
        (
            "result variable",
            "result = await session.execute(select(Item).where(Item.id == item_id).with_for_update(read=True))\n            item = result.scalar_one()",
        ),
        (
            "awaited in parentheses",
            "item = (await session.execute(select(Item).where(Item.id == item_id).with_for_update(read=True))).scalar_one()",
        ),
        (
            "scalars().first()",
            "item = (await session.execute(select(Item).where(Item.id == item_id).with_for_update(read=True))).scalars().first()",
        ),
        (
            "scalar_one_or_none()",
            "result = await session.execute(select(Item).where(Item.id == item_id).with_for_update(read=True))\n            item = result.scalar_one_or_none()",
        ),
    ] {
        let src = format!(
            "from sqlalchemy import select\nfrom shop.models import Item\n\n\
             async def bump(session, item_id):\n    async with session.begin():\n            \
             {load}\n            item.qty += 1\n"
        );
        let fs = files(&[("shop/models.py", ITEM_MODEL), ("shop/stock.py", &src)]);
        let ext = run(&fs);
        assert_eq!(ext.transactions.len(), 1, "{name}: {}", render(&ext));
        assert_eq!(
            lock_list(&ext.transactions[0]),
            [
                "items ROW SHARE",
                "items rows (id = $1) FOR SHARE",
                "items ROW EXCLUSIVE",
                "items rows (id = $1) FOR NO KEY UPDATE",
            ],
            "{name}: {}",
            render(&ext)
        );
        let codes = common::finding_codes(&ext, &model_schema(&fs));
        assert!(codes.contains(&"LG102".to_string()), "{name}: {codes:?}");
    }
}

#[test]
fn locks_over_sorted_keys_are_ordered() {
    // A loop over `sorted(…)`, over a list sorted earlier, or over a list `.sort()`ed.
    for iter in ["sorted(ids)", "keys", "sorted_later"] {
        let src = format!(
            r#"
async def bump(conn, ids):
    keys = sorted(set(ids))
    sorted_later = list(ids)
    sorted_later.sort()
    async with conn.transaction():
        for k in {iter}:
            await conn.execute("UPDATE counters SET n = n + 1 WHERE id = $1", k)
"#
        );
        assert_eq!(
            ordered_flags("app.py", &src),
            [[("counters rows (id = $1)".to_string(), true)]],
            "{iter}"
        );
    }
    // Not sorted: not ordered.
    let src = r#"
async def bump(conn, ids):
    async with conn.transaction():
        for k in ids:
            await conn.execute("UPDATE counters SET n = n + 1 WHERE id = $1", k)
"#;
    assert_eq!(
        ordered_flags("app.py", src),
        [[("counters rows (id = $1)".to_string(), false)]]
    );
}

#[test]
fn sorted_pairs_lock_in_key_order() {
    for pair in [
        "first, second = sorted([src, dst])",
        "first, second = min(src, dst), max(src, dst)",
    ] {
        let src = format!(
            r#"
async def transfer(conn, src, dst, amount):
    {pair}
    async with conn.transaction():
        await conn.execute("SELECT * FROM accounts WHERE id = $1 FOR UPDATE", first)
        await conn.execute("SELECT * FROM accounts WHERE id = $1 FOR UPDATE", second)
        await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, src)
"#
        );
        let flags = ordered_flags("app.py", &src);
        assert_eq!(flags.len(), 1, "{pair}");
        let got: Vec<(&str, bool)> = flags[0].iter().map(|(t, o)| (t.as_str(), *o)).collect();
        assert_eq!(
            got,
            [
                ("accounts rows (id = $1)", true),
                ("accounts rows (id = $2)", true),
                ("accounts rows (id = $4)", false),
            ],
            "{pair}"
        );
    }
}

#[test]
fn django_loop_over_ordered_queryset_saves_in_key_order() {
    let models = r#"
from django.db import models


class Seat(models.Model):
    taken = models.BooleanField(default=False)
"#;
    let src = r#"
from django.db import transaction
from booking.models import Seat

def take(ids):
    with transaction.atomic():
        for seat in Seat.objects.filter(id__in=ids).order_by("id"):
            seat.taken = True
            seat.save()
"#;
    let ext = run(&files(&[
        ("booking/models.py", models),
        ("booking/views.py", src),
    ]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let keys: Vec<_> = ext.transactions[0]
        .locks
        .iter()
        .filter_map(|l| l.target.key())
        .collect();
    assert!(!keys.is_empty(), "{}", render(&ext));
    assert!(keys.iter().all(|k| k.ordered), "{}", render(&ext));
}

/// A transaction scope inside a loop is one transaction per iteration: its statements are not
/// `repeated` (only a loop inside the transaction repeats them).
#[test]
fn a_transaction_per_loop_iteration_does_not_repeat_its_locks() {
    let src = r#"
async def settle_all(pool, ids):
    for id in ids:
        async with pool.acquire() as conn:
            async with conn.transaction():
                await conn.execute("UPDATE accounts SET n = n + 1 WHERE id = $1", id)
                for e in entries:
                    await conn.execute("UPDATE ledger SET done = true WHERE id = $1", e)
"#;
    let ext = run(&files(&[("jobs.py", src)]));
    assert_eq!(ext.transactions.len(), 1, "{}", render(&ext));
    let locks = lock_list(&ext.transactions[0]);
    assert!(
        locks
            .iter()
            .any(|l| l.starts_with("accounts rows") && !l.ends_with('*')),
        "{locks:?}"
    );
    assert!(
        locks
            .iter()
            .any(|l| l.starts_with("ledger rows") && l.ends_with('*')),
        "{locks:?}"
    );
}
