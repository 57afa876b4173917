-- LG104 bad: the declared order is accounts → ledger → orders. post_entry updates a ledger row and
-- then inserts an order that references accounts: the foreign-key check takes FOR KEY SHARE on the
-- account row after the ledger row is locked.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id    bigint PRIMARY KEY,
    total bigint NOT NULL DEFAULT 0
);

CREATE TABLE orders (
    id         bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id)
);

-- post_entry: ledger first, then (through the foreign key) accounts
BEGIN;
UPDATE ledger SET total = total + 10 WHERE id = 1;
INSERT INTO orders (id, account_id) VALUES (7, 1);
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO ledger (id) VALUES (1);
-- interleaving: A=T1 B=T1(7<>8) : A1 B1 A2 -> both commit
--   alone it does not deadlock: B1 waits for A (ledger#1); A2's foreign-key check proceeds; A
--   commits; B continues. A transaction that locks accounts#1 FOR UPDATE and then ledger#1, as the
--   declared order says, closes a cycle with it.
