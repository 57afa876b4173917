import { pool } from '../db';

/** Pays several accounts out in one transaction, locking them in id order. */
export async function payoutAll(accountIds: number[], amount: number): Promise<void> {
  const ordered = [...accountIds].sort((a, b) => a - b);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const accountId of ordered) {
      await client.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [
        amount,
        accountId,
      ]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}
