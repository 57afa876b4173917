-- A typical migration, wrapped in BEGIN/COMMIT as a runner would run it.
-- Needs: customers (id PRIMARY KEY, name), orders (id PRIMARY KEY, customer_id, total).
BEGIN;
CREATE TABLE shipments (id bigint PRIMARY KEY, order_id int NOT NULL);
ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX orders_total_idx ON orders (total);
ALTER TABLE orders
    ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
UPDATE orders SET note = 'migrated' WHERE id = 10;
LOCK TABLE customers IN SHARE MODE;
COMMIT;
