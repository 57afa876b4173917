-- LG102 good: take the strongest row lock needed up front (FOR UPDATE), then UPDATE: a second instance simply queues.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: withdraw 10 from account 1
BEGIN;
SELECT balance FROM accounts WHERE id = 1 FOR UPDATE;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> both commit
--   B1 waits for A on accounts#1; A updates and commits; B then locks and updates.
