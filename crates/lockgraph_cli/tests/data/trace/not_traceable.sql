-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block: reported, not run.
CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
ALTER TABLE orders ADD COLUMN note text;
