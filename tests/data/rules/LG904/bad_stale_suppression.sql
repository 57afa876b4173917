-- LG904 bad: the suppression names LG103, but the transfer now locks both rows in key order
-- with one statement, so it silences nothing.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

BEGIN;
SELECT 1 FROM accounts WHERE id IN (1, 2) ORDER BY id FOR UPDATE;
-- lockgraph: ignore[LG103] transfers between the same accounts are rare
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE accounts SET balance = balance + 10 WHERE id = 2;
COMMIT;
