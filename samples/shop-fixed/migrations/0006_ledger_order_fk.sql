-- Link payment and refund ledger entries to their order.
-- FIXED: ADD FOREIGN KEY locks the altered table (ledger_entries) before the referenced one (orders), which is the
-- reverse of the app's order; the migration first locks orders explicitly in the mode the constraint needs, so it
-- takes orders before ledger_entries like pay_order.sql and cancel_order.sql do.
LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE ledger_entries
    ADD CONSTRAINT ledger_entries_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id);

CREATE INDEX ledger_entries_order_id_idx ON ledger_entries (order_id);

-- interleaving: A=app/pay_order.sql#T1 B=migrations/0006_ledger_order_fk.sql : A1 B1 A2 A3 -> both commit
--   B1 (LOCK TABLE orders) waits for pay_order's RowExclusiveLock on orders while holding nothing; A commits; B runs.
