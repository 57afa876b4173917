-- Statement by statement (autocommit): ledger, then accounts.
UPDATE ledger SET n = n + 1 WHERE id = 1;
UPDATE accounts SET n = n - 1 WHERE id = 1;
