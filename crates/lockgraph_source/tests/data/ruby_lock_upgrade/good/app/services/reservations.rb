class Reservations
  def reserve(stock_id, qty)
    StockLevel.transaction do
      stock = StockLevel.lock.find(stock_id)
      stock.update!(reserved: stock.reserved + qty)
    end
  end
end
