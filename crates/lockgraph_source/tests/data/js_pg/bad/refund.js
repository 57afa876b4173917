const { chargeCustomer } = require('./repo');

async function refund(pool, orderId, customerId, total) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
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
