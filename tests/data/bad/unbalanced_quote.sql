-- a string literal that never ends swallows the rest of its statement
BEGIN;
UPDATE accounts SET note = 'never closed WHERE id = 1;
UPDATE ledger SET amount = 0 WHERE id = 2;
COMMIT;

BEGIN;
UPDATE ledger SET amount = amount + 1 WHERE id = 2;
UPDATE accounts SET balance = balance - 1 WHERE id = 1;
COMMIT;
