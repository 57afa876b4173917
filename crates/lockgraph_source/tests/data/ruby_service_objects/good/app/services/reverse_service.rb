class ReverseService
  def initialize(ledger: LedgerRepo.new)
    @ledger = ledger
  end

  def call(id, entry_id)
    ActiveRecord::Base.transaction do
      AccountRepo.new.debit(id, 0)
      @ledger.lock_entry(entry_id)
    end
  end
end
