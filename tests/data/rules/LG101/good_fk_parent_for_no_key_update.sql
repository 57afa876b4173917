-- LG101 good: opposite table order, but the modes on the parent row do not conflict: the FK check's FOR KEY SHARE
-- is compatible with the FOR NO KEY UPDATE that a non-key UPDATE of the order takes, so no cycle can close.
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

-- T2: close order 1: set its status (FOR NO KEY UPDATE on orders#1), then zero item 5
BEGIN;
UPDATE orders SET status = 'closed' WHERE id = 1;
UPDATE order_items SET quantity = 0 WHERE id = 5;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- seed: INSERT INTO order_items (id, order_id, quantity) VALUES (5, 1, 1);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   A2's FOR KEY SHARE on orders#1 is granted next to B's FOR NO KEY UPDATE; A commits; B2 then gets order_items#5.
