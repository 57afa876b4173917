-- LG104 bad: the declared order (lockgraph.toml beside this file) is accounts → ledger → orders;
-- pay_order updates the order row first and the account row after it. No other transaction here
-- locks them the other way round, so there is no cycle (LG101) yet — only the broken convention.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE orders (
    id     bigint PRIMARY KEY,
    status text NOT NULL DEFAULT 'new'
);

-- pay_order: marks order 7 paid, then debits account 1 (orders before accounts)
BEGIN;
UPDATE orders SET status = 'paid' WHERE id = 7;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO orders (id) VALUES (7);
-- interleaving: A=T1 B=T1 : A1 B1 A2 -> both commit
--   alone it does not deadlock: B1 waits for A (orders#7); A2 proceeds; A commits; B continues.
--   The hazard is the convention it breaks: any transaction that follows the declared order
--   (accounts, then orders) closes a cycle with it.
