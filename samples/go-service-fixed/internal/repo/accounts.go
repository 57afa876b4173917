// Package repo is the data access layer. Its methods run on the caller's transaction.
package repo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// AccountRepo reads and writes wallet accounts.
type AccountRepo struct{}

// NewAccountRepo returns the account repository.
func NewAccountRepo() *AccountRepo {
	return &AccountRepo{}
}

const adjustBalanceSQL = `
UPDATE accounts
   SET balance_cents = balance_cents + $2, updated_at = now()
 WHERE id = $1`

// AdjustBalance adds deltaCents (negative for a debit) to the balance of the account.
func (r *AccountRepo) AdjustBalance(ctx context.Context, tx *sql.Tx, accountID, deltaCents int64) error {
	res, err := tx.ExecContext(ctx, adjustBalanceSQL, accountID, deltaCents)
	if err != nil {
		return fmt.Errorf("adjust balance of account %d: %w", accountID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrNotFound
	}
	return nil
}

// Balance returns the balance of an account, in cents.
func (r *AccountRepo) Balance(ctx context.Context, db *sql.DB, accountID int64) (int64, error) {
	var cents int64
	err := db.QueryRowContext(ctx, "SELECT balance_cents FROM accounts WHERE id = $1", accountID).Scan(&cents)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return cents, err
}
