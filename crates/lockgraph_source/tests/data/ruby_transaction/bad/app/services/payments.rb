class Payments
  def pay(account_id, payment_id)
    ActiveRecord::Base.transaction do
      account = Account.lock.find(account_id)
      account.update!(balance: account.balance - 1)
      Payment.transaction(requires_new: true) do
        Payment.where(id: payment_id).update_all(status: "paid")
      end
    end
  end

  def cancel(account_id, payment_id)
    payment = Payment.find(payment_id)
    payment.transaction do
      payment.lock!
      Account.where(id: account_id).update_all("balance = balance + 1")
    end
  end
end
