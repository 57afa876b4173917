-- LG101 good: both jobs take advisory lock 1 before advisory lock 2.
-- (no tables needed)

-- T1: take advisory lock 1, then 2
BEGIN;
SELECT pg_advisory_xact_lock(1);
SELECT pg_advisory_xact_lock(2);
COMMIT;

-- T2: also 1, then 2
BEGIN;
SELECT pg_advisory_xact_lock(1);
SELECT pg_advisory_xact_lock(2);
COMMIT;

-- interleaving: A=T1 B=T2 : A1 B1 A2 B2 -> both commit
--   B1 waits for A on advisory 1; A takes 2 and commits; B then takes 1 and 2.
