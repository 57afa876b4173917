package billing

import "database/sql"

// CloseCustomer locks the customer, then cancels the invoice (MySQL driver style: `?`).
func CloseCustomer(db *sql.DB, customerID, invoiceID int64) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	var id int64
	if err := tx.QueryRow("SELECT id FROM customers WHERE id = ? FOR UPDATE", customerID).Scan(&id); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.Exec("UPDATE invoices SET cancelled = true WHERE id = ?", invoiceID); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec("INSERT INTO audit_log (msg) VALUES (?)", "closed")
	return err
}
