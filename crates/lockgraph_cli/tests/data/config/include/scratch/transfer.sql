-- Two rows of one table in an order that is not fixed (LG103, a warning).
BEGIN;
UPDATE accounts SET n = n - 1 WHERE id = 1;
UPDATE accounts SET n = n + 1 WHERE id = 2;
COMMIT;
