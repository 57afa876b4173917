-- LG102 good: the FK check's FOR KEY SHARE on the parent is followed by a non-key UPDATE of the parent
-- (FOR NO KEY UPDATE), which does not conflict with the other instance's FOR KEY SHARE: no deadlock.
CREATE TABLE orders (
    id          bigint PRIMARY KEY,
    total_cents bigint NOT NULL DEFAULT 0
);

CREATE TABLE order_items (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES orders (id),
    price_cents bigint NOT NULL
);

-- T1: add an item to order 1, then bump the order total
BEGIN;
INSERT INTO order_items (order_id, price_cents) VALUES (1, 500);
UPDATE orders SET total_cents = total_cents + 500 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO orders (id) VALUES (1);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 -> both commit
--   both hold FOR KEY SHARE on orders#1; A2 gets FOR NO KEY UPDATE next to B's key share; B2 waits for A only.
