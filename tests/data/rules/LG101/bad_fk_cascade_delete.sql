-- LG101 bad: deleting an order cascades to its items (FOR UPDATE on the order, then the item rows), while adding an item
-- locks an item first and then the order (FK check, FOR KEY SHARE): a one-statement transaction in the cycle.
CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
);

CREATE TABLE order_items (
    id       bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    quantity integer NOT NULL DEFAULT 1
);

-- T1: add to cart: bump item 5, then add item 6 to order 1
BEGIN;
UPDATE order_items SET quantity = quantity + 1 WHERE id = 5;
INSERT INTO order_items (id, order_id, quantity) VALUES (6, 1, 1);
COMMIT;

-- T2: delete order 1 (ON DELETE CASCADE deletes its items)
BEGIN;
DELETE FROM orders WHERE id = 1;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- seed: INSERT INTO order_items (id, order_id, quantity) VALUES (5, 1, 1);
-- interleaving: A=T1 B=T2 : A1 B1 A2 -> deadlock
--   A1 A locks order_items#5; B1 deletes orders#1 (FOR UPDATE) and its cascade waits for A on order_items#5;
--   A2 the FK check wants FOR KEY SHARE on orders#1 and waits for B: ERROR 40P01.
