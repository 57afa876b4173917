-- LG101 good: adding an item first locks the parent order (FOR NO KEY UPDATE), so both transactions take orders#1 before order_items#5.
CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
);

CREATE TABLE order_items (
    id       bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    quantity integer NOT NULL DEFAULT 1
);

-- T1: add to cart: lock order 1, bump item 5, add item 6 (the FK check's KEY SHARE is then covered by our own lock)
BEGIN;
SELECT id FROM orders WHERE id = 1 FOR NO KEY UPDATE;
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
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   B1 (FOR UPDATE) waits for A's FOR NO KEY UPDATE on orders#1; A finishes and commits; B then runs.
