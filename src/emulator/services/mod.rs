//! One module per AWS service.

pub mod cloudformation;
pub mod cloudwatch;
pub mod logs;
pub mod sts;
