class Wallets
  def credit(wallet_id, transfer_id, amount)
    Wallet.transaction do
      Wallet.update_counters(wallet_id, balance: amount)
      Transfer.where(id: transfer_id).update_all(state: "booked")
      AuditEvent.insert_all([{ kind: "credit", amount: amount }])
    end
  end

  def purge(wallet_id, transfer_id)
    Wallet.transaction do
      wallet = Wallet.find(wallet_id)
      wallet.decrement!(:transfer_count)
      Transfer.where(id: transfer_id).delete_all
      AuditEvent.create!(kind: "purge", wallet_id: wallet_id)
    end
  end
end
