-- LG101 good: three transactions over accounts, orders, shipments all follow the order accounts < orders < shipments.
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

-- T3: shipment 1 lost: credit account 1 first, then mark the shipment
BEGIN;
UPDATE accounts SET balance = balance + 25 WHERE id = 1;
UPDATE shipments SET status = 'lost' WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO orders (id) VALUES (1);
-- seed: INSERT INTO shipments (id) VALUES (1);
-- interleaving: A=T1 B=T2 C=T3 : A1 B1 C1 A2 B2 C2 -> all commit
--   C1 waits for A (accounts#1); A2 waits for B (orders#1); B2 gets shipments#1; B commits, then A, then C.
