// Package payments captures and refunds payments.
package payments

import (
	"context"
	"database/sql"
)

// Capture debits the payment method (a switch), then marks the payment captured.
func Capture(ctx context.Context, db *sql.DB, paymentID, sourceID int64, method string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	switch method {
	case "card":
		_, err = tx.ExecContext(ctx, "UPDATE cards SET captured = captured + 1 WHERE id = $1", sourceID)
	case "wallet":
		_, err = tx.ExecContext(ctx, "UPDATE wallets SET balance = balance - 1 WHERE id = $1", sourceID)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE payments SET status = 'captured' WHERE id = $1", paymentID); err != nil {
		return err
	}
	return tx.Commit()
}
