package app.model;

import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.ManyToOne;

/** No @Table: the table is `payment_order`. */
@Entity
public class PaymentOrder {
    @Id
    @GeneratedValue
    private Long id;

    private String reference;

    private String status;

    @ManyToOne
    private Account account;
}
