-- LG104 good: only relations named in the declared order (accounts → ledger → orders) count;
-- audit_log and sessions are not in it, so any order between them and the others is allowed.
CREATE TABLE accounts (
    id      bigint PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id   bigint PRIMARY KEY,
    note text
);

CREATE TABLE sessions (
    id   bigint PRIMARY KEY,
    seen bigint
);

BEGIN;
UPDATE sessions SET seen = 1 WHERE id = 3;
UPDATE audit_log SET note = 'x' WHERE id = 9;
UPDATE accounts SET balance = balance - 10 WHERE id = 1;
COMMIT;

-- seed: INSERT INTO accounts (id, balance) VALUES (1, 100);
-- seed: INSERT INTO audit_log (id) VALUES (9);
-- seed: INSERT INTO sessions (id) VALUES (3);
-- interleaving: A=T1 B=T1 : A1 B1 A2 A3 -> both commit
--   B1 waits for A (sessions#3); A finishes and commits; B continues.
