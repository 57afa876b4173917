class LedgerRepo
  def lock_entry(entry_id)
    LedgerEntry.lock.find_by(id: entry_id)
  end

  def settle(entry_id)
    LedgerEntry.where(id: entry_id).update_all(status: "settled")
  end
end
