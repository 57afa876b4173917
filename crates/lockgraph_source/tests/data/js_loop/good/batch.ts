import type { PoolClient } from 'pg';

export async function closeAll(client: PoolClient, ids: number[]) {
  const sorted = [...ids].sort((a, b) => a - b);
  await client.query('BEGIN');
  for (const id of sorted) {
    await client.query('SELECT * FROM tickets WHERE id = $1 FOR UPDATE', [id]);
    await client.query(`UPDATE tickets SET closed = true WHERE id = $1`, [id]);
  }
  await client.query('COMMIT');
}
