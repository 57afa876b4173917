-- Pay placed order 1 (25.00 EUR) from wallet 1: mark the order paid, debit the wallet, record the payment.
-- Lock order: orders#1, then accounts#1, then a new ledger_entries row.
-- (cancel_order.sql now follows the same order.)
BEGIN;
UPDATE orders SET status = 'paid', updated_at = now() WHERE id = 1 AND status = 'placed';
UPDATE accounts SET balance_cents = balance_cents - 2500 WHERE id = 1;
INSERT INTO ledger_entries (account_id, amount_cents, kind, order_id) VALUES (1, -2500, 'payment', 1);
COMMIT;
