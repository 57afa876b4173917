-- The same transaction, written correctly: every statement parses.
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);

BEGIN;
UPDATE accounts SET balance = balance + 1 WHERE id = 1;
COMMIT;
