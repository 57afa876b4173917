require_relative "../repositories/account_repo"

class SettleService
  def self.call(id, entry_id, amount)
    new.call(id, entry_id, amount)
  end

  def initialize
    @accounts = AccountRepo.new
    @ledger = LedgerRepo.new
  end

  def call(id, entry_id, amount)
    ActiveRecord::Base.transaction do
      @accounts.lock(id)
      @accounts.debit(id, amount)
      @ledger.settle(entry_id)
    end
  end
end
