-- LG101 bad: an in-app schema change alters ledger then accounts (ACCESS EXCLUSIVE), while a payment writes accounts then ledger.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id         bigint PRIMARY KEY,
    account_id bigint NOT NULL,
    amount     bigint NOT NULL
);

-- T1: schema change: ledger first, then accounts
BEGIN;
ALTER TABLE ledger ADD COLUMN memo text;
ALTER TABLE accounts ADD COLUMN frozen boolean NOT NULL DEFAULT false;
COMMIT;

-- T2: payment: debit account 1, then write ledger row 10
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
INSERT INTO ledger (id, account_id, amount) VALUES (10, 1, -10);
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> deadlock
--   A1 AccessExclusiveLock on ledger; B1 RowExclusiveLock on accounts; A2 AccessExclusive on accounts waits for B;
--   B2 RowExclusive on ledger waits for A: ERROR 40P01.
