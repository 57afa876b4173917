-- LG101 bad: three transactions, each pair consistent, but together a cycle accounts -> orders -> shipments -> accounts.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'new'
);

CREATE TABLE shipments (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'pending'
);

-- T1: charge account 1, then mark order 1 paid
BEGIN;
UPDATE accounts SET balance = balance - 25 WHERE id = 1;
UPDATE orders SET status = 'paid' WHERE id = 1;
COMMIT;

-- T2: ship order 1: mark it shipped, then update shipment 1
BEGIN;
UPDATE orders SET status = 'shipped' WHERE id = 1;
UPDATE shipments SET status = 'in_transit' WHERE id = 1;
COMMIT;

-- T3: shipment 1 lost: mark it, then credit account 1
BEGIN;
UPDATE shipments SET status = 'lost' WHERE id = 1;
UPDATE accounts SET balance = balance + 25 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO orders (id) VALUES (1);
-- seed: INSERT INTO shipments (id) VALUES (1);
-- interleaving: A=T1 B=T2 C=T3 : A1 B1 C1 A2 B2 C2 -> deadlock
--   A holds accounts#1, B holds orders#1, C holds shipments#1; A2 waits for B, B2 waits for C,
--   C2 waits for A: a three-session cycle, ERROR 40P01.
