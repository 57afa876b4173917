# Settlement of pending transfers (called by the payments worker).
class TransferService
  def self.call(entry_id:, account_id:, amount_cents:)
    new.call(entry_id: entry_id, account_id: account_id, amount_cents: amount_cents)
  end

  def initialize(ledger: LedgerRepository.new)
    @ledger = ledger
  end

  # Books a pending entry: moves the money on the account, then marks the entry settled.
  def call(entry_id:, account_id:, amount_cents:)
    ActiveRecord::Base.transaction do
      account = Account.lock.find(account_id)
      account.update!(balance_cents: account.balance_cents + amount_cents, updated_at: Time.current)
      @ledger.mark_settled(entry_id)
    end
  end

  # Records a pending payout; `call` books it later.
  def request_payout(account_id, amount_cents)
    @ledger.add_entry(account_id, -amount_cents)
  end
end
