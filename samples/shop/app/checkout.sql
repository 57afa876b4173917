-- Checkout of order 1: read it FOR SHARE so it cannot change while the total is computed, then place it.
-- HAZARD LG102: FOR SHARE then UPDATE of the same row; a double-submitted checkout (two instances) deadlocks.
BEGIN;
SELECT status, customer_id FROM orders WHERE id = 1 FOR SHARE;
SELECT sum(quantity * unit_price_cents) FROM order_items WHERE order_id = 1;
UPDATE orders SET status = 'placed', total_cents = 2500, updated_at = now() WHERE id = 1;
COMMIT;

-- interleaving: A=app/checkout.sql#T1 B=app/checkout.sql#T1 : A1 B1 A2 B2 A3 B3 -> deadlock
--   both hold FOR SHARE on orders#1; A3 (FOR NO KEY UPDATE) waits for B; B3 waits for A: ERROR 40P01.
