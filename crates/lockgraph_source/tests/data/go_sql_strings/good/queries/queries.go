// Package queries holds the SQL of the jobs.
package queries

// LockAccount locks an account row (a raw string literal).
const LockAccount = `
SELECT id, balance
  FROM accounts
 WHERE id = $1
   FOR UPDATE`

// MarkSwept is built by concatenation.
const MarkSwept = "UPDATE ledger " +
	"SET swept = true " +
	"WHERE account_id = $1"
