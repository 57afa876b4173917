pub const CLOSE_INVOICE: &str = "UPDATE invoices SET status = $1 WHERE id = $2";
pub const CHARGE: &str = r#"UPDATE customers
    SET balance = balance - $1
    WHERE id = $2"#;
