package orders

import (
	"context"
	"database/sql"
)

// MarkCancelled records the order as cancelled.
func (r *Repo) MarkCancelled(ctx context.Context, tx *sql.Tx, orderID int64) error {
	_, err := tx.ExecContext(ctx, "UPDATE orders SET status = 'cancelled' WHERE id = $1", orderID)
	return err
}
