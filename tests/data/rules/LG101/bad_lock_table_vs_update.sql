-- LG101 bad: a reconciliation job takes EXCLUSIVE table locks on accounts then ledger; a correction updates ledger then accounts.
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

-- T2: correction: ledger row, then account row
BEGIN;
UPDATE ledger SET amount = amount - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO ledger (id, amount) VALUES (1, 0);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> deadlock
--   A1 ExclusiveLock on accounts; B1 RowExclusiveLock on ledger; A2 Exclusive on ledger waits for B;
--   B2 RowExclusive on accounts waits for A: ERROR 40P01.
