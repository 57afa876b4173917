import type { Client } from '../db';

const DEBIT = 'UPDATE accounts SET balance = balance - $1 WHERE id = $2';
const CREDIT = 'UPDATE accounts SET balance = balance + $1 WHERE id = $2';

export async function debit(client: Client, accountId: number, amount: number): Promise<void> {
  await client.query(DEBIT, [amount, accountId]);
}

export async function credit(client: Client, accountId: number, amount: number): Promise<void> {
  await client.query(CREDIT, [amount, accountId]);
}

export async function balanceOf(client: Client, accountId: number): Promise<number> {
  const { rows } = await client.query('SELECT balance FROM accounts WHERE id = $1', [accountId]);
  return Number(rows[0]?.balance ?? 0);
}
