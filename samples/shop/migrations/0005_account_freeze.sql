-- Support tooling: free-text notes on ledger entries and a freeze flag on wallets.
-- HAZARD (LG101, migration vs app): ACCESS EXCLUSIVE on ledger_entries, then on accounts. Every app transaction
-- that touches accounts before ledger_entries (transfer, top_up, pay_order, cancel_order, account_statement)
-- takes them in the opposite order; deploying while such a transaction is in flight can deadlock.
ALTER TABLE ledger_entries ADD COLUMN note text;
ALTER TABLE accounts ADD COLUMN frozen boolean NOT NULL DEFAULT false;

-- interleaving: A=app/transfer.sql#T1 B=migrations/0005_account_freeze.sql : A1 B1 A2 A3 B2 -> deadlock
--   A1 transfer holds RowExclusiveLock on accounts; B1 migration takes AccessExclusiveLock on ledger_entries;
--   A3 INSERT INTO ledger_entries waits for B; B2 ALTER TABLE accounts waits for A: ERROR 40P01.
