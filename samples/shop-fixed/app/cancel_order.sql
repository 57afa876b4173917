-- Cancel order 1: mark the order cancelled, refund 25.00 EUR to wallet 1, record the refund.
-- FIXED (was LG101 with pay_order.sql): takes orders#1 before accounts#1, the same order as pay_order.sql.
BEGIN;
UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = 1 AND status <> 'cancelled';
UPDATE accounts SET balance_cents = balance_cents + 2500 WHERE id = 1;
INSERT INTO ledger_entries (account_id, amount_cents, kind, order_id) VALUES (1, 2500, 'refund', 1);
COMMIT;

-- interleaving: A=app/pay_order.sql#T1 B=app/cancel_order.sql#T1 : A1 B1 A2 B2 B3 -> both commit
--   B1 waits for A on orders#1 holding nothing; A debits the wallet and commits; B then runs.
