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

    /**
     * Refunds an entry: credits its amount back to the account, then locks and zeroes the entry.
     * The account is taken first, as {@link TransferService#settle} does: the entry is only read
     * (without a lock) to find the account, and locked after it.
     */
    @Transactional
    public void refund(long entryId) {
        LedgerEntry entry = ledger.findEntry(entryId);
        accounts.adjustBalance(entry.accountId(), -entry.amountCents());
        ledger.lockEntry(entryId);
        ledger.markRefunded(entryId, 0L);
    }
}
