-- LG101 good: the schema change alters accounts before ledger, the same order in which the payment writes them.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id         bigint PRIMARY KEY,
    account_id bigint NOT NULL,
    amount     bigint NOT NULL
);

-- T1: schema change: accounts first, then ledger
BEGIN;
ALTER TABLE accounts ADD COLUMN frozen boolean NOT NULL DEFAULT false;
ALTER TABLE ledger ADD COLUMN memo text;
COMMIT;

-- T2: payment: debit account 1, then write ledger row 10
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
INSERT INTO ledger (id, account_id, amount) VALUES (10, 1, -10);
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   B1 waits for A's AccessExclusiveLock on accounts; A alters ledger and commits; B then runs.
