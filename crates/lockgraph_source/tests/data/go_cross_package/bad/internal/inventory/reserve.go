// Package inventory keeps the stock levels.
package inventory

import (
	"context"
	"database/sql"
)

// Reserve takes one unit of the SKU out of stock.
func Reserve(ctx context.Context, tx *sql.Tx, sku string) error {
	_, err := tx.ExecContext(ctx, "UPDATE stock SET reserved = reserved + 1 WHERE sku = $1", sku)
	return err
}

// Release puts one unit of the SKU back.
func Release(ctx context.Context, tx *sql.Tx, sku string) error {
	_, err := tx.ExecContext(ctx, "UPDATE stock SET reserved = reserved - 1 WHERE sku = $1", sku)
	return err
}
