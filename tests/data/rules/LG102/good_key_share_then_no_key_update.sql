-- LG102 good: FOR KEY SHARE then a non-key UPDATE of the same row: FOR NO KEY UPDATE does not conflict with
-- FOR KEY SHARE, so the two instances never wait for each other at the same time.
CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
);

-- T1: pin order 1 (key share), then change its status
BEGIN;
SELECT id FROM orders WHERE id = 1 FOR KEY SHARE;
UPDATE orders SET status = 'closed' WHERE id = 1;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> both commit
--   A2 is granted despite B's key share; B2 waits for A's FOR NO KEY UPDATE; A commits; B updates.
