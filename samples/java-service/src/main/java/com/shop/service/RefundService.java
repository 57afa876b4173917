package com.shop.service;

import com.shop.model.LedgerEntry;
import com.shop.repo.AccountRepository;
import com.shop.repo.LedgerRepository;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Refunds of settled payouts: the entry is zeroed and its amount goes back to the account. */
@Service
public class RefundService {

    private final LedgerRepository ledger;
    private final AccountRepository accounts;

    public RefundService(LedgerRepository ledger, AccountRepository accounts) {
        this.ledger = ledger;
        this.accounts = accounts;
    }

    /** Refunds an entry: locks it, zeroes it, and credits its amount back to the account. */
    @Transactional
    public void refund(long entryId) {
        LedgerEntry entry = ledger.lockEntry(entryId);
        ledger.markRefunded(entryId, 0L);
        accounts.adjustBalance(entry.accountId(), -entry.amountCents());
    }
}
