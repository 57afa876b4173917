class Account < ApplicationRecord
end

class LedgerEntry < ApplicationRecord
  belongs_to :account
end
