class StockLevel < ApplicationRecord
end
