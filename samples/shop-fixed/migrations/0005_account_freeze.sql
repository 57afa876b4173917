-- Support tooling: a freeze flag on wallets and free-text notes on ledger entries.
-- FIXED: alters accounts before ledger_entries, the global order every app transaction follows
-- (orders < accounts < ledger_entries), so an in-flight transaction only makes the deploy wait.
ALTER TABLE accounts ADD COLUMN frozen boolean NOT NULL DEFAULT false;
ALTER TABLE ledger_entries ADD COLUMN note text;

-- interleaving: A=app/transfer.sql#T1 B=migrations/0005_account_freeze.sql : A1 B1 A2 A3 B2 -> both commit
--   B1 waits for A's locks on accounts while holding nothing; A finishes and commits; the migration then runs.
