-- LG103 good: lock both accounts rows first, in key order, with one SELECT … ORDER BY id FOR UPDATE; then update.
-- Whatever the direction of the transfer, the rows are locked 1 before 2.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: transfer 10 from account 1 to account 2
BEGIN;
SELECT id, balance FROM accounts WHERE id IN (1, 2) ORDER BY id FOR UPDATE;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 2;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100), (2, 100);
-- interleaving: A=T1 B=T1(1<>2) : A1 B1 A2 B2 A3 B3 -> both commit
--   B (transfer 2 -> 1) also locks 1 then 2 and waits at B1 holding nothing; A finishes and commits; B runs.
