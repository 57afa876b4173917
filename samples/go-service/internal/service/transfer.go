// Package service holds the use cases. Each exported method is one database transaction.
package service

import (
	"context"
	"database/sql"
	"fmt"

	"example.com/wallet/internal/repo"
)

// TransferService pays money out of wallets.
type TransferService struct {
	db       *sql.DB
	accounts *repo.AccountRepo
	ledger   *repo.LedgerRepo
}

// NewTransferService wires the service.
func NewTransferService(db *sql.DB) *TransferService {
	return &TransferService{db: db, accounts: repo.NewAccountRepo(), ledger: repo.NewLedgerRepo()}
}

// RequestPayout records a pending payout and returns its entry id; Settle books it later.
func (s *TransferService) RequestPayout(ctx context.Context, accountID, amountCents int64) (int64, error) {
	return s.ledger.AddPending(ctx, s.db, accountID, -amountCents)
}

// Settle books a pending entry: it moves the money on the account, then marks the entry
// settled.
func (s *TransferService) Settle(ctx context.Context, entryID, accountID, amountCents int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	if err := s.accounts.AdjustBalance(ctx, tx, accountID, amountCents); err != nil {
		return fmt.Errorf("settle entry %d: %w", entryID, err)
	}
	if err := s.ledger.MarkSettled(ctx, tx, entryID); err != nil {
		return fmt.Errorf("settle entry %d: %w", entryID, err)
	}
	return tx.Commit()
}
