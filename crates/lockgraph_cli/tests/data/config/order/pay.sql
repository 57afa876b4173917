-- pay_order: orders before accounts, against the declared order (LG104).
BEGIN;
UPDATE orders SET status = 'paid' WHERE id = 7;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;
