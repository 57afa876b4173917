import { pool } from '../db';
import * as accounts from '../repo/accounts';
import { LedgerRepo } from '../repo/ledger';

const ledger = new LedgerRepo();

/** Settles a pending ledger entry: the money leaves the account, the entry is settled. */
export async function settleEntry(entryId: number, accountId: number, amount: number) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await accounts.debit(client, accountId, amount);
    await ledger.markSettled(client, entryId);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
