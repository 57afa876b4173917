class AccountRepo
  def lock(id)
    Account.lock.find(id)
  end

  def debit(id, amount)
    Account.where(id: id).update_all(["balance = balance - ?", amount])
  end
end
