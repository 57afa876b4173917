use diesel::prelude::*;
use diesel::sql_types::BigInt;

pub fn withdraw(conn: &mut PgConnection, account_id: i64, amt: i64) -> QueryResult<usize> {
    use crate::schema::accounts::dsl::*;
    diesel::update(accounts.find(account_id))
        .set(balance.eq(balance - amt))
        .execute(conn)
}

pub fn touch(conn: &mut PgConnection, account_id: i64) -> QueryResult<usize> {
    diesel::sql_query("UPDATE accounts SET balance = balance WHERE id = $1")
        .bind::<BigInt, _>(account_id)
        .execute(conn)
}
