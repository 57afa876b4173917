import { prisma } from './client';

export async function topUp(walletId: number, userId: number, amount: number) {
  return prisma.$transaction(async (tx) => {
    await tx.wallet.update({
      where: { id: walletId },
      data: { balance: { increment: amount } },
    });
    await tx.user.update({ where: { id: userId }, data: { lastTopUp: new Date() } });
  });
}
