-- An unclosed parenthesis holds semicolons (like psql): one statement, one problem.
INSERT INTO accounts VALUES (1,;
SELECT 2;
