// Package jobs runs the nightly jobs.
package jobs

import (
	"context"
	"database/sql"
	"fmt"

	"example.com/bank/queries"
)

const touchLedger = "UPDATE ledger SET checked_at = now()"

// Sweep locks the account, then marks its ledger rows swept.
func Sweep(ctx context.Context, tx *sql.Tx, accountID int64) error {
	if _, err := tx.ExecContext(ctx, queries.LockAccount, accountID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, queries.MarkSwept, accountID)
	return err
}

// Audit touches the account, then its ledger rows (fmt.Sprintf and +=), as Sweep does.
func Audit(ctx context.Context, db *sql.DB, accountID int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt := fmt.Sprintf("UPDATE accounts SET audited = true WHERE id = %d", accountID)
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return err
	}
	q := touchLedger
	q += " WHERE account_id = $1"
	if _, err := tx.ExecContext(ctx, q, accountID); err != nil {
		return err
	}
	return tx.Commit()
}

// RunSweep runs Sweep in its own transaction.
func RunSweep(ctx context.Context, db *sql.DB, accountID int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := Sweep(ctx, tx, accountID); err != nil {
		return err
	}
	return tx.Commit()
}
