// Package orders stores orders.
package orders

import (
	"context"
	"database/sql"
)

// Repo is the order repository; its methods are in this file and in cancel.go.
type Repo struct{}

// Place records the order as placed.
func (r *Repo) Place(ctx context.Context, tx *sql.Tx, orderID int64) error {
	_, err := tx.ExecContext(ctx, "UPDATE orders SET status = 'placed' WHERE id = $1", orderID)
	return err
}
