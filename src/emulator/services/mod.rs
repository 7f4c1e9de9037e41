//! One module per AWS service.

pub mod sts;
