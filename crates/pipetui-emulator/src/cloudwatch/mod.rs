pub mod evaluate;
pub mod limits;
