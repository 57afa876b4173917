-- A procedure call: lockgraph does not read procedure bodies, so the locks it takes are unknown.
CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);

BEGIN;
CALL settle_accounts(1, 2);
UPDATE accounts SET balance = balance + 1 WHERE id = 1;
COMMIT;
