package com.shop.service;

import com.shop.repo.AccountRepository;
import com.shop.repo.LedgerRepository;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Payouts: recorded as pending ledger entries, booked on the account when settled. */
@Service
public class TransferService {

    private final AccountRepository accounts;
    private final LedgerRepository ledger;

    public TransferService(AccountRepository accounts, LedgerRepository ledger) {
        this.accounts = accounts;
        this.ledger = ledger;
    }

    /** Records a pending payout and returns its entry id; {@link #settle} books it later. */
    public long requestPayout(long accountId, long amountCents) {
        return ledger.addEntry(accountId, -amountCents);
    }

    /** Books a pending entry: moves the money on the account, then marks the entry settled. */
    @Transactional
    public void settle(long entryId, long accountId, long amountCents) {
        accounts.adjustBalance(accountId, amountCents);
        ledger.markSettled(entryId);
    }
}
