-- orders.customer_id REFERENCES customers (id) is defined in the database, not in this file:
-- static inference cannot know that the INSERT's foreign-key check takes ROW SHARE on
-- customers, and TRUNCATE … CASCADE empties (ACCESS EXCLUSIVE) orders too.
INSERT INTO orders (id, customer_id, total) VALUES (12, 1, 3);
TRUNCATE customers CASCADE;
