import type { Knex } from 'knex';

export async function reserve(trx: Knex.Transaction, sku: string, qty: number): Promise<void> {
  await trx('stock').where({ sku }).decrement('quantity', qty);
}

export async function release(trx: Knex.Transaction, sku: string, qty: number): Promise<void> {
  await trx('stock').where('sku', sku).increment('quantity', qty);
}
