-- LG101 bad: mixed row and table locks: T1 updates an account row then builds an index on ledger (SHARE lock);
-- T2 inserts into ledger (ROW EXCLUSIVE) then updates the same account row.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id         bigint PRIMARY KEY,
    account_id bigint NOT NULL,
    amount     bigint NOT NULL
);

-- T1: fee posting job that also adds a missing index
BEGIN;
UPDATE accounts SET balance = balance - 3 WHERE id = 1;
CREATE INDEX ledger_account_id_idx ON ledger (account_id);
COMMIT;

-- T2: payment: ledger row first, then the account
BEGIN;
INSERT INTO ledger (id, account_id, amount) VALUES (10, 1, -10);
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> deadlock
--   A1 row lock on accounts#1; B1 RowExclusiveLock on ledger; A2 CREATE INDEX wants ShareLock on ledger and waits for B;
--   B2 waits for A on accounts#1: ERROR 40P01.
