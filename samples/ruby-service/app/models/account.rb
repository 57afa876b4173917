# A wallet account; balances are kept in cents.
class Account < ApplicationRecord
  has_many :ledger_entries

  validates :owner_email, presence: true

  def balance
    balance_cents / 100.0
  end
end
