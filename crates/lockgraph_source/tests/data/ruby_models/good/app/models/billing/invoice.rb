module Billing
  class Invoice < ApplicationRecord
    self.table_name = "billing_invoices"
    belongs_to :person
  end
end
