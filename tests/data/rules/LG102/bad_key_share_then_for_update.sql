-- LG102 bad: FOR KEY SHARE on an order, later FOR UPDATE on the same order: FOR UPDATE conflicts with the other
-- instance's FOR KEY SHARE, so two instances wait for each other.
CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
);

-- T1: pin order 1 (key share), then lock it for the status change
BEGIN;
SELECT id FROM orders WHERE id = 1 FOR KEY SHARE;
SELECT status FROM orders WHERE id = 1 FOR UPDATE;
UPDATE orders SET status = 'closed' WHERE id = 1;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> deadlock
--   both hold FOR KEY SHARE on orders#1; A2 FOR UPDATE waits for B; B2 FOR UPDATE waits for A: ERROR 40P01.
