//! pipetui's integration tests outside the console, one binary: config, templates, the example
//! stacks, provisioning on the embedded emulator, AWS error sentences, the audit log and the CLI.
//! Each module was once its own test binary and keeps that name.

#[path = "../support/common.rs"]
mod common;

mod audit;
mod aws_errors;
mod cfn_engine;
mod cli;
mod config;
mod emulator_cloudformation;
mod hostile;
mod provision;
mod stack_examples;
mod template;
mod template_security;
