import { db } from './db';
import * as inventory from './inventory';

export async function cancelOrder(orderId: number, sku: string, qty: number) {
  const trx = await db.transaction();
  try {
    await trx.raw('UPDATE orders SET status = ? WHERE id = ?', ['cancelled', orderId]);
    await inventory.release(trx, sku, qty);
    await trx.commit();
  } catch (err) {
    await trx.rollback();
    throw err;
  }
}
