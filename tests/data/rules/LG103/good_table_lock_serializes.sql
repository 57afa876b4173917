-- LG103 good: the rows are updated in argument order, but a self-conflicting SHARE ROW EXCLUSIVE table lock taken
-- first serializes the transactions, so no two instances hold row locks at the same time.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: transfer 10 from account 1 to account 2
BEGIN;
LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 2;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100), (2, 100);
-- interleaving: A=T1 B=T1(1<>2) : A1 B1 A2 B2 A3 B3 -> both commit
--   B1 waits for A's ShareRowExclusiveLock holding nothing; A commits; B runs.
