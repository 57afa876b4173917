class Wallet < ApplicationRecord
  has_many :transfers
end

class Transfer < ApplicationRecord
  belongs_to :wallet
end

class AuditEvent < ApplicationRecord
end
