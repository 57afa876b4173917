package checkout

import (
	"context"

	inv "example.com/shop/internal/inventory"
)

// Cancel marks the order cancelled, then releases the stock: orders before stock, as
// Checkout does.
func (s *Service) Cancel(ctx context.Context, orderID int64, sku string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.orders.MarkCancelled(ctx, tx, orderID); err != nil {
		return err
	}
	if err := inv.Release(ctx, tx, sku); err != nil {
		return err
	}
	return tx.Commit()
}
