package repo

import (
	"context"
	"database/sql"
	"errors"
)

// Entry is one money movement on an account.
type Entry struct {
	ID          int64
	AccountID   int64
	AmountCents int64
	Status      string
}

// LedgerRepo reads and writes ledger entries.
type LedgerRepo struct{}

// NewLedgerRepo returns the ledger repository.
func NewLedgerRepo() *LedgerRepo {
	return &LedgerRepo{}
}

// AddPending records a pending entry (in its own transaction) and returns its id.
func (r *LedgerRepo) AddPending(ctx context.Context, db *sql.DB, accountID, amountCents int64) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx,
		"INSERT INTO ledger_entries (account_id, amount_cents) VALUES ($1, $2) RETURNING id",
		accountID, amountCents,
	).Scan(&id)
	return id, err
}

// Get returns an entry without locking it.
func (r *LedgerRepo) Get(ctx context.Context, tx *sql.Tx, entryID int64) (Entry, error) {
	var e Entry
	err := tx.QueryRowContext(ctx,
		"SELECT id, account_id, amount_cents, status FROM ledger_entries WHERE id = $1",
		entryID,
	).Scan(&e.ID, &e.AccountID, &e.AmountCents, &e.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	return e, err
}

// MarkSettled marks a pending entry as settled.
func (r *LedgerRepo) MarkSettled(ctx context.Context, tx *sql.Tx, entryID int64) error {
	_, err := tx.ExecContext(ctx,
		"UPDATE ledger_entries SET status = 'settled', settled_at = now() WHERE id = $1 AND status = 'pending'",
		entryID,
	)
	return err
}

// ErrNotSettled is returned when an entry to refund is not (or no longer) settled.
var ErrNotSettled = errors.New("entry is not settled")

// MarkRefunded marks a settled entry as refunded; ErrNotSettled when it was not settled.
func (r *LedgerRepo) MarkRefunded(ctx context.Context, tx *sql.Tx, entryID int64) error {
	res, err := tx.ExecContext(ctx,
		"UPDATE ledger_entries SET status = 'refunded' WHERE id = $1 AND status = 'settled'",
		entryID,
	)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return ErrNotSettled
	}
	return nil
}
