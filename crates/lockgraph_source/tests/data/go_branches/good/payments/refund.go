package payments

import (
	"context"
	"database/sql"
)

// Refund credits the wallet back when the payment was paid from one, then marks the payment
// refunded: the payment method before the payment, as Capture does.
func Refund(ctx context.Context, db *sql.DB, paymentID, sourceID int64, fromWallet bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if fromWallet {
		if _, err := tx.ExecContext(ctx, "UPDATE wallets SET balance = balance + 1 WHERE id = $1", sourceID); err != nil {
			return err
		}
	} else {
		if _, err := tx.ExecContext(ctx, "INSERT INTO card_refunds (card_id) VALUES ($1)", sourceID); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE payments SET status = 'refunded' WHERE id = $1", paymentID); err != nil {
		return err
	}
	return tx.Commit()
}
