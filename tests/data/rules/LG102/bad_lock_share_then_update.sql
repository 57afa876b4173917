-- LG102 bad: LOCK TABLE … IN SHARE MODE then UPDATE of the same table: SHARE does not conflict with itself but
-- conflicts with the ROW EXCLUSIVE that UPDATE needs, so two instances wait for each other.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: freeze writers to accounts while checking the total, then adjust account 1
BEGIN;
LOCK TABLE accounts IN SHARE MODE;
SELECT sum(balance) FROM accounts;
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 A3 B3 -> deadlock
--   both hold ShareLock on accounts; A3 (RowExclusiveLock) waits for B; B3 waits for A: ERROR 40P01.
