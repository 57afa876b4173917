-- LG102 bad: plain SELECT (ACCESS SHARE) then ALTER TABLE (ACCESS EXCLUSIVE) on the same table: unlike
-- SELECT-then-UPDATE this upgrade conflicts with the other instance's ACCESS SHARE.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

-- T1: look at the table, then add the column (idempotent, as a self-healing app might)
BEGIN;
SELECT count(*) FROM accounts;
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS frozen boolean NOT NULL DEFAULT false;
COMMIT;

-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> deadlock
--   both hold AccessShareLock on accounts; A2 AccessExclusiveLock waits for B; B2 waits for A: ERROR 40P01.
