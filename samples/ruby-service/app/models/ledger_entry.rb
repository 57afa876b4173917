# One leg of a transfer.
class LedgerEntry < ApplicationRecord
  belongs_to :account

  scope :pending, -> { where(status: "pending") }

  def pending?
    status == "pending"
  end
end
