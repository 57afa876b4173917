package app;

import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import org.springframework.transaction.annotation.Transactional;

class Billing {
    private final EntityManager em;

    Billing(EntityManager em) {
        this.em = em;
    }

    @Transactional
    void pay(long walletId, long invoiceId) {
        Wallet w = em.find(Wallet.class, walletId, LockModeType.PESSIMISTIC_WRITE);
        w.setBalance(w.balance - 10);
        Invoice inv = em.find(Invoice.class, invoiceId);
        inv.setPaid(true);
    }

    @Transactional
    void refund(long walletId, long invoiceId) {
        Invoice inv = em.find(Invoice.class, invoiceId);
        em.lock(inv, LockModeType.PESSIMISTIC_WRITE);
        Wallet w = em.find(Wallet.class, walletId, LockModeType.PESSIMISTIC_WRITE);
        w.setBalance(w.balance + 10);
        em.persist(new Invoice());
    }
}
