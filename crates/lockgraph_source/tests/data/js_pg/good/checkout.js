const repo = require('./repo');

async function checkout(pool, orderId, customerId, total) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await repo.lockOrder(client, orderId);
    await repo.chargeCustomer(client, customerId, total);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  } finally {
    client.release();
  }
}

module.exports = { checkout };
