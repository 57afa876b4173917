-- Each statement here must yield a problem (and never a panic).
SELECT FROM WHERE;
SELEC * FROM accounts;
UPDATE accounts SET WHERE id = 1;
INSERT INTO accounts VALUES (1,);
SELECT * FROM accounts WHERE id = = 1 FOR UPDATE;
DELETE accounts WHERE;
CREATE TABLE broken (id int PRIMARY KEY,,);
MERGE INTO a USING b ON WHEN MATCHED THEN DELETE;
SELECT * FROM t WHERE x IN (((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))));
UPDATE t SET a = 1 WHERE id = 1 RETURNING * EXTRA TOKENS;
