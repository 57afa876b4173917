-- LG102 bad: LOCK TABLE ledger IN SHARE MODE (to read a stable sum) then INSERT INTO ledger.
CREATE TABLE ledger (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    amount bigint NOT NULL
);

-- T1: read a stable total, then append the balancing entry
BEGIN;
LOCK TABLE ledger IN SHARE MODE;
SELECT coalesce(sum(amount), 0) FROM ledger;
INSERT INTO ledger (amount) VALUES (-5);
COMMIT;

-- interleaving: A=T1 B=T1 : A1 B1 A2 B2 A3 B3 -> deadlock
--   both hold ShareLock on ledger; A3 INSERT (RowExclusiveLock) waits for B; B3 waits for A: ERROR 40P01.
