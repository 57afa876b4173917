package store

import "context"

// Restock puts the order back to pending, then locks the stock row: orders before stock, as
// ShipOrder does.
func (s *Store) Restock(ctx context.Context, itemID, orderID int64) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "UPDATE orders SET status = 'pending' WHERE id = $1", orderID); err != nil {
		return err
	}
	var qty int
	if err := tx.QueryRow(ctx, "SELECT qty FROM stock WHERE item_id = $1 FOR UPDATE", itemID).Scan(&qty); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
