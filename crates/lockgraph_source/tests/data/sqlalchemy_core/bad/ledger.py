from sqlalchemy import text

engine = None


def post(account_id, entry_id):
    with engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET n = n + 1 WHERE id = :id"), {"id": account_id})
        conn.execute(text("UPDATE entries SET posted = true WHERE id = :id"), {"id": entry_id})


async def unpost(account_id, entry_id):
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE entries SET posted = false WHERE id = :id"), {"id": entry_id})
        await conn.execute(text("UPDATE accounts SET n = n - 1 WHERE id = :id"), {"id": account_id})
