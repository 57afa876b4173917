-- The INSERT's foreign-key check takes FOR KEY SHARE on the account row; the FOR UPDATE then
-- upgrades it (LG102) — visible only with the foreign key from ddl/schema.sql.
BEGIN;
INSERT INTO orders (id, account_id) VALUES (1, 1);
SELECT balance FROM accounts WHERE id = 1 FOR UPDATE;
COMMIT;
