-- LG101 bad: an advisory lock guards account 1 in one job, but another job updates the row first and takes the
-- advisory lock second: an advisory lock and a row lock in opposite orders.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: advisory lock 42 (the "account 1 mutex"), then update account 1
BEGIN;
SELECT pg_advisory_xact_lock(42);
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
COMMIT;

-- T2: update account 1, then take advisory lock 42
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
SELECT pg_advisory_xact_lock(42);
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> deadlock
--   A holds advisory 42, B holds accounts#1; A2 waits for B, B2 waits for A: ERROR 40P01.
