const { lockOrder, chargeCustomer } = require('./repo');

async function refund(pool, orderId, customerId, total) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // The order first, as in checkout.
    await lockOrder(client, orderId);
    await chargeCustomer(client, customerId, -total);
    await client.query({
      text: "UPDATE orders SET status = 'refunded' WHERE id = $1",
      values: [orderId],
    });
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
}

module.exports = { refund };
