-- LG102 bad: UPDATE a table (ROW EXCLUSIVE) then CREATE INDEX on it (SHARE): the second instance holds ROW EXCLUSIVE
-- while it waits for the row, and the first instance's CREATE INDEX waits for that table lock.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: adjust account 1, then make sure an index exists
BEGIN;
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
CREATE INDEX IF NOT EXISTS accounts_balance_idx ON accounts (balance);
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> deadlock
--   A1 holds RowExclusiveLock and accounts#1; B1 holds RowExclusiveLock and waits for A on accounts#1;
--   A2 CREATE INDEX (ShareLock) waits for B's RowExclusiveLock: ERROR 40P01.
