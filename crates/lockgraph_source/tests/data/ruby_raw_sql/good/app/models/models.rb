class Invoice < ApplicationRecord
end

class Customer < ApplicationRecord
end
