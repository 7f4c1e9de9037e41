//! One module per AWS service.

pub mod cloudwatch;
pub mod logs;
pub mod sts;
