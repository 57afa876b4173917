class Item < ApplicationRecord
  self.table_name = "inventory_items"
end
