package app.repo;

import app.model.PaymentOrder;
import jakarta.persistence.LockModeType;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Modifying;
import org.springframework.data.jpa.repository.Query;
import org.springframework.data.repository.query.Param;

public interface PaymentOrderRepository extends JpaRepository<PaymentOrder, Long> {
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    PaymentOrder findByReference(String reference);

    @Modifying
    @Query(value = "UPDATE payment_order SET status = 'done' WHERE reference = :ref", nativeQuery = true)
    int complete(@Param("ref") String reference);
}
