-- Place new order 1001 for customer 1 with two products: reserve stock, then add the order lines.
-- Fine: the inventory rows are locked in product_id order by one statement before they are updated;
-- the FK checks only take FOR KEY SHARE on customers#1, products#3/#7 and our own new order.
BEGIN;
INSERT INTO orders (id, customer_id, status, total_cents) VALUES (1001, 1, 'placed', 2500);
SELECT product_id, on_hand, reserved FROM inventory WHERE product_id IN (3, 7) ORDER BY product_id FOR UPDATE;
UPDATE inventory SET reserved = reserved + 1, updated_at = now() WHERE product_id = 3;
UPDATE inventory SET reserved = reserved + 2, updated_at = now() WHERE product_id = 7;
INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (1001, 3, 1, 1500);
INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (1001, 7, 2, 500);
COMMIT;
