# Writes to the ledger that bypass the model callbacks (the payments worker runs thousands).
class LedgerRepository
  MARK_SETTLED = <<~SQL
    UPDATE ledger_entries
       SET status = 'settled', settled_at = now()
     WHERE id = $1
  SQL

  # Marks a pending entry as settled.
  def mark_settled(entry_id)
    ActiveRecord::Base.connection.exec_query(MARK_SETTLED, "mark_settled", [entry_id])
  end

  # Records a pending entry and returns it.
  def add_entry(account_id, amount_cents)
    LedgerEntry.create!(account_id: account_id, amount_cents: amount_cents)
  end
end
