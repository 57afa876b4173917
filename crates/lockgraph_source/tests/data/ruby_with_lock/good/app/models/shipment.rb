class Shipment < ApplicationRecord
  belongs_to :order
end
