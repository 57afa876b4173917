//! Writes a tree of realistic Python service code for benchmarking the source front-end.
//!
//! ```text
//! cargo run --release -p lockgraph_source --example gen_python -- <out-dir> [lines]
//! ```
//!
//! Each generated app (`app<N>/`) has Django models, an asyncpg repository, services that call
//! it across files inside transactions (with branches and loops), psycopg2 batch code with
//! `commit()`, SQLAlchemy session code and plain helper code, about 300 lines in all.

use std::fmt::Write as _;

#[path = "common/mod.rs"]
mod common;

/// Generated files: (display path, text), about `lines` lines in total.
pub fn generate(lines: usize) -> Vec<(String, String)> {
    common::generate(lines, app_files)
}

fn app_files(n: usize) -> Vec<(String, String)> {
    let a = format!("app{n}");
    let t1 = format!("{a}_account");
    let t2 = format!("{a}_ledger");
    let mut models = String::new();
    let _ = write!(
        models,
        r#"from django.db import models


class Account(models.Model):
    owner = models.CharField(max_length=100)
    number = models.CharField(max_length=20, unique=True)
    balance = models.DecimalField(max_digits=12, decimal_places=2)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{{self.owner}} ({{self.number}})"


class Ledger(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.TextField(null=True)

    class Meta:
        db_table = "{t2}"
"#
    );
    let mut repo = String::new();
    let _ = write!(
        repo,
        r#"LOCK_ACCOUNT = "SELECT * FROM {t1} WHERE id = $1 FOR UPDATE"


class AccountRepo:
    def __init__(self, schema="public"):
        self.schema = schema

    async def lock(self, conn, account_id):
        return await conn.fetchrow(LOCK_ACCOUNT, account_id)

    async def debit(self, conn, account_id, amount):
        await conn.execute(
            "UPDATE {t1} SET balance = balance - $2 WHERE id = $1", account_id, amount
        )

    async def credit(self, conn, account_id, amount):
        await conn.execute(
            "UPDATE {t1} SET balance = balance + $2 WHERE id = $1", account_id, amount
        )

    async def record(self, conn, account_id, amount, note=None):
        await conn.execute(
            "INSERT INTO {t2} (account_id, amount, note) VALUES ($1, $2, $3)",
            account_id,
            amount,
            note,
        )

    async def history(self, conn, account_id, limit=50):
        rows = await conn.fetch(
            "SELECT * FROM {t2} WHERE account_id = $1 ORDER BY id DESC LIMIT $2",
            account_id,
            limit,
        )
        return [dict(r) for r in rows]


accounts = AccountRepo()
"#
    );
    let mut service = String::new();
    let _ = write!(
        service,
        r#"import logging

from {a}.repo import accounts
from {a} import util

log = logging.getLogger(__name__)


async def transfer(pool, src, dst, amount):
    if amount <= 0:
        raise ValueError("amount must be positive")
    async with pool.acquire() as conn:
        async with conn.transaction():
            first, second = sorted([src, dst])
            await accounts.lock(conn, first)
            await accounts.lock(conn, second)
            await accounts.debit(conn, src, amount)
            await accounts.credit(conn, dst, amount)
            await accounts.record(conn, src, -amount, util.describe(src, dst))
            await accounts.record(conn, dst, amount)
    log.info("transfer %s -> %s: %s", src, dst, amount)


async def settle(pool, account_id, entries):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await accounts.lock(conn, account_id)
            for entry in entries:
                if entry["amount"] > 0:
                    await accounts.credit(conn, account_id, entry["amount"])
                else:
                    await accounts.debit(conn, account_id, -entry["amount"])
            await accounts.record(conn, account_id, sum(e["amount"] for e in entries))


async def statement(pool, account_id):
    async with pool.acquire() as conn:
        rows = await accounts.history(conn, account_id)
    return util.render(rows)
"#
    );
    let mut legacy = String::new();
    let _ = write!(
        legacy,
        r#"import psycopg2

ARCHIVE = "UPDATE {t2} SET note = 'archived' WHERE id = %s"


def archive(conn, ids):
    cur = conn.cursor()
    for ledger_id in ids:
        cur.execute(ARCHIVE, (ledger_id,))
    conn.commit()


def close_account(conn, account_id, reason):
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM {t1} WHERE id = %(id)s FOR UPDATE", {{"id": account_id}})
            cur.execute(
                "UPDATE {t1} SET balance = 0 WHERE id = %(id)s",
                {{"id": account_id}},
            )
            try:
                cur.execute("DELETE FROM {t2} WHERE account_id = %s", (account_id,))
            except psycopg2.Error:
                conn.rollback()
                raise


def report(conn, since):
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM {t2} WHERE id > %s", (since,))
    (count,) = cur.fetchone()
    return {{"count": count, "since": since}}
"#
    );
    let mut views = String::new();
    let _ = write!(
        views,
        r#"from django.db import transaction
from django.db.models import F

from .models import Account, Ledger


@transaction.atomic
def deposit(account_id, amount):
    account = Account.objects.select_for_update().get(pk=account_id)
    account.balance = account.balance + amount
    account.save(update_fields=["balance"])
    Ledger.objects.create(account_id=account_id, amount=amount)


def bulk_fee(account_ids, fee):
    with transaction.atomic():
        for account_id in account_ids:
            Account.objects.filter(pk=account_id).update(balance=F("balance") - fee)


def rename(account_id, owner):
    Account.objects.filter(pk=account_id).update(owner=owner)
"#
    );
    let mut util = String::new();
    let _ = write!(
        util,
        r#"import datetime
import json


def describe(src, dst):
    return "transfer from {{}} to {{}}".format(src, dst)


def render(rows):
    lines = []
    for row in rows:
        when = row.get("created") or datetime.datetime.now()
        lines.append(f"{{when:%Y-%m-%d}} {{row['amount']:>12}} {{row.get('note') or ''}}")
    return "\n".join(lines)


def totals(rows):
    out = {{}}
    for row in rows:
        out[row["account_id"]] = out.get(row["account_id"], 0) + row["amount"]
    return {{k: v for k, v in sorted(out.items()) if v}}


class Formatter:
    def __init__(self, width=80):
        self.width = width

    def line(self, text):
        if len(text) > self.width:
            return text[: self.width - 3] + "..."
        return text.ljust(self.width)

    def table(self, rows):
        header = self.line(" | ".join(rows[0].keys())) if rows else ""
        body = [self.line(" | ".join(str(v) for v in r.values())) for r in rows]
        return "\n".join([header, *body])


def dump(obj):
    return json.dumps(obj, indent=2, sort_keys=True, default=str)
"#
    );
    vec![
        (format!("{a}/models.py"), models),
        (format!("{a}/repo.py"), repo),
        (format!("{a}/service.py"), service),
        (format!("{a}/legacy.py"), legacy),
        (format!("{a}/views.py"), views),
        (format!("{a}/util.py"), util),
    ]
}

fn main() {
    common::main("gen_python", generate);
}
