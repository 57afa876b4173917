module People
  def self.rename(person_id, invoice_id)
    Person.transaction do
      Person.lock.find(person_id).update!(name: "x")
      Billing::Invoice.lock.find(invoice_id)
      Category.where(person_id: person_id).lock.first
    end
  end

  def self.archive(person_id, invoice_id)
    Person.transaction do
      Billing::Invoice.lock.find(invoice_id)
      Person.lock.find(person_id)
    end
  end
end
