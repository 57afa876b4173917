class Order < ApplicationRecord
  has_many :shipments
end
