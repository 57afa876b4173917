class BookingService
  def book(seat_id, booking_id, mode)
    Seat.transaction do
      raise ArgumentError, "no seat" unless seat_id
      case mode
      when :hold
        Seat.lock.find(seat_id)
        Booking.lock.find(booking_id)
      else
        begin
          Seat.where(id: seat_id).update_all(state: "free")
        rescue ActiveRecord::RecordNotFound
          return
        end
      end
    end
  end

  def release(seat_id, booking_id, force)
    Booking.transaction do
      if force
        Seat.lock.find(seat_id)
        Booking.lock.find(booking_id)
      elsif booking_id
        Seat.lock.find(seat_id)
      end
    end
  end
end
