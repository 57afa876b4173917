-- Card top-up of 50.00 EUR into wallet 1: credit the balance, then record the ledger entry.
-- Fine: one accounts row, then a new ledger row (accounts before ledger_entries, like every other transaction).
BEGIN;
UPDATE accounts SET balance_cents = balance_cents + 5000 WHERE id = 1;
INSERT INTO ledger_entries (account_id, amount_cents, kind) VALUES (1, 5000, 'top_up');
COMMIT;
