use std::path::Path;
use std::process::ExitCode;

use crate::config::Loaded;
use crate::emulator::{Clock, Emulator, serve};

/// `pipetui emulator serve`: the emulator on 127.0.0.1 until Ctrl-C.
pub fn serve_command(
    loaded: &Loaded,
    state_dir: &Path,
    port: Option<u16>,
) -> color_eyre::Result<ExitCode> {
    let port = port.unwrap_or(loaded.config.emulator.port);
    let clock = Clock::scaled(loaded.config.emulator.clock_speed);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let emulator = match Emulator::open(state_dir, clock) {
            Ok(e) => e,
            Err(e) => {
                eprintln!(
                    "error: cannot open the emulator store in {}: {e}",
                    state_dir.display()
                );
                return Ok(ExitCode::FAILURE);
            }
        };
        let server = match serve(emulator, port).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        println!(
            "pipetui emulator listening on http://{} (state in {})",
            server.addr,
            state_dir.display()
        );
        println!(
            "  aws --endpoint-url http://{} --region us-east-1 sts get-caller-identity",
            server.addr
        );
        println!("Press Ctrl-C to stop.");
        tracing::info!(addr = %server.addr, "emulator serving");
        tokio::signal::ctrl_c().await?;
        server.abort();
        println!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}
