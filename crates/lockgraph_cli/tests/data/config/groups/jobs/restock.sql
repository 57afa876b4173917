-- Two concurrent runs both take FOR SHARE on the row, then both ask for FOR NO KEY UPDATE (LG102).
BEGIN;
SELECT qty FROM inventory WHERE sku_id = 7 FOR SHARE;
UPDATE inventory SET qty = qty - 1 WHERE sku_id = 7;
COMMIT;
