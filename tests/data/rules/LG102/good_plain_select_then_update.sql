-- LG102 good: a plain SELECT takes no row lock, so SELECT then UPDATE of the same row cannot deadlock with itself
-- (it can lose an update under READ COMMITTED, but that is not a lock hazard; the UPDATE re-reads the row).
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: read the balance, then withdraw 10 from account 1
BEGIN;
SELECT balance FROM accounts WHERE id = 1;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> both commit
--   A2 locks accounts#1; B2 waits for A; A commits; B re-reads the row and updates.
