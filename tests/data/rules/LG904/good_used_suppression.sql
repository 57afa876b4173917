-- LG904 good: the suppression silences the LG103 finding on the statement it precedes.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

BEGIN;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
-- lockgraph: ignore[LG103] accounts 1 and 2 are the bank's two clearing accounts; only this job moves money between them
UPDATE accounts SET balance = balance + 10 WHERE id = 2;
COMMIT;
