-- LG101 good: the tables are touched in opposite orders, but on accounts#1 one side only holds FOR KEY SHARE (FK check
-- of a ledger insert) and the other takes FOR NO KEY UPDATE (non-key UPDATE): compatible, so no cycle can close.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE ledger (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    amount     bigint NOT NULL
);

CREATE TABLE monthly_totals (
    id         bigint PRIMARY KEY,
    account_id bigint NOT NULL,
    total      bigint NOT NULL DEFAULT 0
);

-- T1: post an entry for account 1 (FOR KEY SHARE on accounts#1), then add it to monthly total 1
BEGIN;
INSERT INTO ledger (account_id, amount) VALUES (1, 5);
UPDATE monthly_totals SET total = total + 5 WHERE id = 1;
COMMIT;

-- T2: pay interest: monthly total 1 first, then the balance of account 1
BEGIN;
UPDATE monthly_totals SET total = total + 7 WHERE id = 1;
UPDATE accounts SET balance = balance + 7 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO monthly_totals (id, account_id, total) VALUES (1, 1, 0);
-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   A2 waits for B on monthly_totals#1; B2's FOR NO KEY UPDATE on accounts#1 is compatible with A's FOR KEY SHARE,
--   so B commits and A continues.
