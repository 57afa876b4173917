# Refunds a booked ledger entry (support tooling).
class RefundService
  class AlreadyRefunded < StandardError; end

  # Gives the money of an entry back to its account and marks the entry refunded.
  def call(entry_id)
    ApplicationRecord.transaction do
      entry = LedgerEntry.lock.find(entry_id)
      Account.update_counters(entry.account_id, balance_cents: -entry.amount_cents)
      entry.update!(status: "refunded")
    end
  end
end
