-- LG104 good: the declared order is accounts → ledger → orders and pay_order follows it. The plain
-- SELECT of orders at the start takes only ACCESS SHARE, which no writer waits for: it does not
-- count.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id    bigint PRIMARY KEY,
    total bigint NOT NULL DEFAULT 0
);

CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'new'
);

-- pay_order: read the order, then lock in the declared order
BEGIN;
SELECT status FROM orders WHERE id = 7;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
UPDATE ledger SET total = total + 10 WHERE id = 1;
UPDATE orders SET status = 'paid' WHERE id = 7;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO ledger (id) VALUES (1);
-- seed: INSERT INTO orders (id) VALUES (7);
-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 A3 A4 -> both commit
--   both read orders#7 (no row lock); B2 waits for A (accounts#1); A finishes and commits; B continues.
