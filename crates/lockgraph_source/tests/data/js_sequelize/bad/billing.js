const { sequelize, Account, Invoice } = require('./models');

async function payInvoice(invoiceId, accountId, amount) {
  await sequelize.transaction(async (t) => {
    const account = await Account.findOne({
      where: { id: accountId },
      lock: t.LOCK.UPDATE,
      transaction: t,
    });
    await account.decrement('balance', { by: amount, transaction: t });
    await Invoice.update({ paid: true }, { where: { id: invoiceId }, transaction: t });
  });
}

module.exports = { payInvoice };
