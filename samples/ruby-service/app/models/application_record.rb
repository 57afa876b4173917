# Base class of the app's ActiveRecord models.
class ApplicationRecord < ActiveRecord::Base
  self.abstract_class = true
end
