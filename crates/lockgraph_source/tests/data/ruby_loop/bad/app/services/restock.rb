class Restock
  def call(item_ids)
    Item.transaction do
      item_ids.each do |id|
        Item.lock.find(id).increment!(:quantity, 10)
      end
    end
  end
end
