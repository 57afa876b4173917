use crate::accounts::{touch, withdraw};
use crate::schema::{audit_log, transfers};
use diesel::prelude::*;

pub fn execute_transfer(conn: &mut PgConnection, transfer_id: i64, account_id: i64) -> QueryResult<()> {
    conn.transaction(|conn| {
        let t = transfers::table
            .filter(transfers::id.eq(transfer_id))
            .for_update()
            .first::<Transfer>(conn)?;
        withdraw(conn, account_id, t.amount)?;
        diesel::update(transfers::table.find(transfer_id))
            .set(transfers::state.eq("done"))
            .execute(conn)?;
        Ok(())
    })
}

pub fn cancel_transfer(conn: &mut PgConnection, transfer_id: i64, account_id: i64) -> QueryResult<()> {
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        transfers::table
            .find(transfer_id)
            .for_update()
            .first::<Transfer>(conn)?;
        touch(conn, account_id)?;
        diesel::delete(transfers::table.filter(transfers::id.eq(transfer_id))).execute(conn)?;
        diesel::insert_into(audit_log::table)
            .values((audit_log::transfer_id.eq(transfer_id), audit_log::note.eq("cancelled")))
            .execute(conn)?;
        Ok(())
    })
}
