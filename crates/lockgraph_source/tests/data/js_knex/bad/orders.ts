import { db } from './db';
import { reserve } from './inventory';

export async function placeOrder(orderId: number, sku: string, qty: number) {
  await db.transaction(async (trx) => {
    const order = await trx('orders').where('id', orderId).forUpdate().first();
    if (!order) {
      return;
    }
    await reserve(trx, sku, qty);
    await trx('orders').where({ id: orderId }).update({ status: 'placed' });
  });
}
