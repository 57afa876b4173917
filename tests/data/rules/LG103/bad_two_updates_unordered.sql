-- LG103 bad: a transfer updates two accounts rows one statement at a time, source first: a concurrent transfer
-- in the other direction (2 -> 1) locks the same rows in the opposite order.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: transfer 10 from account 1 to account 2
BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 2;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100), (2, 100);
-- interleaving: A=T1 B=T1(1<>2) : A1 B1 A2 B2 -> deadlock
--   B is the same transaction for a transfer 2 -> 1. A holds accounts#1, B holds accounts#2;
--   A2 waits for B, B2 waits for A: ERROR 40P01.
