package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store holds the pool; its methods are spread over the package's files.
type Store struct {
	pool *pgxpool.Pool
}

// ShipOrder marks the order shipped, then takes the item from stock, in pgx.BeginFunc.
func (s *Store) ShipOrder(ctx context.Context, orderID, itemID int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE orders SET status = 'shipped' WHERE id = $1", orderID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE stock SET qty = qty - 1 WHERE item_id = $1", itemID)
		return err
	})
}
