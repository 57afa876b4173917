-- LG101 bad: inserting an order item takes FOR KEY SHARE on the parent order row (FK check) after locking an item;
-- closing the order takes FOR UPDATE on the order, then locks the same item: opposite order, conflicting modes.
CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
);

CREATE TABLE order_items (
    id       bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    quantity integer NOT NULL DEFAULT 1
);

-- T1: add to cart: bump item 5, then add item 6 to order 1 (FK check: FOR KEY SHARE on orders#1)
BEGIN;
UPDATE order_items SET quantity = quantity + 1 WHERE id = 5;
INSERT INTO order_items (id, order_id, quantity) VALUES (6, 1, 1);
COMMIT;

-- T2: close order 1: lock it FOR UPDATE, zero item 5, set the status
BEGIN;
SELECT id, status FROM orders WHERE id = 1 FOR UPDATE;
UPDATE order_items SET quantity = 0 WHERE id = 5;
UPDATE orders SET status = 'closed' WHERE id = 1;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- seed: INSERT INTO order_items (id, order_id, quantity) VALUES (5, 1, 1);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> deadlock
--   A1 A locks order_items#5; B1 B takes FOR UPDATE on orders#1;
--   A2 the FK check wants FOR KEY SHARE on orders#1 and waits for B; B2 waits for A (order_items#5): ERROR 40P01.
