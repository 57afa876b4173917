package app.service;

import app.model.Account;
import app.repo.AccountRepository;
import app.repo.PaymentOrderRepository;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

@Service
public class PaymentService {
    private final AccountRepository accounts;
    private final PaymentOrderRepository orders;

    public PaymentService(AccountRepository accounts, PaymentOrderRepository orders) {
        this.accounts = accounts;
        this.orders = orders;
    }

    @Transactional
    public void pay(Long id, String reference) {
        Account account = accounts.findWithLockById(id).orElseThrow();
        account.setBalanceCents(account.getBalanceCents() - 100);
        orders.complete(reference);
    }

    @Transactional
    public void cancel(Long id, String reference) {
        accounts.findWithLockById(id);
        orders.findByReference(reference);
    }
}
