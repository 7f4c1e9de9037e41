//! An AWS-compatible emulator of CodePipeline, CodeBuild, CodeDeploy, CloudFormation, CloudWatch,
//! CloudWatch Logs and STS that really runs pipelines: builds execute their buildspec, deployment
//! hooks run on emulated hosts, alarms evaluate metrics. It speaks the services' real wire
//! protocols, so the official AWS SDK for Rust talks to it unchanged, either in process (no
//! socket, through [`InProcessClient`]) or over HTTP on 127.0.0.1 ([`serve`]).
//!
//! The facade is the handful of names re-exported here: build an [`Emulator`] from an
//! [`EmulatorConfig`], hand the SDK an [`InProcessClient`] (or [`serve`] it), drive time with a
//! [`Clock`], inject a [`Fault`]. The modules below are public for white-box tests and tools and
//! are not a stable interface. See the crate's README for an example.

#[doc(hidden)]
pub mod clock;
#[doc(hidden)]
pub mod cloudformation;
#[doc(hidden)]
pub mod cloudwatch;
mod config;
#[doc(hidden)]
pub mod core;
#[doc(hidden)]
pub mod engine;
#[doc(hidden)]
pub mod faults;
#[doc(hidden)]
pub mod logs;
#[doc(hidden)]
pub mod protocol;
#[doc(hidden)]
pub mod service;
#[doc(hidden)]
pub mod services;
#[doc(hidden)]
pub mod store;
#[doc(hidden)]
pub mod transport;

pub use self::core::{ACCOUNT_ID, Emulator};
pub use clock::Clock;
pub use config::EmulatorConfig;
pub use engine::{EngineHandle, EngineSettings};
pub use faults::Fault;
pub use protocol::ServiceId;
pub use transport::{InProcessClient, Server, ServerLimits, serve, serve_with};
