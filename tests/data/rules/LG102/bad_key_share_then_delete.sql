-- LG102 bad: FOR KEY SHARE on an order, then DELETE of that order (DELETE takes FOR UPDATE on the row).
CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
);

-- T1: check order 1 exists (key share), then delete it
BEGIN;
SELECT id, status FROM orders WHERE id = 1 FOR KEY SHARE;
DELETE FROM orders WHERE id = 1;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> deadlock
--   both hold FOR KEY SHARE on orders#1; A2 DELETE (FOR UPDATE) waits for B; B2 waits for A: ERROR 40P01.
