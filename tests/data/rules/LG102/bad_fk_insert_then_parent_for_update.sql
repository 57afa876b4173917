-- LG102 bad: the FK check of an order_items INSERT takes FOR KEY SHARE on the parent order; the transaction then
-- locks the same order FOR UPDATE to recompute it: an implicit weak lock upgraded to a conflicting one.
CREATE TABLE orders (
    id          bigint PRIMARY KEY,
    total_cents bigint NOT NULL DEFAULT 0
);

CREATE TABLE order_items (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id),
    price_cents bigint NOT NULL
);

-- T1: add an item to order 1, then lock the order FOR UPDATE and update its total
BEGIN;
INSERT INTO order_items (order_id, price_cents) VALUES (1, 500);
SELECT total_cents FROM orders WHERE id = 1 FOR UPDATE;
UPDATE orders SET total_cents = total_cents + 500 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> deadlock
--   both FK checks hold FOR KEY SHARE on orders#1; A2 FOR UPDATE waits for B; B2 waits for A: ERROR 40P01.
