-- Sign-up: create customer 3 and an empty EUR wallet for them (parent row first, then the FK child).
-- Fine: new rows only; the FK check of the account insert locks our own new customer row.
BEGIN;
INSERT INTO customers (id, email, full_name) VALUES (3, 'carol@example.com', 'Carol Example');
INSERT INTO accounts (id, customer_id, currency) VALUES (3, 3, 'EUR');
COMMIT;
