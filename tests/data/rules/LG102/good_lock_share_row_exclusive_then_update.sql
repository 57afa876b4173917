-- LG102 good: take SHARE ROW EXCLUSIVE (self-conflicting, and it already covers the later ROW EXCLUSIVE) before
-- reading and updating: a second instance waits at the LOCK TABLE holding nothing.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: freeze other writers to accounts while checking the total, then adjust account 1
BEGIN;
LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE;
SELECT sum(balance) FROM accounts;
UPDATE accounts SET balance = balance + 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 A3 B3 -> both commit
--   B1 waits for A's ShareRowExclusiveLock; A reads, updates, commits; B then runs.
