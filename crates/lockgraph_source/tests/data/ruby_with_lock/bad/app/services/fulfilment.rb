class Fulfilment
  def ship(order_id, shipment_id)
    order = Order.find(order_id)
    order.with_lock do
      order.update!(state: "shipped")
      Shipment.where(id: shipment_id).update_all(state: "sent")
    end
  end

  def cancel(order_id, shipment_id)
    shipment = Shipment.find(shipment_id)
    shipment.with_lock("FOR UPDATE NOWAIT") do
      Order.where(id: order_id).update_all(state: "cancelled")
    end
  end
end
