# Refunds a booked ledger entry (support tooling).
class RefundService
  class AlreadyRefunded < StandardError; end

  # Gives the money of an entry back to its account and marks the entry refunded. Like every
  # transaction of the app it locks the account before the entry: the entry's account is read
  # first without a lock.
  def call(entry_id)
    ApplicationRecord.transaction do
      account_id = LedgerEntry.where(id: entry_id).pick(:account_id)
      Account.lock.find(account_id)
      entry = LedgerEntry.lock.find(entry_id)
      Account.update_counters(account_id, balance_cents: -entry.amount_cents)
      entry.update!(status: "refunded")
    end
  end
end
