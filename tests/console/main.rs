//! The console's tests, one binary: the reducer, the views (insta snapshots), the SDK reads and
//! operations against the embedded emulator, and the real binary in a pseudo-terminal. Each
//! module was once its own test binary and keeps that name.

#[path = "../support/common.rs"]
mod common;
mod fixtures;

mod console_aws;
mod console_pty;
mod console_update;
mod console_views;
