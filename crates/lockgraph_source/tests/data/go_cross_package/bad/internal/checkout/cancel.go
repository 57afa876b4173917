package checkout

import (
	"context"

	inv "example.com/shop/internal/inventory"
)

// Cancel releases the stock, then marks the order cancelled (a method of Service declared in
// service.go, using its `orders` field).
func (s *Service) Cancel(ctx context.Context, orderID int64, sku string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := inv.Release(ctx, tx, sku); err != nil {
		return err
	}
	if err := s.orders.MarkCancelled(ctx, tx, orderID); err != nil {
		return err
	}
	return tx.Commit()
}
