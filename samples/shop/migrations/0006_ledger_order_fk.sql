-- Link payment and refund ledger entries to their order.
-- HAZARD (LG101, migration vs app): ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE on ledger_entries (the altered table)
-- and then on orders (the referenced table); pay_order.sql writes orders before ledger_entries.
ALTER TABLE ledger_entries
    ADD CONSTRAINT ledger_entries_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id);

CREATE INDEX ledger_entries_order_id_idx ON ledger_entries (order_id);

-- interleaving: A=app/pay_order.sql#T1 B=migrations/0006_ledger_order_fk.sql : A1 B1 A2 A3 -> deadlock
--   A1 pay_order holds RowExclusiveLock on orders; B1 ALTER TABLE holds ShareRowExclusiveLock on ledger_entries and
--   waits for orders; A3 INSERT INTO ledger_entries waits for B: ERROR 40P01.
