-- Wallet statement for customer 1: balances and the latest ledger entries, from one snapshot.
-- Fine: plain reads (ACCESS SHARE only), accounts before ledger_entries.
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SELECT id, currency, balance_cents FROM accounts WHERE customer_id = 1;
SELECT le.created_at, le.kind, le.amount_cents
  FROM accounts a
  JOIN ledger_entries le ON le.account_id = a.id
 WHERE a.customer_id = 1
 ORDER BY le.created_at DESC
 LIMIT 20;
COMMIT;
