-- LG101 good: both transactions lock accounts#1 before ledger#1 (one global order), so they only queue.
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

-- T2: the correction also takes accounts first, then ledger
BEGIN;
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
UPDATE ledger SET amount = amount - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO ledger (id, amount) VALUES (1, 0);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   B1 waits for A (accounts#1); A2 proceeds; A commits; B continues and commits.
