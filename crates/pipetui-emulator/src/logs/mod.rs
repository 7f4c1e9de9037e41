pub mod filter;
pub mod tokens;
