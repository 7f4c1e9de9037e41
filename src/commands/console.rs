//! `pipetui` / `pipetui console`: connect as the config says, then run the console.

use std::path::Path;
use std::process::ExitCode;

use crate::aws::Session;
use crate::config::Loaded;

pub fn run(loaded: &Loaded, state_dir: &Path) -> color_eyre::Result<ExitCode> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        eprintln!(
            "error: the console needs a terminal; for scripts use `pipetui status` (table or --output json)"
        );
        return Ok(ExitCode::from(crate::EXIT_USAGE));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let session = match runtime.block_on(Session::open(&loaded.config, state_dir)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    // The worker's tasks run on this runtime, where the clients were built.
    let _guard = runtime.enter();
    crate::console::run(session, loaded, state_dir)
}
