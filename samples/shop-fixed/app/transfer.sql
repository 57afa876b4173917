-- Wallet-to-wallet transfer of 12.50 EUR from account 1 to account 2, with both ledger entries.
-- FIXED (was LG103): both accounts rows are locked first, in key order, by one SELECT … ORDER BY id FOR UPDATE,
-- so transfers in either direction lock 1 before 2.
BEGIN;
SELECT id, balance_cents FROM accounts WHERE id IN (1, 2) ORDER BY id FOR UPDATE;
UPDATE accounts SET balance_cents = balance_cents - 1250 WHERE id = 1;
UPDATE accounts SET balance_cents = balance_cents + 1250 WHERE id = 2;
INSERT INTO ledger_entries (account_id, amount_cents, kind) VALUES (1, -1250, 'transfer_out');
INSERT INTO ledger_entries (account_id, amount_cents, kind) VALUES (2, 1250, 'transfer_in');
COMMIT;

-- interleaving: A=app/transfer.sql#T1 B=app/transfer.sql#T1(1<>2) : A1 B1 A2 B2 -> both commit
--   B (transfer 2 -> 1) waits at B1 for accounts#1 holding nothing; A finishes and commits; B runs.
