//! The embedded AWS-compatible emulator: wire protocols kept apart from service logic, a durable
//! SQLite store, an in-process transport for the SDK and a 127.0.0.1 server for other clients.

pub mod clock;
pub mod cloudformation;
pub mod cloudwatch;
pub mod core;
pub mod engine;
pub mod faults;
pub mod logs;
pub mod protocol;
pub mod service;
pub mod services;
pub mod store;
pub mod transport;

pub use self::core::{ACCOUNT_ID, Emulator};
pub use clock::Clock;
pub use engine::{EngineHandle, EngineSettings};
pub use transport::{InProcessClient, serve};
