// Package stock reserves items for carts.
package stock

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
)

// ReserveAll locks and decrements every item of a cart, in key order: two carts with the same
// items lock them in the same order.
func ReserveAll(ctx context.Context, conn *pgx.Conn, itemIDs []int64) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	ids := slices.Clone(itemIDs)
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := tx.Exec(ctx, "UPDATE items SET qty = qty - 1 WHERE id = $1", id); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
