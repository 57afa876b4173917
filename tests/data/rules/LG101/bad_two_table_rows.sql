-- LG101 bad: transfer locks an accounts row then a ledger row; adjustment locks the same two rows in the opposite order.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id     bigint PRIMARY KEY,
    amount bigint NOT NULL DEFAULT 0
);

-- T1: debit account 1, then bump ledger row 1
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE ledger SET amount = amount + 10 WHERE id = 1;
COMMIT;

-- T2: correct ledger row 1, then account 1 (opposite order)
BEGIN;
UPDATE ledger SET amount = amount - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO ledger (id, amount) VALUES (1, 0);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> deadlock
--   A1 A holds FOR NO KEY UPDATE on accounts#1; B1 B holds it on ledger#1;
--   A2 waits for B (ledger#1); B2 waits for A (accounts#1): cycle, ERROR 40P01.
