class BatchDebit
  def run(ids, amount)
    Account.transaction do
      accounts = Account.where(id: ids).lock.to_a
      accounts.each do |account|
        account.update!(balance: account.balance - amount)
      end
    end
  end
end
