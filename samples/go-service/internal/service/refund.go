package service

import (
	"context"
	"database/sql"
	"fmt"

	"example.com/wallet/internal/repo"
)

// RefundService reverses settled payouts.
type RefundService struct {
	db       *sql.DB
	accounts *repo.AccountRepo
	ledger   *repo.LedgerRepo
}

// NewRefundService wires the service.
func NewRefundService(db *sql.DB) *RefundService {
	return &RefundService{db: db, accounts: repo.NewAccountRepo(), ledger: repo.NewLedgerRepo()}
}

// Refund reverses a settled entry: it locks the entry, marks it refunded and gives the money
// back to the account.
func (s *RefundService) Refund(ctx context.Context, entryID int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	entry, err := s.ledger.LockEntry(ctx, tx, entryID)
	if err != nil {
		return fmt.Errorf("refund entry %d: %w", entryID, err)
	}
	if err := s.ledger.MarkRefunded(ctx, tx, entryID); err != nil {
		return fmt.Errorf("refund entry %d: %w", entryID, err)
	}
	if err := s.accounts.AdjustBalance(ctx, tx, entry.AccountID, -entry.AmountCents); err != nil {
		return fmt.Errorf("refund entry %d: %w", entryID, err)
	}
	return tx.Commit()
}
