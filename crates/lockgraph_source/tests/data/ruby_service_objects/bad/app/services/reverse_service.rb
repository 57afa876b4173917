class ReverseService
  def initialize(ledger: LedgerRepo.new)
    @ledger = ledger
  end

  def call(id, entry_id)
    ActiveRecord::Base.transaction do
      @ledger.lock_entry(entry_id)
      AccountRepo.new.debit(id, 0)
    end
  end
end
