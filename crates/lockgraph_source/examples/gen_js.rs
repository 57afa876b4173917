//! Writes a tree of realistic TypeScript/JavaScript service code for benchmarking the source
//! front-end.
//!
//! ```text
//! cargo run --release -p lockgraph_source --example gen_js -- <out-dir> [lines]
//! ```
//!
//! Each generated app (`app<N>/`) has a node-postgres repository (functions and string
//! constants), a knex repository class, Sequelize models, services running transactions across
//! files (`BEGIN`/`COMMIT`, `knex.transaction`, `prisma.$transaction`,
//! `sequelize.transaction`) with branches and loops, HTTP-style handlers and plain helper code,
//! about 300 lines in all.

use std::fmt::Write as _;

#[path = "common/mod.rs"]
mod common;

/// Generated files: (display path, text), about `lines` lines in total.
pub fn generate(lines: usize) -> Vec<(String, String)> {
    common::generate(lines, app_files)
}

fn app_files(n: usize) -> Vec<(String, String)> {
    let a = format!("app{n}");
    let acc = format!("{a}_accounts");
    let led = format!("{a}_ledger");
    let inv = format!("{a}_invoices");
    let mut files = Vec::new();

    let mut db = String::new();
    let _ = write!(
        db,
        r#"import {{ Pool, PoolClient }} from 'pg';
import knexFactory from 'knex';
import {{ PrismaClient }} from '@prisma/client';

export const pool = new Pool({{ connectionString: process.env.DATABASE_URL, max: 20 }});
export const knex = knexFactory({{ client: 'pg', connection: process.env.DATABASE_URL }});
export const prisma = new PrismaClient();

export type Client = PoolClient;

export function schemaName(): string {{
  return process.env.SCHEMA ?? 'public';
}}
"#
    );
    files.push((format!("{a}/src/db.ts"), db));

    let mut models = String::new();
    let _ = write!(
        models,
        r#"const {{ Sequelize, DataTypes, Model }} = require('sequelize');

const sequelize = new Sequelize(process.env.DATABASE_URL, {{ logging: false }});

const Invoice = sequelize.define(
  'Invoice',
  {{
    id: {{ type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }},
    accountId: {{ type: DataTypes.INTEGER, field: 'account_id', allowNull: false }},
    total: DataTypes.DECIMAL(12, 2),
    paid: {{ type: DataTypes.BOOLEAN, defaultValue: false }},
  }},
  {{ tableName: '{inv}' }},
);

class Customer extends Model {{
  get label() {{
    return `${{this.name}} <${{this.email}}>`;
  }}
}}

Customer.init(
  {{
    id: {{ type: DataTypes.INTEGER, primaryKey: true }},
    name: DataTypes.STRING,
    email: {{ type: DataTypes.STRING, unique: true }},
  }},
  {{ sequelize, tableName: '{a}_customers' }},
);

module.exports = {{ sequelize, Invoice, Customer }};
"#
    );
    files.push((format!("{a}/src/models.js"), models));

    let mut accounts = String::new();
    let _ = write!(
        accounts,
        r#"import type {{ Client }} from '../db';

const LOCK = 'SELECT id, balance FROM {acc} WHERE id = $1 FOR UPDATE';
const DEBIT = 'UPDATE {acc} SET balance = balance - $1 WHERE id = $2';
const CREDIT = 'UPDATE {acc} SET balance = balance + $1 WHERE id = $2';

export interface Account {{
  id: number;
  balance: number;
}}

export async function lockAccount(client: Client, accountId: number): Promise<Account> {{
  const {{ rows }} = await client.query(LOCK, [accountId]);
  return {{ id: Number(rows[0].id), balance: Number(rows[0].balance) }};
}}

export async function debit(client: Client, accountId: number, amount: number) {{
  await client.query(DEBIT, [amount, accountId]);
}}

export async function credit(client: Client, accountId: number, amount: number) {{
  await client.query(CREDIT, [amount, accountId]);
}}

export async function history(client: Client, accountId: number, limit = 50) {{
  const {{ rows }} = await client.query(
    `SELECT id, amount FROM {led} WHERE account_id = $1 ORDER BY id DESC LIMIT ${{limit}}`,
    [accountId],
  );
  return rows;
}}
"#
    );
    files.push((format!("{a}/src/repo/accounts.ts"), accounts));

    let mut ledger = String::new();
    let _ = write!(
        ledger,
        r#"import type {{ Knex }} from 'knex';

export class LedgerRepo {{
  constructor(private readonly table = '{led}') {{}}

  async record(trx: Knex.Transaction, accountId: number, amount: number, note?: string) {{
    await trx('{led}').insert({{ account_id: accountId, amount, note: note ?? null }});
  }}

  async lockEntry(trx: Knex.Transaction, entryId: number) {{
    return trx('{led}').where({{ id: entryId }}).forUpdate().first();
  }}

  async settle(trx: Knex.Transaction, entryId: number) {{
    await trx('{led}').where('id', entryId).update({{ status: 'settled' }});
  }}

  describe(): string {{
    return `ledger(${{this.table}})`;
  }}
}}
"#
    );
    files.push((format!("{a}/src/repo/ledger.ts"), ledger));

    let mut transfer = String::new();
    let _ = write!(
        transfer,
        r#"import {{ pool }} from '../db';
import * as accounts from '../repo/accounts';
import {{ formatAmount }} from '../util/format';

export async function transfer(from: number, to: number, amount: number): Promise<string> {{
  const client = await pool.connect();
  try {{
    await client.query('BEGIN');
    const [first, second] = [from, to].sort((x, y) => x - y);
    await accounts.lockAccount(client, first);
    await accounts.lockAccount(client, second);
    const source = await accounts.lockAccount(client, from);
    if (source.balance < amount) {{
      await client.query('ROLLBACK');
      return 'insufficient funds';
    }}
    await accounts.debit(client, from, amount);
    await accounts.credit(client, to, amount);
    await client.query('COMMIT');
    return formatAmount(amount);
  }} catch (err) {{
    await client.query('ROLLBACK');
    throw err;
  }} finally {{
    client.release();
  }}
}}

export async function payroll(ids: number[], amount: number) {{
  const ordered = [...ids].sort((x, y) => x - y);
  const client = await pool.connect();
  try {{
    await client.query('BEGIN');
    for (const id of ordered) {{
      await client.query('UPDATE {acc} SET balance = balance + $1 WHERE id = $2', [amount, id]);
    }}
    await client.query('COMMIT');
  }} finally {{
    client.release();
  }}
}}
"#
    );
    files.push((format!("{a}/src/services/transfer.ts"), transfer));

    let mut billing = String::new();
    let _ = write!(
        billing,
        r#"import {{ knex }} from '../db';
import {{ LedgerRepo }} from '../repo/ledger';

export class BillingService {{
  private ledger = new LedgerRepo();

  async charge(accountId: number, entryId: number, amount: number) {{
    return knex.transaction(async (trx) => {{
      await trx('{acc}').where({{ id: accountId }}).decrement('balance', amount);
      const entry = await this.ledger.lockEntry(trx, entryId);
      if (!entry) {{
        await this.ledger.record(trx, accountId, amount, 'new charge');
        return null;
      }}
      await this.ledger.settle(trx, entryId);
      return entry;
    }});
  }}

  async total(accountId: number): Promise<number> {{
    const row = await knex('{led}').where('account_id', accountId).sum('amount as total').first();
    return Number(row?.total ?? 0);
  }}
}}
"#
    );
    files.push((format!("{a}/src/services/billing.ts"), billing));

    let mut wallet = String::new();
    let _ = write!(
        wallet,
        r#"import {{ prisma }} from '../db';

export async function topUp(walletId: number, userId: number, amount: number) {{
  return prisma.$transaction(async (tx) => {{
    await tx.wallet.update({{ where: {{ id: walletId }}, data: {{ balance: {{ increment: amount }} }} }});
    await tx.$executeRaw`UPDATE {acc} SET balance = balance + ${{amount}} WHERE id = ${{userId}}`;
  }});
}}

export async function closeWallet(walletId: number, userId: number) {{
  const freeze = prisma.wallet.update({{ where: {{ id: walletId }}, data: {{ frozen: true }} }});
  const audit = prisma.auditLog.create({{ data: {{ walletId, userId, action: 'close' }} }});
  await prisma.$transaction([freeze, audit]);
}}
"#
    );
    files.push((format!("{a}/src/services/wallet.ts"), wallet));

    let mut invoices = String::new();
    let _ = write!(
        invoices,
        r#"const {{ sequelize, Invoice }} = require('../models');

async function payInvoice(invoiceId, accountId) {{
  return sequelize.transaction(async (t) => {{
    const invoice = await Invoice.findByPk(invoiceId, {{ lock: t.LOCK.UPDATE, transaction: t }});
    if (!invoice || invoice.paid) {{
      return false;
    }}
    await sequelize.query('UPDATE {acc} SET balance = balance - :total WHERE id = :id', {{
      replacements: {{ total: invoice.total, id: accountId }},
      transaction: t,
    }});
    await invoice.update({{ paid: true }}, {{ transaction: t }});
    return true;
  }});
}}

async function voidInvoices(ids) {{
  const t = await sequelize.transaction();
  try {{
    for (const id of ids) {{
      await Invoice.destroy({{ where: {{ id }}, transaction: t }});
    }}
    await t.commit();
  }} catch (err) {{
    await t.rollback();
    throw err;
  }}
}}

module.exports = {{ payInvoice, voidInvoices }};
"#
    );
    files.push((format!("{a}/src/services/invoices.js"), invoices));

    let format = r#"export function formatAmount(cents: number, currency = 'EUR'): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = Math.floor(abs / 100);
  const rest = String(abs % 100).padStart(2, '0');
  return `${sign}${units}.${rest} ${currency}`;
}

export function parseAmount(text: string): number {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) {
    throw new Error(`not an amount: ${text}`);
  }
  const cents = Number(match[2]) * 100 + Number((match[3] ?? '0').padEnd(2, '0'));
  return match[1] === '-' ? -cents : cents;
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}
"#
    .to_string();
    files.push((format!("{a}/src/util/format.ts"), format));

    let handlers = r#"import { transfer, payroll } from './services/transfer';
import { BillingService } from './services/billing';
import { topUp } from './services/wallet';
import { parseAmount } from './util/format';

const billing = new BillingService();
const { payInvoice } = require('./services/invoices');

interface Request {
  params: Record<string, string>;
  body: Record<string, string>;
}

export async function handle(route: string, req: Request) {
  const amount = parseAmount(req.body.amount ?? '0');
  switch (route) {
    case 'transfer':
      return transfer(Number(req.body.from), Number(req.body.to), amount);
    case 'payroll':
      return payroll(String(req.body.ids).split(',').map(Number), amount);
    case 'charge':
      return billing.charge(Number(req.params.id), Number(req.body.entry), amount);
    case 'topup':
      return topUp(Number(req.params.id), Number(req.body.user), amount);
    case 'pay':
      return payInvoice(Number(req.params.id), Number(req.body.account));
    default:
      return { status: 404 };
  }
}
"#
    .to_string();
    files.push((format!("{a}/src/handlers.ts"), handlers));
    files
}

fn main() {
    common::main("gen_js", generate);
}
