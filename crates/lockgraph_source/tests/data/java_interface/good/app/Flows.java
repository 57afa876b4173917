package app;

import app.port.Ledger;
import org.springframework.transaction.annotation.Transactional;

public class Flows {
    @Transactional
    public void settle(Ledger ledger, long entryId, long accountId) {
        ledger.post(entryId);
        ledger.hold(accountId);
    }

    @Transactional
    public void freeze(Ledger ledger, long entryId, long accountId) {
        ledger.post(entryId);
        ledger.hold(accountId);
    }
}
