class ApplicationRecord < ActiveRecord::Base
  self.abstract_class = true
end

class Account < ApplicationRecord
end

class Payment < ApplicationRecord
  belongs_to :account
end
