package com.shop.repo;

/** Wallet accounts: one balance in cents per owner and currency. */
public interface AccountRepository {

    /** The balance of an account, in cents. */
    long balanceOf(long accountId);

    /** Adds (or, when negative, takes) an amount to an account's balance. */
    void adjustBalance(long accountId, long amountCents);
}
