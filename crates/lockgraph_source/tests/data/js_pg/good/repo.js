const LOCK_ORDER = 'SELECT id, status FROM orders WHERE id = $1 FOR UPDATE';

async function lockOrder(client, orderId) {
  const { rows } = await client.query(LOCK_ORDER, [orderId]);
  return rows[0];
}

async function chargeCustomer(client, customerId, total) {
  await client.query('UPDATE customers SET balance = balance - $1 WHERE id = $2', [
    total,
    customerId,
  ]);
}

module.exports = { lockOrder, chargeCustomer };
