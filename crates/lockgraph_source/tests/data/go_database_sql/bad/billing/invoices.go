package billing

import (
	"context"
	"database/sql"
)

// PayInvoice marks the invoice paid, then charges the customer (lib/pq: `$n`).
func PayInvoice(ctx context.Context, db *sql.DB, invoiceID, customerID int64) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE invoices SET paid = true WHERE id = $1", invoiceID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE customers SET balance = balance - 1 WHERE id = $1", customerID); err != nil {
		return err
	}
	return tx.Commit()
}
