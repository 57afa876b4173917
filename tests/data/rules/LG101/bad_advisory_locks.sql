-- LG101 bad: two jobs take the same two transaction-level advisory locks in opposite orders.
-- (no tables needed)

-- T1: take advisory lock 1, then 2
BEGIN;
SELECT pg_advisory_xact_lock(1);
SELECT pg_advisory_xact_lock(2);
COMMIT;

-- T2: take advisory lock 2, then 1
BEGIN;
SELECT pg_advisory_xact_lock(2);
SELECT pg_advisory_xact_lock(1);
COMMIT;

-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> deadlock
--   A holds advisory 1, B holds advisory 2; A2 waits for B, B2 waits for A: ERROR 40P01.
