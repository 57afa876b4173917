-- LG101 good: both jobs take advisory lock 42 before touching account 1.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: advisory lock 42, then update account 1
BEGIN;
SELECT pg_advisory_xact_lock(42);
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
COMMIT;

-- T2: advisory lock 42, then update account 1
BEGIN;
SELECT pg_advisory_xact_lock(42);
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   B1 waits for A on advisory 42; A updates and commits; B proceeds.
