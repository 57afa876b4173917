class Fulfilment
  def ship(order_id, shipment_id)
    order = Order.find(order_id)
    order.with_lock do
      order.update!(state: "shipped")
      Shipment.where(id: shipment_id).update_all(state: "sent")
    end
  end

  def cancel(order_id, shipment_id)
    order = Order.find(order_id)
    order.with_lock("FOR UPDATE NOWAIT") do
      Shipment.where(id: shipment_id).update_all(state: "void")
      order.update!(state: "cancelled")
    end
  end
end
