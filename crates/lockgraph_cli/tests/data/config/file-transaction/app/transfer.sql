-- accounts, then ledger
BEGIN;
UPDATE accounts SET n = n - 1 WHERE id = 1;
UPDATE ledger SET n = n + 1 WHERE id = 1;
COMMIT;
