-- Change the price of product 3.
-- Fine: one row; a non-key UPDATE (FOR NO KEY UPDATE) does not conflict with the FOR KEY SHARE that
-- order_items inserts take on products.
BEGIN;
UPDATE products SET price_cents = 1600 WHERE id = 3;
COMMIT;
