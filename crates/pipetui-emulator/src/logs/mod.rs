pub mod filter;
mod regex;
pub mod tokens;
