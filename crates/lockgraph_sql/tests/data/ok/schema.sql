-- A migrations-style schema: every statement here must infer without a problem.
CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    balance numeric(12, 2) NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    total numeric(12, 2),
    status varchar(20) DEFAULT 'new' CHECK (status IN ('new', 'paid'))
);
CREATE TABLE "Order Items" (order_id bigint REFERENCES orders ON DELETE CASCADE, line int, PRIMARY KEY (order_id, line));
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v jsonb);
CREATE TEMP TABLE scratch (x int);
CREATE TABLE events (id bigint, day date NOT NULL) PARTITION BY RANGE (day);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE archive AS SELECT * FROM orders WHERE status = 'paid';
CREATE TABLE accounts_copy (LIKE accounts INCLUDING ALL);
CREATE INDEX orders_account_id_idx ON orders (account_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_lower_email ON accounts (lower(email));
CREATE INDEX ON orders USING btree (total DESC NULLS LAST) WHERE status = 'paid';
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ADD COLUMN ref uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ALTER COLUMN note SET DEFAULT '', ALTER COLUMN total SET NOT NULL;
ALTER TABLE orders ALTER COLUMN status TYPE text;
ALTER TABLE orders ALTER COLUMN note SET STATISTICS 200;
ALTER TABLE orders ALTER COLUMN note SET (n_distinct = -1);
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;
ALTER TABLE orders ADD CONSTRAINT orders_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_account_fk;
ALTER TABLE orders SET (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE orders CLUSTER ON orders_pkey;
ALTER TABLE orders SET WITHOUT CLUSTER;
ALTER TABLE orders SET TABLESPACE pg_default;
ALTER TABLE orders OWNER TO app;
ALTER TABLE orders RENAME COLUMN note TO remark;
ALTER TABLE IF EXISTS ONLY orders REPLICA IDENTITY FULL;
ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY;
ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE cache SET LOGGED;
ALTER MATERIALIZED VIEW daily SET (fillfactor = 50);
CREATE MATERIALIZED VIEW daily AS SELECT date_trunc('day', created_at) d, count(*) FROM accounts GROUP BY 1;
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE OR REPLACE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE PROCEDURE touch();
CREATE CONSTRAINT TRIGGER orders_check AFTER INSERT ON orders DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_order();
DROP TRIGGER IF EXISTS orders_touch ON orders;
CREATE POLICY own ON orders FOR SELECT USING (account_id = current_setting('app.account')::bigint);
CREATE STATISTICS IF NOT EXISTS orders_stats (ndistinct, dependencies) ON account_id, status FROM orders;
COMMENT ON TABLE orders IS 'customer orders';
COMMENT ON COLUMN orders.total IS 'in cents';
COMMENT ON INDEX orders_account_id_idx IS 'lookup';
DROP INDEX IF EXISTS orders_account_id_idx;
DROP INDEX CONCURRENTLY accounts_lower_email;
DROP TABLE IF EXISTS archive, accounts_copy CASCADE;
DROP MATERIALIZED VIEW IF EXISTS daily;
DROP VIEW big_orders;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA IF NOT EXISTS billing;
CREATE SEQUENCE order_seq START 100;
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now(); -- a semicolon inside a dollar quote
    RETURN NEW;
END $$;
CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT a + b;
END;
GRANT SELECT, INSERT ON orders TO app;
REVOKE ALL ON accounts FROM PUBLIC;
