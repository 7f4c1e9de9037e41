use std::path::Path;
use std::process::ExitCode;

use crate::aws::emulator_config;
use crate::config::Loaded;
use pipetui_emulator::{Fault, ServiceId, serve};

/// `pipetui emulator serve`: the emulator on 127.0.0.1 until Ctrl-C.
pub fn serve_command(
    loaded: &Loaded,
    state_dir: &Path,
    port: Option<u16>,
) -> color_eyre::Result<ExitCode> {
    let port = port.unwrap_or(loaded.config.emulator.port);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let emulator = match emulator_config(&loaded.config, state_dir).build() {
            Ok(e) => e,
            Err(e) => {
                eprintln!(
                    "error: cannot open the emulator store in {}: {e}",
                    state_dir.display()
                );
                return Ok(ExitCode::FAILURE);
            }
        };
        for (key, f) in &loaded.config.emulator.faults {
            let (service, operation) = key.split_once(':').map_or((key.as_str(), None), |(s, o)| (s, Some(o)));
            // Validation already refused unknown service names.
            if let Some(service) = ServiceId::from_config_name(service) {
                let fault = Fault {
                    throttle: f.throttle,
                    server_error: f.server_error,
                    drop_connection: f.drop_connection,
                    latency: std::time::Duration::from_millis(f.latency_ms),
                };
                emulator.faults.set(service, operation, fault);
            }
        }
        let _engine = emulator.start_engine();
        let server = match serve(emulator, port).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot listen on 127.0.0.1:{port}: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let mut banner = format!(
            "pipetui emulator listening on http://{} (state in {})\n  aws --endpoint-url http://{} --region us-east-1 sts get-caller-identity\n",
            server.addr,
            state_dir.display(),
            server.addr
        );
        for (key, f) in &loaded.config.emulator.faults {
            banner.push_str(&format!(
                "  fault injection on {key}: throttle {}, server_error {}, drop_connection {}, latency {} ms\n",
                f.throttle, f.server_error, f.drop_connection, f.latency_ms
            ));
        }
        banner.push_str("Press Ctrl-C to stop.\n");
        say(&banner);
        tracing::info!(addr = %server.addr, "emulator serving");
        tokio::signal::ctrl_c().await?;
        server.abort();
        say("stopped\n");
        Ok(ExitCode::SUCCESS)
    })
}

/// Writes to stdout, ignoring failures: the server must keep serving when whoever started it
/// stops reading (a closed pipe would make `println!` panic).
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
