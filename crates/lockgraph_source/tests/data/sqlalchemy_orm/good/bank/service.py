from sqlalchemy import select, update

from bank.models import Transfer, Wallet


def send(session, wallet_id, transfer_id, amount):
    with session.begin():
        wallet = session.execute(
            select(Wallet).where(Wallet.id == wallet_id).with_for_update()
        ).scalar_one()
        wallet.balance = wallet.balance - amount
        session.execute(
            update(Transfer).where(Transfer.id == transfer_id).values(amount=amount)
        )


def reverse(session, wallet_id, transfer_id):
    session.query(Wallet).filter(Wallet.id == wallet_id).with_for_update(nowait=True).one()
    transfer = session.get(Transfer, transfer_id, with_for_update=True)
    session.add(Transfer(wallet_id=wallet_id, amount=0))
    session.commit()
