pub mod checkout;
pub mod orders;
pub mod stock;
