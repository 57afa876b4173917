class Person < ApplicationRecord
  has_many :addresses
end
