-- Wallet-to-wallet transfer of 12.50 EUR from account 1 to account 2, with both ledger entries.
-- HAZARD LG103: the two accounts rows are locked one statement at a time, source first; a concurrent
-- transfer from 2 to 1 locks the same rows in the opposite order.
BEGIN;
UPDATE accounts SET balance_cents = balance_cents - 1250 WHERE id = 1;
UPDATE accounts SET balance_cents = balance_cents + 1250 WHERE id = 2;
INSERT INTO ledger_entries (account_id, amount_cents, kind) VALUES (1, -1250, 'transfer_out');
INSERT INTO ledger_entries (account_id, amount_cents, kind) VALUES (2, 1250, 'transfer_in');
COMMIT;

-- interleaving: A=app/transfer.sql#T1 B=app/transfer.sql#T1(1<>2) : A1 B1 A2 B2 -> deadlock
--   B is a transfer from 2 to 1. A holds accounts#1, B holds accounts#2; A2 waits for B, B2 waits for A: ERROR 40P01.
