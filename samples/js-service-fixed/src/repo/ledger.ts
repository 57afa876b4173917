import type { Client } from '../db';

export interface LedgerEntry {
  id: number;
  accountId: number;
  amount: number;
  status: string;
}

export class LedgerRepo {
  async findEntry(client: Client, entryId: number): Promise<LedgerEntry> {
    const { rows } = await client.query(
      'SELECT id, account_id, amount, status FROM ledger_entries WHERE id = $1',
      [entryId],
    );
    return toEntry(rows[0]);
  }

  async markSettled(client: Client, entryId: number): Promise<void> {
    await client.query({
      text: "UPDATE ledger_entries SET status = 'settled' WHERE id = $1",
      values: [entryId],
    });
  }

  async markRefunded(client: Client, entryId: number): Promise<void> {
    // Only a settled entry is refunded: the status check holds under the row lock taken here.
    await client.query(
      "UPDATE ledger_entries SET status = 'refunded' WHERE id = $1 AND status = 'settled'",
      [entryId],
    );
  }
}

function toEntry(row: Record<string, unknown>): LedgerEntry {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    amount: Number(row.amount),
    status: String(row.status),
  };
}
