-- A statement the SQL parser rejects (missing expression after `=`): its locks may be incomplete.
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);

BEGIN;
UPDATE accounts SET balance = WHERE id = 1;
COMMIT;
