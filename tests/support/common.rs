//! Helpers shared by the app's test binaries: an embedded emulator on a manual clock and the
//! app's own SDK settings for it (the emulator crate's tests have their own, without the app).
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use pipetui::aws::{ConnectionSettings, Endpoint, embedded_sdk_config};
use pipetui_emulator::{Clock, Emulator};

/// 2026-01-01T00:00:00Z, a period boundary.
pub const START: f64 = 1_767_225_600.0;

/// SDK settings for the embedded emulator with `attempts` tries per call.
pub fn settings(attempts: u32) -> ConnectionSettings {
    ConnectionSettings {
        endpoint: Endpoint::Embedded,
        region: Some("us-east-1".into()),
        max_attempts: attempts,
        connect_timeout: Duration::from_secs(2),
        operation_timeout: Duration::from_secs(30),
        ..Default::default()
    }
}

/// An in-memory emulator whose clock stands at [`START`] until a test advances it.
pub fn emulator() -> Arc<Emulator> {
    Emulator::in_memory(Clock::manual(START)).expect("emulator")
}

/// The SDK configuration that reaches `emu` in process, one attempt per call.
pub fn sdk_config(emu: &Arc<Emulator>) -> aws_config::SdkConfig {
    embedded_sdk_config(emu.clone(), &settings(1))
}
