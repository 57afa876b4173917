import { prisma } from './client';

export async function closeAccount(walletId: number, userId: number) {
  const closeUser = prisma.user.update({ where: { id: userId }, data: { closed: true } });
  const freeze = prisma.$executeRaw`UPDATE "Wallet" SET frozen = true WHERE id = ${walletId}`;
  await prisma.$transaction([closeUser, freeze]);
}
