-- LG103 bad: merging two carts updates the surviving cart row and deletes the other one, in argument order:
-- merging cart 2 into 1 and cart 1 into 2 at the same time locks the two rows in opposite orders.
CREATE TABLE carts (
    id         bigint PRIMARY KEY,
    item_count integer NOT NULL DEFAULT 0
);

-- T1: merge cart 2 into cart 1
BEGIN;
UPDATE carts SET item_count = item_count + 3 WHERE id = 1;
DELETE FROM carts WHERE id = 2;
COMMIT;

-- seed: INSERT INTO carts (id, item_count) VALUES (1, 3), (2, 3);
-- interleaving: A=T1 B=T1(1<>2) : A1 B1 A2 B2 -> deadlock
--   B merges cart 1 into cart 2. A holds carts#1, B holds carts#2; A2 (DELETE 2) waits for B,
--   B2 (DELETE 1) waits for A: ERROR 40P01.
