import { prisma } from './client';

export async function closeAccount(walletId: number, userId: number) {
  const closeUser = prisma.user.update({ where: { id: userId }, data: { closed: true } });
  const freeze = prisma.$executeRaw`UPDATE "Wallet" SET frozen = true WHERE id = ${walletId}`;
  // The wallet first, as in topUp.
  await prisma.$transaction([freeze, closeUser]);
}
