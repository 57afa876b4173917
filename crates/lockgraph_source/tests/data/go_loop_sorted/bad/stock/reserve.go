// Package stock reserves items for carts.
package stock

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ReserveAll locks and decrements every item of a cart, in the cart's order.
func ReserveAll(ctx context.Context, conn *pgx.Conn, itemIDs []int64) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, id := range itemIDs {
		if _, err := tx.Exec(ctx, "UPDATE items SET qty = qty - 1 WHERE id = $1", id); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
