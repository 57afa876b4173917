const { sequelize, Account, Invoice } = require('./models');

async function dispute(invoiceId, accountId, amount) {
  const t = await sequelize.transaction();
  try {
    // The account first, as in payInvoice.
    await Account.findByPk(accountId, { lock: t.LOCK.UPDATE, transaction: t });
    await sequelize.query('UPDATE accounts SET balance = balance + :amount WHERE id = :id', {
      replacements: { amount, id: accountId },
      transaction: t,
    });
    const invoice = await Invoice.findByPk(invoiceId, { lock: true, transaction: t });
    await t.commit();
    return invoice;
  } catch (e) {
    await t.rollback();
    throw e;
  }
}

module.exports = { dispute };
