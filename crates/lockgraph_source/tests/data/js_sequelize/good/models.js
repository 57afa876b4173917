const { Sequelize, DataTypes, Model } = require('sequelize');

const sequelize = new Sequelize(process.env.DATABASE_URL);

const Account = sequelize.define(
  'Account',
  {
    id: { type: DataTypes.INTEGER, primaryKey: true },
    balance: DataTypes.DECIMAL(12, 2),
  },
  { tableName: 'accounts' },
);

class Invoice extends Model {}

Invoice.init(
  {
    id: { type: DataTypes.INTEGER, primaryKey: true },
    accountId: { type: DataTypes.INTEGER, field: 'account_id' },
    paid: DataTypes.BOOLEAN,
  },
  { sequelize, tableName: 'invoices' },
);

module.exports = { sequelize, Account, Invoice };
