package payments

import (
	"context"
	"database/sql"
)

// Refund marks the payment refunded, then credits the wallet back when it was paid from one.
func Refund(ctx context.Context, db *sql.DB, paymentID, sourceID int64, fromWallet bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE payments SET status = 'refunded' WHERE id = $1", paymentID); err != nil {
		return err
	}
	if fromWallet {
		if _, err := tx.ExecContext(ctx, "UPDATE wallets SET balance = balance + 1 WHERE id = $1", sourceID); err != nil {
			return err
		}
	} else {
		if _, err := tx.ExecContext(ctx, "INSERT INTO card_refunds (card_id) VALUES ($1)", sourceID); err != nil {
			return err
		}
	}
	return tx.Commit()
}
