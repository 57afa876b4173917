//! A wallet service: settles pending ledger entries and refunds settled ones.

mod db;
mod repo;
mod service;

use repo::ledger::LedgerRepo;
use service::transfer::TransferService;

#[tokio::main]
async fn main() -> sqlx::Result<()> {
    let pool = db::connect().await?;
    let transfers = TransferService::new(pool.clone());
    let args: Vec<i64> = std::env::args().skip(2).filter_map(|a| a.parse().ok()).collect();
    let (entry_id, account_id, amount_cents) = (args[0], args[1], args[2]);
    match std::env::args().nth(1).as_deref() {
        Some("settle") => transfers.settle_entry(entry_id, account_id, amount_cents).await?,
        Some("refund") => {
            service::refund::refund_entry(&pool, &LedgerRepo, entry_id, account_id).await?
        }
        _ => eprintln!("usage: rust-service settle|refund ENTRY ACCOUNT [AMOUNT]"),
    }
    let left = repo::accounts::balance(&pool, account_id).await?;
    println!("account {account_id}: {left} cents");
    Ok(())
}
