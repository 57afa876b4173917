class Billing
  LOCK_INVOICE = <<~SQL
    SELECT * FROM invoices WHERE id = ? FOR UPDATE
  SQL

  def settle(invoice_id, customer_id)
    ActiveRecord::Base.transaction do
      Invoice.find_by_sql([LOCK_INVOICE, invoice_id])
      ActiveRecord::Base.connection.exec_query(
        "UPDATE customers SET open_invoices = open_invoices - 1 WHERE id = $1",
        "settle",
        [customer_id]
      )
    end
  end

  def dun(customer_id, invoice_id, fee)
    ActiveRecord::Base.transaction do
      ActiveRecord::Base.connection.execute(<<~SQL)
        UPDATE invoices SET fee = fee + #{fee.to_i} WHERE id = #{invoice_id}
      SQL
      Customer.where("id = ? AND balance > ?", customer_id, fee).lock.first
    end
  end
end
