-- Checkout of order 1: lock it FOR UPDATE while the total is computed, then place it.
-- FIXED (was LG102): the strongest row lock needed is taken first, so a double-submitted checkout just queues.
BEGIN;
SELECT status, customer_id FROM orders WHERE id = 1 FOR UPDATE;
SELECT sum(quantity * unit_price_cents) FROM order_items WHERE order_id = 1;
UPDATE orders SET status = 'placed', total_cents = 2500, updated_at = now() WHERE id = 1;
COMMIT;

-- interleaving: A=app/checkout.sql#T1 B=app/checkout.sql#T1 : A1 B1 A2 B2 A3 B3 -> both commit
--   B1 waits for A on orders#1 holding nothing; A commits; B runs.
