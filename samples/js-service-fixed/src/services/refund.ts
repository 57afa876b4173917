import { pool } from '../db';
import { credit } from '../repo/accounts';
import { LedgerRepo } from '../repo/ledger';

export class RefundService {
  constructor(private readonly ledger: LedgerRepo) {}

  /** Refunds a settled entry to its account. */
  async refund(entryId: number, accountId: number): Promise<boolean> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Read the entry without a row lock: the account is locked first, as everywhere.
      const entry = await this.ledger.findEntry(client, entryId);
      if (entry.status !== 'settled') {
        await client.query('ROLLBACK');
        return false;
      }
      await credit(client, accountId, entry.amount);
      await this.ledger.markRefunded(client, entryId);
      await client.query('COMMIT');
      return true;
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    } finally {
      client.release();
    }
  }
}
