package app;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;

@Entity
class Wallet {
    @Id
    Long id;
    long balance;

    void setBalance(long balance) {
        this.balance = balance;
    }
}

@Entity
class Invoice {
    @Id
    Long id;
    boolean paid;

    void setPaid(boolean paid) {
        this.paid = paid;
    }
}
