-- LG103 bad: stock reservation locks inventory rows one by one in cart order (7 then 3); another cart holding the
-- same products in the other order locks 3 then 7.
CREATE TABLE inventory (
    product_id bigint PRIMARY KEY,
    on_hand    integer NOT NULL DEFAULT 0,
    reserved   integer NOT NULL DEFAULT 0
);

-- T1: reserve products 7 and 3 for a cart
BEGIN;
SELECT on_hand, reserved FROM inventory WHERE product_id = 7 FOR UPDATE;
SELECT on_hand, reserved FROM inventory WHERE product_id = 3 FOR UPDATE;
UPDATE inventory SET reserved = reserved + 2 WHERE product_id = 7;
UPDATE inventory SET reserved = reserved + 4 WHERE product_id = 3;
COMMIT;

-- seed: INSERT INTO inventory (product_id, on_hand) VALUES (3, 50), (7, 50);
-- interleaving: A=T1 B=T1(7<>3) : A1 B1 A2 B2 -> deadlock
--   B is the same transaction for a cart listing 3 first. A holds inventory#7, B holds inventory#3;
--   A2 waits for B, B2 waits for A: ERROR 40P01.
