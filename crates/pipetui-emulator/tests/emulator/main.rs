//! The emulator's integration tests, one binary: each module was once its own test binary (the
//! module keeps that name, so `cargo test -p pipetui-emulator emulator_codedeploy::` selects
//! what it did). Every test drives the emulator through the real AWS SDK for Rust in process,
//! raw HTTP over 127.0.0.1 where the SDK does not speak the protocol, or its pure parts directly.

mod codedeploy_support;
mod common;

mod emulator_cloudwatch;
mod emulator_codebuild;
mod emulator_codedeploy;
mod emulator_codedeploy_traffic;
mod emulator_codepipeline;
mod emulator_core;
mod emulator_logs;
mod emulator_pure;
mod fuzz_decoders;
mod hostile_decode;
mod hostile_net;
mod hostile_services;
mod pipeline_release;
mod readme;
mod readme_example;
