-- LG102 bad: read the balance FOR SHARE, then UPDATE the same row: two concurrent withdrawals both hold FOR SHARE
-- and each waits for the other to upgrade to FOR NO KEY UPDATE.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: withdraw 10 from account 1
BEGIN;
SELECT balance FROM accounts WHERE id = 1 FOR SHARE;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> deadlock
--   A1 and B1 both hold FOR SHARE on accounts#1; A2 (FOR NO KEY UPDATE) waits for B's share lock;
--   B2 waits for A's share lock: ERROR 40P01.
