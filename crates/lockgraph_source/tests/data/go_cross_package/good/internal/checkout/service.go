// Package checkout places and cancels orders.
package checkout

import (
	"context"
	"database/sql"

	inv "example.com/shop/internal/inventory"
	"example.com/shop/internal/orders"
)

// Service uses the order repository of another package through a struct field.
type Service struct {
	db     *sql.DB
	orders *orders.Repo
}

// Checkout places the order, then reserves the stock.
func (s *Service) Checkout(ctx context.Context, orderID int64, sku string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.orders.Place(ctx, tx, orderID); err != nil {
		return err
	}
	if err := inv.Reserve(ctx, tx, sku); err != nil {
		return err
	}
	return tx.Commit()
}
