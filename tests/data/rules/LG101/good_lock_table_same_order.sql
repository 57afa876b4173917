-- LG101 good: the reconciliation job and the correction both go accounts before ledger, so the table locks only queue.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id     bigint PRIMARY KEY,
    amount bigint NOT NULL DEFAULT 0
);

-- T1: reconcile: freeze writes to accounts, then to ledger
BEGIN;
LOCK TABLE accounts IN EXCLUSIVE MODE;
LOCK TABLE ledger IN EXCLUSIVE MODE;
SELECT sum(balance) FROM accounts;
SELECT sum(amount) FROM ledger;
COMMIT;

-- T2: correction: account row, then ledger row
BEGIN;
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
UPDATE ledger SET amount = amount - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO ledger (id, amount) VALUES (1, 0);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   B1 waits for A's ExclusiveLock on accounts; A takes ledger, reads, commits; B then runs.
