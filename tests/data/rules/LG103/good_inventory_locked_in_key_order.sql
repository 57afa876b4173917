-- LG103 good: the stock reservation locks all inventory rows of the cart in product_id order with one statement,
-- then updates them in cart order.
CREATE TABLE inventory (
    product_id bigint PRIMARY KEY,
    on_hand    integer NOT NULL DEFAULT 0,
    reserved   integer NOT NULL DEFAULT 0
);

-- T1: reserve products 7 and 3 for a cart
BEGIN;
SELECT product_id, on_hand, reserved FROM inventory WHERE product_id IN (7, 3) ORDER BY product_id FOR UPDATE;
UPDATE inventory SET reserved = reserved + 2 WHERE product_id = 7;
UPDATE inventory SET reserved = reserved + 4 WHERE product_id = 3;
COMMIT;

-- seed: INSERT INTO inventory (product_id, on_hand) VALUES (3, 50), (7, 50);
-- interleaving: A=T1 B=T1(7<>3) : A1 B1 A2 B2 A3 B3 -> both commit
--   both lock inventory#3 then #7; B waits at B1; A commits; B runs.
