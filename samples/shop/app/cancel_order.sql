-- Cancel order 1: refund 25.00 EUR to wallet 1, record the refund, then mark the order cancelled.
-- HAZARD LG101: takes accounts#1 before orders#1, while pay_order.sql takes orders#1 before accounts#1;
-- a customer cancelling while the payment job charges the same order deadlocks.
BEGIN;
UPDATE accounts SET balance_cents = balance_cents + 2500 WHERE id = 1;
INSERT INTO ledger_entries (account_id, amount_cents, kind, order_id) VALUES (1, 2500, 'refund', 1);
UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = 1 AND status <> 'cancelled';
COMMIT;

-- interleaving: A=app/pay_order.sql#T1 B=app/cancel_order.sql#T1 : A1 B1 A2 B2 B3 -> deadlock
--   A1 pay_order locks orders#1; B1 cancel_order locks accounts#1; A2 waits for B (accounts#1);
--   B2 (FK checks: FOR KEY SHARE on accounts#1 and orders#1) is not blocked; B3 waits for A (orders#1): ERROR 40P01.
