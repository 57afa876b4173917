package app.port;

public interface Ledger {
    void post(long entryId);

    void hold(long accountId);
}
