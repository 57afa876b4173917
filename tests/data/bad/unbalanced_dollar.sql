BEGIN;
UPDATE accounts SET balance = balance - 1 WHERE id = 1;
UPDATE ledger SET amount = amount + 1 WHERE id = 2;
COMMIT;

BEGIN;
UPDATE ledger SET amount = amount + 1 WHERE id = 2;
UPDATE accounts SET balance = balance - 1 WHERE id = 1;
COMMIT;

-- a dollar-quoted body that never ends runs to the end of the file
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  UPDATE accounts SET balance = 0;
