import { LedgerRepo } from './repo/ledger';
import { RefundService } from './services/refund';
import { settleEntry } from './services/transfer';

const refunds = new RefundService(new LedgerRepo());

export async function handle(kind: string, entryId: number, accountId: number, amount: number) {
  switch (kind) {
    case 'settle':
      await settleEntry(entryId, accountId, amount);
      return { ok: true };
    case 'refund':
      return { ok: await refunds.refund(entryId, accountId) };
    default:
      return { ok: false, error: `unknown operation ${kind}` };
  }
}
