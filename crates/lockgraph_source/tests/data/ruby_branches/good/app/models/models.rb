class Seat < ApplicationRecord
end

class Booking < ApplicationRecord
end
