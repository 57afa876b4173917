-- One transaction per file (migration runner): FOR SHARE, then UPDATE of the same row.
SELECT qty FROM inventory WHERE sku_id = 7 FOR SHARE;
UPDATE inventory SET qty = qty - 1 WHERE sku_id = 7;
